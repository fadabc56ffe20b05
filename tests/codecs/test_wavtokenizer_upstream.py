"""Equivalence of ncst's WavTokenizer port and adapter with the upstream code, on the same random weights.

Runs only when `NCST_UPSTREAM_WAVTOKENIZER` names a local copy of github.com/jishengpeng/WavTokenizer
(its `decoder/`, `encoder/` and `configs/` folders; upstream imports torch, torchaudio, einops, scipy,
pyyaml and huggingface_hub, all ncst dependencies). For both published configs, upstream's model is built
from its YAML with every parameter randomised (`upstream_params.randomise_`: weight-norm magnitudes apart
from their directions, adaptive norm scales and shifts, layer scales, biases), the encoder's latents
centred at unit RMS, the codebook drawn from them, every linear layer of the decoder at unit output RMS
and the output at RMS 0.1. It is saved in upstream's Lightning layout and loaded through
`get_codec("wavtokenizer@<variant>").load(folder)`; on two clearly different clips of 12,007 samples (off
the hop) codes must be identical and audio within 1e-4 of upstream's RMS. Set `NCST_UPSTREAM_REPORT` to
a file path to get the measured maxima.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml
from upstream_params import (
    center_output_,
    normalise_activations_,
    randomise_,
    relative_change,
    relative_error,
    rms,
    speech_like,
)

from ncst.codecs import wavtokenizer as wt
from ncst.codecs.ports.wavtokenizer import FRAME40, FRAME75, WavTokenizer, WavTokenizerConfig, config_from_hparams
from ncst.codecs.registry import get_codec

torch.set_num_threads(1)

UPSTREAM = os.environ.get("NCST_UPSTREAM_WAVTOKENIZER")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_WAVTOKENIZER to a WavTokenizer clone")

CONFIGS = {"small75": FRAME75, "small40": FRAME40}
BANDWIDTH = torch.tensor([0])
LINEAR = (torch.nn.Conv1d, torch.nn.Linear)
RELATIVE_TOLERANCE = 1e-4
LENGTH = 12_007


@pytest.fixture(scope="module")
def upstream() -> Iterator[ModuleType]:
    """Upstream's `decoder.pretrained` module, imported from the clone (sys.path and modules restored after)."""
    root = str(Path(str(UPSTREAM)).resolve())
    saved_modules = dict(sys.modules)
    sys.path.insert(0, root)
    try:
        import decoder.pretrained

        yield decoder.pretrained
    finally:
        sys.path.remove(root)
        for name in set(sys.modules) - set(saved_modules):
            if name.split(".")[0] in ("decoder", "encoder"):
                del sys.modules[name]


def _upstream_model(upstream: ModuleType, variant: str, seed: int) -> torch.nn.Module:
    """Upstream's model with every parameter randomised and the decoder at speech-like levels."""
    config_file = Path(str(UPSTREAM)) / "configs" / str(wt.VARIANTS[variant].extra["config_file"])
    torch.manual_seed(seed)
    model = upstream.WavTokenizer.from_hparams0802(str(config_file)).eval()
    g = torch.Generator().manual_seed(seed)
    randomise_(model, g)
    calib = speech_like(24000, 24000, seed + 100)
    encoder = model.feature_extractor.encodec.encoder
    last = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv1d)][-1]
    center_output_(last, lambda: encoder(calib[:, None]))  # latents vary around zero, not around a bias,
    normalise_activations_([last], lambda: encoder(calib[:, None]))  # at unit RMS (the decoder's biases are small)
    with torch.no_grad():
        rows = model.feature_extractor.encodec.encoder(calib[:, None])[0].T  # [T', 512]
        codebook = model.feature_extractor.encodec.quantizer.vq.layers[0]._codebook
        picks = torch.randint(0, rows.shape[0], (codebook.embed.shape[0],), generator=g)
        codebook.embed.copy_(rows[picks] + 0.05 * rows.std() * torch.randn(codebook.embed.shape, generator=g))
        codebook.inited.fill_(1.0)  # otherwise upstream runs k-means (and changes the model) on first use
        _, codes = model.encode_infer(calib, bandwidth_id=BANDWIDTH)
        features = model.codes_to_features(codes)

        def decode() -> torch.Tensor:
            return model.decode(features, bandwidth_id=BANDWIDTH)

        # unit RMS after every linear layer of the decoder (backbone and head), then the head's log-magnitude
        # bias shifted so the output RMS is 0.1 (the ISTFT is linear in the magnitude, so one step is exact)
        linear = [m for m in [*model.backbone.modules(), *model.head.modules()] if isinstance(m, LINEAR)]
        normalise_activations_(linear, decode)
        half = model.head.out.bias.shape[0] // 2
        for _ in range(2):
            model.head.out.bias[:half] += math.log(0.1 / rms(decode()))
    return model


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_upstream_yaml_gives_our_config(variant: str) -> None:
    config_file = Path(str(UPSTREAM)) / "configs" / str(wt.VARIANTS[variant].extra["config_file"])
    hparams = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config: WavTokenizerConfig = config_from_hparams(hparams)
    assert config == CONFIGS[variant]


def _clips(length: int = LENGTH) -> torch.Tensor:
    """`[2, length]`: two clearly different speech-like clips (0.5 s, off the hop)."""
    return torch.cat([speech_like(length, 24000, 1), speech_like(length, 24000, 2)])


def _upstream_run(reference: torch.nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Upstream's inference (`encode_infer`, `codes_to_features`, `decode`): codes `[1, B, F]`, features, audio."""
    with torch.no_grad():
        features_up, codes_up = reference.encode_infer(audio, bandwidth_id=BANDWIDTH)
        audio_up = reference.decode(reference.codes_to_features(codes_up), bandwidth_id=BANDWIDTH)
    return codes_up, reference.codes_to_features(codes_up), audio_up


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_upstream_outputs_differ_between_clips(upstream: ModuleType, variant: str) -> None:
    codes, _, audio = _upstream_run(_upstream_model(upstream, variant, seed=0), _clips())
    assert float((codes[0, 0] != codes[0, 1]).float().mean()) > 0.5
    assert relative_change(audio[0], audio[1]) > 0.3
    assert 0.01 < rms(audio) < 1.0


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_adapter_matches_upstream(upstream: ModuleType, variant: str, tmp_path: Path) -> None:
    """Upstream's Lightning layout (`{'state_dict': ...}` beside its config YAML), loaded from the folder."""
    reference = _upstream_model(upstream, variant, seed=0)
    card = wt.VARIANTS[variant]
    torch.save({"state_dict": reference.state_dict()}, tmp_path / str(card.extra["checkpoint_file"]))
    config_file = Path(str(UPSTREAM)) / "configs" / str(card.extra["config_file"])
    (tmp_path / config_file.name).write_text(config_file.read_text(encoding="utf-8"), encoding="utf-8")
    codec = get_codec(f"wavtokenizer@{variant}").load(tmp_path)
    audio = _clips()
    codes_up, _, audio_up = _upstream_run(reference, audio)
    codes = codec.encode(audio).levels[0]  # [B, 1, F]
    y = codec.resynthesize(audio)
    assert codes.shape == (2, 1, -(-LENGTH // CONFIGS[variant].hop_samples))
    assert torch.equal(codes.transpose(0, 1), codes_up)
    assert int(torch.unique(codes).numel()) > 20
    assert y.shape == (2, LENGTH)
    assert relative_error(y, audio_up[:, :LENGTH]) <= RELATIVE_TOLERANCE


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_port_matches_upstream(upstream: ModuleType, variant: str) -> None:
    """The port's modules on upstream's state dict: codes, features and audio (reported for docs/codecs.md)."""
    reference = _upstream_model(upstream, variant, seed=0)
    ours = WavTokenizer(CONFIGS[variant]).eval()
    state = reference.state_dict()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state, strict=True)
    audio = _clips()
    codes_up, features_up, audio_up = _upstream_run(reference, audio)
    with torch.inference_mode():
        codes = ours.encode(audio)
        features = ours.codes_to_features(codes)
        audio_ours = ours.decode(features, bandwidth_id=0)

    assert torch.equal(codes, codes_up)
    feature_diff = relative_error(features, features_up)
    audio_diff = relative_error(audio_ours, audio_up)
    assert audio_ours.shape == audio_up.shape
    assert feature_diff <= RELATIVE_TOLERANCE, (feature_diff, audio_diff)
    assert audio_diff <= RELATIVE_TOLERANCE, (feature_diff, audio_diff)
    report = os.environ.get("NCST_UPSTREAM_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            line = {"variant": variant, "codes_equal": True, "max_rel_diff_features": feature_diff,
                    "max_rel_diff_audio": audio_diff, "audio_rms": rms(audio_up),
                    "distinct_codes": int(torch.unique(codes).numel())}  # fmt: skip
            f.write(json.dumps(line) + "\n")
