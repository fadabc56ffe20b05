"""Equivalence of ncst's FACodec port and adapters with the upstream code, on the same random weights.

Runs only when an environment variable names a local clone (skips cleanly otherwise):

* `NCST_UPSTREAM_FACODEC=<github Plachtaa/FAcodec clone>`: the 24 kHz FAcodec (`dac/`, `modules/`);
* `NCST_UPSTREAM_AMPHION=<github open-mmlab/Amphion clone>`: the same FAcodec as vendored in Amphion
  (`models/codec/facodec`, `modules/dac`), and the NS3 FACodec (`models/codec/ns3_codec`).

Upstream's modules are built with every parameter randomised (`upstream_params.randomise_`: weight-norm
magnitudes apart from their directions, Snake alphas, norm scales and shifts, codebooks and their
projections, LSTMs, biases), the waveform decoder's activations at unit RMS layer by layer and its output
at RMS 0.1; they are saved in the released layout (`pytorch_model.bin` holding `{'net': ...}`; the two NS3
`.bin` state dicts) and loaded through `get_codec(...).load(folder)`. On two clearly different clips off
the hop, codes must be identical and audio (and the timbre / speaker vectors) within 1e-4 of upstream's
RMS. Upstream imports `munch` only for its training builder and `pyworld` only for its training-time mel
utilities: both are stubbed when missing. Upstream's `dac`, `modules` and `models` packages are imported
from the clone with the clone first on `sys.path`, and the previous modules of those names (the installed
descript-audio-codec's `dac`) are restored afterwards.
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
from upstream_params import (
    normalise_activations_,
    randomise_,
    relative_change,
    relative_error,
    rms,
    scale_output_,
    scale_params,
    speech_like,
)

from ncst.codecs.registry import get_codec

torch.set_num_threads(1)

_SHADOWED = ("dac", "modules", "models", "alias_free_torch", "gradient_reversal", "munch", "pyworld")
RELATIVE_TOLERANCE = 1e-4
CONVS = (torch.nn.Conv1d, torch.nn.ConvTranspose1d)
LENGTH = 12_007
PADDED = 12_300  # 41 frames of 300 samples


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
    """Upstream's encoder, quantizer and decoder with every parameter randomised, decoder at speech-like levels."""
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
    parts = {k: v.eval() for k, v in parts.items()}
    g = torch.Generator().manual_seed(1)
    for module in parts.values():
        randomise_(module, g)
    calib = speech_like(24_000, 24000, 100)[:, None]
    with torch.no_grad():
        *_, zq = _upstream_24k_run(parts, calib, timbre_norm)
    decoder = parts["decoder"]
    convs = [m for m in decoder.modules() if isinstance(m, CONVS)]
    normalise_activations_(convs[:-1], lambda: _fresh(decoder)(zq))
    scale_output_(scale_params(convs[-1]), lambda: rms(_fresh(decoder)(zq)))
    return parts


def _fresh(*modules: torch.nn.Module) -> torch.nn.Module:
    """Clears the LSTM state Amphion's `SLSTM` carries from one eval call to the next; returns the first module.

    (Amphion's copy keeps `self.hidden` between calls, so its output for one utterance depends on the one
    before; Plachtaa's does not. Each comparison here starts from a fresh state, as a first call does.)
    """
    for module in modules:
        for sub in module.modules():
            if hasattr(sub, "hidden"):
                sub.hidden = None
    return modules[0]


def _upstream_24k_run(parts: dict[str, Any], wav: torch.Tensor, timbre_norm: bool) -> tuple[torch.Tensor, ...]:
    """Upstream's inference call sequence (Amphion facodec_inference.py / Plachtaa reconstruct.py).

    Returns codes `[B, n_q, F]`, audio `[B, 1, 300 F]`, latents, timbre vector and quantised latents.
    """
    _fresh(*parts.values())
    with torch.no_grad():
        z = parts["encoder"](wav)
        if timbre_norm:
            zq, _, _, _, timbre, codes = parts["quantizer"](z, wav, n_c=2, return_codes=True)
            codes = torch.cat(codes, dim=1)  # [p, c, r]
        else:  # the 8-codebook forward() masks the residual at random (training); encode() is deterministic
            (c_c, c_p, c_t, c_r), (z_c, z_p, z_t, z_r) = parts["quantizer"].encode(z, wav, n_c=2)
            codes = torch.cat([c_p, c_c, c_t, c_r], dim=1)
            zq, timbre = z_p + z_c + z_t + z_r, torch.zeros(0)
        return codes, parts["decoder"](zq), z, timbre, zq


def _clips(length: int) -> torch.Tensor:
    """`[2, 1, length]`: two clearly different speech-like clips at 24 kHz."""
    return torch.stack([speech_like(length, 24000, 1), speech_like(length, 24000, 2)])


@pytest.mark.slow
@pytest.mark.parametrize("timbre_norm", [False, True], ids=["24k", "timbre_norm"])
@pytest.mark.parametrize(
    ("source", "var"), [("facodec", "NCST_UPSTREAM_FACODEC"), ("amphion", "NCST_UPSTREAM_AMPHION")]
)
def test_facodec_24k_matches_upstream(source: str, var: str, timbre_norm: bool, tmp_path: Path) -> None:
    """The adapter, loaded from upstream's `pytorch_model.bin` layout, against upstream's inference.

    12,007 samples (off the 300-sample hop): the adapter zero-pads to 41 frames, so upstream gets the
    same padded input; the adapter's output is cropped back to 12,007 samples.
    """
    upstream = _build_upstream_24k(source, _clone(var), timbre_norm)
    torch.save({"net": {k: m.state_dict() for k, m in upstream.items()}}, tmp_path / "pytorch_model.bin")
    codec = get_codec("facodec@timbre_norm" if timbre_norm else "facodec").load(tmp_path)
    wav = _clips(LENGTH)
    codes, y_up, z_up, timbre_up, _ = _upstream_24k_run(
        upstream, torch.nn.functional.pad(wav, (0, PADDED - LENGTH)), timbre_norm
    )
    assert float((codes[0] != codes[1]).float().mean()) > 0.3
    assert relative_change(y_up[0], y_up[1]) > 0.3
    assert 0.01 < rms(y_up) < 1.0

    got = codec.encode(wav[:, 0])
    y = codec.resynthesize(wav[:, 0])
    assert got.levels[0].shape == (2, 6 if timbre_norm else 8, PADDED // 300)
    assert torch.equal(got.levels[0], codes)
    assert int(torch.unique(got.levels[0]).numel()) > 50
    assert y.shape == (2, LENGTH)
    assert relative_error(y, y_up[:, 0, :LENGTH]) <= RELATIVE_TOLERANCE
    if timbre_norm:
        assert relative_error(got.extra["timbre"], timbre_up) <= RELATIVE_TOLERANCE


@pytest.mark.slow
def test_facodec_ns3_matches_upstream(tmp_path: Path) -> None:
    """The NS3 adapter, loaded from the two released `.bin` state dicts, against upstream one utterance at a time.

    8,007 samples (off the 200-sample hop): the adapter zero-pads to 41 frames, so upstream gets the same
    padded input; the adapter's output is cropped back to 8,007 samples.
    """
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
    g = torch.Generator().manual_seed(1)
    randomise_(encoder, g)
    randomise_(decoder, g)
    with torch.no_grad():
        emb, _, _, _, speaker = decoder(encoder(speech_like(16_000, 16000, 100)[:, None]), eval_vq=False, vq=True)
    convs = [m for m in decoder.model.modules() if isinstance(m, CONVS)]  # the waveform decoder
    normalise_activations_(convs[:-1], lambda: decoder.inference(emb, speaker))
    scale_output_(scale_params(convs[-1]), lambda: rms(decoder.inference(emb, speaker)))
    torch.save(encoder.state_dict(), tmp_path / "ns3_facodec_encoder.bin")
    torch.save(decoder.state_dict(), tmp_path / "ns3_facodec_decoder.bin")
    codec = get_codec("facodec@ns3").load(tmp_path)

    length, padded = 8_007, 8_200
    wav = torch.cat([speech_like(length, 16000, 1), speech_like(length, 16000, 2)])
    got = codec.encode(wav)
    y = codec.resynthesize(wav)
    assert y.shape == (2, length)
    assert int(torch.unique(got.levels[0]).numel()) > 50
    assert float((got.levels[0][0] != got.levels[0][1]).float().mean()) > 0.3
    outputs = []
    for i in range(2):  # upstream one utterance at a time (its batch adds the batch index's position code)
        x = torch.nn.functional.pad(wav[i : i + 1, None], (0, padded - length))
        with torch.no_grad():
            emb, vq_id, _, _, speaker = decoder(encoder(x), eval_vq=False, vq=True)
            y_up = decoder.inference(emb, speaker)[:, 0]
        outputs.append(y_up)
        assert torch.equal(got.levels[0][i], vq_id[:, 0])  # upstream codes are [6, B, T]
        assert relative_error(got.extra["speaker"][i], speaker[0]) <= RELATIVE_TOLERANCE
        assert relative_error(y[i], y_up[0, :length]) <= RELATIVE_TOLERANCE
    assert relative_change(outputs[0], outputs[1]) > 0.3
    assert 0.01 < rms(outputs[0]) < 1.0
