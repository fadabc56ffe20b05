"""Equivalence of our AudioDec port and adapter with upstream facebookresearch/AudioDec.

Runs only when NCST_UPSTREAM_AUDIODEC names a local clone of github.com/facebookresearch/AudioDec
(verified at e451e62580a66fe74426db51d92a6d0d468b70b3; its imports need torch, numpy, pyyaml and
torchaudio, all ncst core dependencies). Upstream is built from the clone's libritts_v1 configs with every
parameter randomised (`upstream_params.randomise_`: weight-norm magnitudes apart from their directions,
biases, the vocoder's feature statistics; codebooks drawn from the randomised encoder's latents; both
decoders' activations brought to unit RMS layer by layer and their outputs to RMS 0.1). Codes must be
identical and audio within 1e-4 of upstream's RMS, on three clips whose outputs clearly differ, 11,017
samples long (not a multiple of the 300-sample hop):

* the adapter, loaded through `get_codec("audiodec").load(folder)` from upstream's release layout
  (`exp/{autoencoder,vocoder}/<name>/{config.yml,checkpoint-500000steps.pkl}`), vs upstream's official
  streaming API (`demoFile.py`: `AudioDec` warm-up on 8192 zeros for transmitter and receiver, then
  `encode`/`quantize`/`lookup`/`decode` per file);
* our batched forward padding vs upstream's non-streaming `forward` (`codecTest.py`).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import SimpleNamespace
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

from ncst.codecs.audiodec import AUTOENCODER_DIR, CHECKPOINT_NAME, CONFIG_NAME, VOCODER_DIR, upstream_configs
from ncst.codecs.base import Codec
from ncst.codecs.ports.audiodec import AudioDec, HiFiGANVocoder, SymAudioDec, build_libritts_v1, flatten_codes
from ncst.codecs.registry import get_codec

UPSTREAM = os.environ.get("NCST_UPSTREAM_AUDIODEC")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_AUDIODEC to a facebookresearch/AudioDec clone")

AUTOENCODER_CONFIG = "config/autoencoder/symAD_libritts_24000_hop300.yaml"
VOCODER_CONFIG = "config/vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean.yaml"
RELATIVE_TOLERANCE = 1e-4
CONVS = (torch.nn.Conv1d, torch.nn.ConvTranspose1d)
LENGTH = 11_017  # 37 frames of 300 samples, the last one partial
#: Upstream's top-level package names; imported from the clone and removed again from sys.modules.
_UPSTREAM_PACKAGES = ("models", "layers", "utils", "bin")


def _import_upstream(root: Path) -> SimpleNamespace:
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _UPSTREAM_PACKAGES}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        autoencoder = importlib.import_module("models.autoencoder.AudioDec")
        vocoder = importlib.import_module("models.vocoder.HiFiGAN")
        return SimpleNamespace(AutoEncoder=autoencoder.StreamGenerator, Vocoder=vocoder.StreamGenerator)
    finally:
        sys.path.remove(str(root))
        for name in [k for k in sys.modules if k.split(".")[0] in _UPSTREAM_PACKAGES]:
            del sys.modules[name]
        sys.modules.update(saved)


def _clips(n: int = 3, length: int = LENGTH, first_seed: int = 0) -> torch.Tensor:
    """`[n, 1, length]` clearly different speech-like clips at 24 kHz."""
    return torch.stack([speech_like(length, 24000, first_seed + s) for s in range(n)])


@pytest.fixture(scope="module")
def upstream() -> SimpleNamespace:
    """Upstream classes, configs and one set of random weights (codebooks drawn from encoder latents)."""
    yaml = pytest.importorskip("yaml")
    root = Path(str(UPSTREAM))
    api = _import_upstream(root)
    enc_params = yaml.safe_load((root / AUTOENCODER_CONFIG).read_text())["generator_params"]
    voc_params = yaml.safe_load((root / VOCODER_CONFIG).read_text())["generator_params"]
    voc_params = {**voc_params, "stats": str(root / voc_params["stats"])}  # upstream resolves it from the repo root
    torch.manual_seed(0)
    autoencoder = api.AutoEncoder(**enc_params).eval()
    vocoder = api.Vocoder(**voc_params).eval()
    g = torch.Generator().manual_seed(1)
    randomise_(autoencoder, g)
    randomise_(vocoder, g)
    with torch.no_grad():
        z = autoencoder.projector(autoencoder.encoder(_clips(4, 24_000, first_seed=10))).transpose(1, 2).reshape(-1, 64)
        residual = z
        for layer in autoencoder.quantizer.codebook.layers:  # non-degenerate codes for a real comparison
            book = residual[torch.randint(0, residual.shape[0], (1024,), generator=g)]
            book = book + 0.05 * float(residual.std()) * torch.randn(1024, 64, generator=g)
            layer.embed.copy_(book.t())
            layer.embed_avg.copy_(book.t())
            idx = torch.cdist(residual, book).argmin(1)
            residual = residual - book[idx]
        vocoder.mean.copy_(0.1 * torch.randn(64, generator=g))
        vocoder.scale.copy_(0.5 + torch.rand(64, generator=g))
        zq, _ = autoencoder.quantizer.inference(autoencoder.projector(autoencoder.encoder(_clips(1, 24_000, 20))))
        for decoder, last in [
            (vocoder, vocoder.output_conv.conv),
            (autoencoder.decoder, _last_conv(autoencoder.decoder)),
        ]:
            convs = [m for m in decoder.modules() if isinstance(m, CONVS) and m is not last]
            normalise_activations_(convs, lambda decoder=decoder: decoder(zq))
            scale_output_(scale_params(last), lambda decoder=decoder: rms(decoder(zq)))
    return SimpleNamespace(
        api=api,
        enc_params=enc_params,
        voc_params=voc_params,
        autoencoder_state=autoencoder.state_dict(),
        vocoder_state=vocoder.state_dict(),
    )


def _last_conv(module: torch.nn.Module) -> torch.nn.Module:
    return [m for m in module.modules() if isinstance(m, CONVS)][-1]


def _ours(up: SimpleNamespace) -> AudioDec:
    model = build_libritts_v1()
    model.autoencoder.load_state_dict(up.autoencoder_state)
    model.vocoder.load_state_dict(up.vocoder_state)
    return model


def _upstream_models(up: SimpleNamespace) -> tuple[Any, Any]:
    autoencoder = up.api.AutoEncoder(**up.enc_params)
    autoencoder.load_state_dict(up.autoencoder_state)
    vocoder = up.api.Vocoder(**up.voc_params)
    vocoder.load_state_dict(up.vocoder_state)
    return autoencoder.eval(), vocoder.eval()


def test_audiodec_state_dicts_have_upstream_keys_and_shapes(upstream: SimpleNamespace) -> None:
    ours = build_libritts_v1()
    for theirs, mine in [(upstream.autoencoder_state, ours.autoencoder), (upstream.vocoder_state, ours.vocoder)]:
        state = mine.state_dict()
        assert list(state) == list(theirs) or set(state) == set(theirs)
        assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_audiodec_saved_configs_match_upstream_generator_params(upstream: SimpleNamespace) -> None:
    enc_config, voc_config = upstream_configs(build_libritts_v1())
    root = Path(str(UPSTREAM))
    voc_params = {**upstream.voc_params, "stats": voc_config["generator_params"]["stats"]}
    assert enc_config["generator_params"] == upstream.enc_params
    assert voc_config["generator_params"] == voc_params
    assert (root / voc_params["stats"]).is_file()


def upstream_forward(up: SimpleNamespace, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Upstream's non-streaming path (codecTest.py): codes `[B, 8, F]`, vocoder and symmetric outputs."""
    autoencoder, vocoder = _upstream_models(up)
    with torch.no_grad():
        z = autoencoder.projector(autoencoder.encoder(x))
        zq, idx = autoencoder.quantizer.inference(z)  # idx [8, B, F]
        return idx.transpose(0, 1), vocoder(zq), autoencoder.decoder(zq)


def upstream_streaming(up: SimpleNamespace, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Upstream's official streaming path for one file `[1, 1, T]` (utils/audiodec.py + demoFile.py)."""
    tx, _ = _upstream_models(up)
    rx, vocoder = _upstream_models(up)
    with torch.no_grad():
        tx.initial_encoder(8192, "cpu")  # AudioDec.load_transmitter
        vocoder.initial_decoder(rx.initial_encoder(8192, "cpu"))  # AudioDec.load_receiver
        idx = tx.quantize(tx.encode(x))  # flattened codes [8, F]
        y = vocoder.decode(rx.lookup(idx))
    return idx, y


@pytest.fixture(scope="module")
def codec(upstream: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Codec:
    """The adapter on the randomised weights, saved in upstream's release layout and loaded from the folder."""
    folder = tmp_path_factory.mktemp("audiodec")
    root = Path(str(UPSTREAM))
    for sub, config, state in [
        (AUTOENCODER_DIR, AUTOENCODER_CONFIG, upstream.autoencoder_state),
        (VOCODER_DIR, VOCODER_CONFIG, upstream.vocoder_state),
    ]:
        (folder / "exp" / sub).mkdir(parents=True)
        (folder / "exp" / sub / CONFIG_NAME).write_text((root / config).read_text())  # upstream's own config
        torch.save({"model": {"generator": state}}, folder / "exp" / sub / CHECKPOINT_NAME)
    return get_codec("audiodec").load(folder)


def test_audiodec_randomised_outputs_differ_between_clips(upstream: SimpleNamespace) -> None:
    x = _clips(2)
    codes, y, y_sym = upstream_forward(upstream, x)
    assert float((codes[0] != codes[1]).float().mean()) > 0.5
    assert relative_change(y[0], y[1]) > 0.1
    assert relative_change(y_sym[0], y_sym[1]) > 0.1
    assert 0.01 < rms(y) < 1.0


def test_audiodec_adapter_matches_upstream_streaming(upstream: SimpleNamespace, codec: Codec) -> None:
    x = _clips()
    codes = codec.encode(x[:, 0])
    y = codec.resynthesize(x[:, 0])
    assert codes.levels[0].shape == (3, 8, 37)
    assert y.shape == (3, LENGTH)
    for b in range(x.shape[0]):
        idx_up, y_up = upstream_streaming(upstream, x[b : b + 1])
        assert torch.equal(flatten_codes(codes.levels[0][b : b + 1], 1024)[0], idx_up)
        assert y_up.shape == (1, 1, 37 * 300)
        assert relative_error(y[b], y_up[0, 0, :LENGTH]) <= RELATIVE_TOLERANCE


def test_audiodec_forward_padding_matches_upstream_forward(upstream: SimpleNamespace) -> None:
    x = _clips()
    codes_up, y_up, y_sym_up = upstream_forward(upstream, x)
    ours = _ours(upstream).use_forward_padding()
    with torch.no_grad():
        codes = ours.encode(x)
        y = ours.decode(codes)
        y_sym = ours.autoencoder.decode(codes)
    assert codes.shape == (3, 8, 37)
    assert int(torch.unique(codes).numel()) > 100
    assert torch.equal(codes, codes_up)
    assert y.shape == y_up.shape == (3, 1, 37 * 300)
    assert relative_error(y, y_up) <= RELATIVE_TOLERANCE
    assert relative_error(y_sym, y_sym_up) <= RELATIVE_TOLERANCE


def test_audiodec_streaming_and_forward_differ_only_at_the_start(upstream: SimpleNamespace) -> None:
    """The two upstream paths are not the same codec output: the warm-up changes the first ~0.7 s.

    The warm-up changes the first frames' codes, and the difference decays through the causal vocoder's
    long memory (on these weights from ~0.3 in the first 1,500 samples to 1e-6 after 16,500).
    """
    x = _clips(1, length=30_000)
    _, y_stream = upstream_streaming(upstream, x)
    _, y_forward, _ = upstream_forward(upstream, x)
    tail = slice(18_000, None)
    assert relative_error(y_stream[..., :3000], y_forward[..., :3000]) > 1e-2
    assert relative_error(y_stream[..., tail], y_forward[..., tail]) <= RELATIVE_TOLERANCE


def test_audiodec_port_classes_are_ours() -> None:
    assert SymAudioDec.__module__.startswith("ncst.") and HiFiGANVocoder.__module__.startswith("ncst.")
