"""Equivalence of ncst's WavTokenizer port with the upstream code, on the same random weights.

Runs only when `NCST_UPSTREAM_WAVTOKENIZER` names a local copy of github.com/jishengpeng/WavTokenizer
(its `decoder/`, `encoder/` and `configs/` folders; upstream imports torch, torchaudio, einops, scipy,
pyyaml and huggingface_hub, all ncst dependencies). For both published configs: upstream's model is built
from its YAML with random weights (codebook filled from encoder latents, adaptive norms and layer
scales perturbed so they matter), its state dict is loaded unchanged into ours, and both encode and
decode the same audio: codes must be identical and audio within 1e-5. Set `NCST_UPSTREAM_REPORT` to a
file path to get the measured maxima (used for docs/codecs.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml

from ncst.codecs import wavtokenizer as wt
from ncst.codecs.ports.wavtokenizer import FRAME40, FRAME75, WavTokenizer, WavTokenizerConfig, config_from_hparams

torch.set_num_threads(1)

UPSTREAM = os.environ.get("NCST_UPSTREAM_WAVTOKENIZER")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_WAVTOKENIZER to a WavTokenizer clone")

CONFIGS = {"small75": FRAME75, "small40": FRAME40}


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
    config_file = Path(str(UPSTREAM)) / "configs" / str(wt.VARIANTS[variant].extra["config_file"])
    torch.manual_seed(seed)
    model = upstream.WavTokenizer.from_hparams0802(str(config_file)).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        calib = 0.3 * torch.randn(1, 1, 24000, generator=g)
        rows = model.feature_extractor.encodec.encoder(calib)[0].T  # [T', 512]
        codebook = model.feature_extractor.encodec.quantizer.vq.layers[0]._codebook
        picks = torch.randint(0, rows.shape[0], (codebook.embed.shape[0],), generator=g)
        codebook.embed.copy_(rows[picks] + 0.05 * rows.std() * torch.randn(codebook.embed.shape, generator=g))
        codebook.inited.fill_(1.0)  # otherwise upstream runs k-means (and changes the model) on first use
        for name, param in model.named_parameters():
            if name.endswith(("scale.weight", "shift.weight", "gamma")):
                param.add_(0.1 * torch.randn(param.shape, generator=g))
    return model


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_upstream_yaml_gives_our_config(variant: str) -> None:
    config_file = Path(str(UPSTREAM)) / "configs" / str(wt.VARIANTS[variant].extra["config_file"])
    hparams = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config: WavTokenizerConfig = config_from_hparams(hparams)
    assert config == CONFIGS[variant]


@pytest.mark.parametrize("variant", ["small75", "small40"])
def test_port_matches_upstream(upstream: ModuleType, variant: str) -> None:
    reference = _upstream_model(upstream, variant, seed=0)
    ours = WavTokenizer(CONFIGS[variant]).eval()
    state = reference.state_dict()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state, strict=True)

    g = torch.Generator().manual_seed(1)
    audio = 0.2 * torch.randn(2, 12_007, generator=g)  # 0.5 s, off-hop length, batch of two
    bandwidth_id = torch.tensor([0])
    features_up, codes_up = reference.encode_infer(audio, bandwidth_id=bandwidth_id)
    audio_up = reference.decode(reference.codes_to_features(codes_up), bandwidth_id=bandwidth_id)
    with torch.inference_mode():
        codes = ours.encode(audio)
        features = ours.codes_to_features(codes)
        audio_ours = ours.decode(features, bandwidth_id=0)

    assert codes.shape == codes_up.shape == (1, 2, -(-12_007 // CONFIGS[variant].hop_samples))
    assert torch.equal(codes, codes_up)
    assert int(torch.unique(codes).numel()) > 5  # the comparison covers many codebook entries
    feature_diff = float((features - features_up).abs().max())
    audio_diff = float((audio_ours - audio_up).abs().max())
    assert audio_ours.shape == audio_up.shape
    assert feature_diff <= 1e-5, (feature_diff, audio_diff)
    assert audio_diff <= 1e-5, (feature_diff, audio_diff)
    report = os.environ.get("NCST_UPSTREAM_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            line = {"variant": variant, "codes_equal": True, "max_abs_diff_features": feature_diff,
                    "max_abs_diff_audio": audio_diff, "audio_peak": float(audio_up.abs().max()),
                    "distinct_codes": int(torch.unique(codes).numel())}  # fmt: skip
            f.write(json.dumps(line) + "\n")
