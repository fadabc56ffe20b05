"""Equivalence of ncst's FACodec port with the upstream code, on the same random weights.

Runs only when an environment variable names a local clone (skips cleanly otherwise):

* `NCST_UPSTREAM_FACODEC=<github Plachtaa/FAcodec clone>`: the 24 kHz FAcodec (`dac/`, `modules/`);
* `NCST_UPSTREAM_AMPHION=<github open-mmlab/Amphion clone>`: the same FAcodec as vendored in Amphion
  (`models/codec/facodec`, `modules/dac`), and the NS3 FACodec (`models/codec/ns3_codec`).

Upstream's state dicts load strictly into ours; codes must be identical and outputs within 1e-5.
Upstream imports `munch` only for its training builder and `pyworld` only for its training-time mel
utilities: both are stubbed when missing. Upstream's `dac`,
`modules` and `models` packages are imported from the clone with the clone first on `sys.path`, and the
previous modules of those names (the installed descript-audio-codec's `dac`) are restored afterwards.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import torch

from ncst.codecs.ports.facodec import FAcodec, FAcodecConfig
from ncst.codecs.registry import get_codec

torch.set_num_threads(1)

_SHADOWED = ("dac", "modules", "models", "alias_free_torch", "gradient_reversal", "munch", "pyworld")
TOLERANCE = 1e-5


def _clone(var: str) -> Path:
    value = os.environ.get(var)
    if not value:
        pytest.skip(f"set {var} to a local upstream clone to run the equivalence test")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"{var}={value!r} is not a folder")
    return path


@contextmanager
def _upstream_path(root: Path) -> Iterator[None]:
    """Puts `root` first on sys.path with fresh `dac`/`modules`/`models` packages; restores both after."""
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _SHADOWED}
    for key in saved:
        del sys.modules[key]
    for name in ("munch", "pyworld"):
        try:
            import_module(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.Munch = dict  # type: ignore[attr-defined]
            sys.modules[name] = stub
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
        for key in [k for k in sys.modules if k.split(".")[0] in _SHADOWED]:
            del sys.modules[key]
        sys.modules.update(saved)


def _build_upstream_24k(source: str, root: Path, timbre_norm: bool) -> dict[str, torch.nn.Module]:
    pytest.importorskip("audiotools")  # upstream's dac/model/dac.py imports it at module level
    with _upstream_path(root):
        if source == "facodec":
            dac_model = import_module("dac.model.dac")
            quantize = import_module("modules.quantize")
        else:
            dac_model = import_module("modules.dac.model.dac")
            import_module("models.codec.facodec.modules.commons")  # imports quantize (circular the other way)
            quantize = import_module("models.codec.facodec.modules.quantize")
        torch.manual_seed(0)
        parts = {
            "encoder": dac_model.Encoder(d_model=64, strides=[2, 5, 5, 6], d_latent=1024, causal=True, lstm=2),
            "quantizer": quantize.FAquantizer(
                in_dim=1024,
                n_p_codebooks=1,
                n_c_codebooks=2,
                n_t_codebooks=2,
                n_r_codebooks=3,
                codebook_size=1024,
                codebook_dim=8,
                quantizer_dropout=0.5,
                causal=True,
                separate_prosody_encoder=True,
                timbre_norm=timbre_norm,
            ),
            "decoder": dac_model.Decoder(input_channel=1024, channels=1536, rates=[6, 5, 5, 2], causal=True, lstm=2),
        }
    return {k: v.eval() for k, v in parts.items()}


def _upstream_24k_run(parts: dict[str, Any], wav: torch.Tensor, timbre_norm: bool) -> tuple[torch.Tensor, ...]:
    """Upstream's inference call sequence (Amphion facodec_inference.py / Plachtaa reconstruct.py)."""
    with torch.no_grad():
        z = parts["encoder"](wav)
        if timbre_norm:
            zq, _, _, _, timbre, codes = parts["quantizer"](z, wav, n_c=2, return_codes=True)
            codes = torch.cat(codes, dim=1)  # [p, c, r]
        else:  # the 8-codebook forward() masks the residual at random (training); encode() is deterministic
            (c_c, c_p, c_t, c_r), (z_c, z_p, z_t, z_r) = parts["quantizer"].encode(z, wav, n_c=2)
            codes = torch.cat([c_p, c_c, c_t, c_r], dim=1)
            zq, timbre = z_p + z_c + z_t + z_r, torch.zeros(0)
        return codes, parts["decoder"](zq), z, timbre


@pytest.mark.slow
@pytest.mark.parametrize("timbre_norm", [False, True], ids=["24k", "timbre_norm"])
@pytest.mark.parametrize(
    ("source", "var"), [("facodec", "NCST_UPSTREAM_FACODEC"), ("amphion", "NCST_UPSTREAM_AMPHION")]
)
def test_facodec_24k_matches_upstream(source: str, var: str, timbre_norm: bool) -> None:
    upstream = _build_upstream_24k(source, _clone(var), timbre_norm)
    ours = FAcodec(FAcodecConfig(timbre_norm=timbre_norm)).eval()
    ours.load_parts({k: m.state_dict() for k, m in upstream.items()})  # strict (bar recomputable mel buffers)
    g = torch.Generator().manual_seed(1)
    wav = 0.3 * torch.randn(2, 1, 12000, generator=g)  # 40 frames
    codes, y_up, z_up, timbre_up = _upstream_24k_run(upstream, wav, timbre_norm)
    with torch.no_grad():
        z = ours.encoder(wav)
        our_codes, timbre = ours.encode(wav)
        y = ours.decode(our_codes, timbre)
    assert our_codes.shape == (2, 6 if timbre_norm else 8, 40)
    assert torch.equal(our_codes, codes)
    assert (z - z_up).abs().max().item() < TOLERANCE
    assert (y - y_up).abs().max().item() < TOLERANCE
    if timbre_norm:
        assert timbre is not None and (timbre - timbre_up).abs().max().item() < TOLERANCE

    # the adapter (padding, Codes, decode) on the same weights
    codec = get_codec("facodec@timbre_norm" if timbre_norm else "facodec").load("random")
    codec.model = ours  # type: ignore[attr-defined]
    got = codec.encode(wav[:, 0])
    assert torch.equal(got.levels[0], codes)
    assert (codec.decode(got) - y_up[:, 0]).abs().max().item() < TOLERANCE


@pytest.mark.slow
def test_facodec_ns3_matches_upstream() -> None:
    root = _clone("NCST_UPSTREAM_AMPHION")
    pytest.importorskip("librosa")  # upstream's ns3_codec/melspec.py imports it at module level
    with _upstream_path(root):
        ns3 = import_module("models.codec.ns3_codec")
        torch.manual_seed(0)
        encoder = ns3.FACodecEncoder(ngf=32, up_ratios=[2, 4, 5, 5], out_channels=256).eval()
        decoder = ns3.FACodecDecoder(  # the README's arguments
            in_channels=256,
            upsample_initial_channel=1024,
            ngf=32,
            up_ratios=[5, 5, 4, 2],
            vq_num_q_c=2,
            vq_num_q_p=1,
            vq_num_q_r=3,
            vq_dim=256,
            codebook_dim=8,
            codebook_size_prosody=10,
            codebook_size_content=10,
            codebook_size_residual=10,
            use_gr_x_timbre=True,
            use_gr_residual_f0=True,
            use_gr_residual_phone=True,
        ).eval()
    codec = get_codec("facodec@ns3").load("random")
    ours = codec.model  # type: ignore[attr-defined]
    ours.load_parts(encoder.state_dict(), decoder.state_dict())  # strict, bar the training-only predictors
    g = torch.Generator().manual_seed(1)
    wav = 0.3 * torch.randn(2, 8000, generator=g)  # 40 frames each
    got = codec.encode(wav)
    y = codec.decode(got)
    for i in range(2):  # upstream one utterance at a time (its batch adds the batch index's position code)
        with torch.no_grad():
            latent = encoder(wav[i : i + 1, None])
            emb, vq_id, _, _, speaker = decoder(latent, eval_vq=False, vq=True)
            y_up = decoder.inference(emb, speaker)[:, 0]
            emb_diff = (decoder.vq2emb(vq_id) - ours.decoder.dequantize(got.levels[0][i : i + 1])).abs().max()
        assert torch.equal(got.levels[0][i], vq_id[:, 0])  # upstream codes are [6, B, T]
        assert (got.extra["speaker"][i] - speaker[0]).abs().max().item() < TOLERANCE
        assert emb_diff.item() < TOLERANCE
        assert (y[i] - y_up[0]).abs().max().item() < TOLERANCE
