"""Our HiFi-Codec port against upstream AcademiCodec (`academicodec/models/hificodec`).

Runs only when `NCST_UPSTREAM_ACADEMICODEC` names a local clone (upstream's `academicodec.utils` imports
numpy, matplotlib and yaml); skips otherwise. Both get the same random weights (upstream's three state
dicts loaded into ours, strictly); codes must be identical and decoded audio within 1e-5.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from ncst.codecs.ports.hificodec import HiFiCodec, HiFiCodecConfig
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_codec

UPSTREAM = os.environ.get("NCST_UPSTREAM_ACADEMICODEC")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_ACADEMICODEC to an AcademiCodec clone")
TOLERANCE = 1e-5
CONFIG_PATH = "egs/HiFi-Codec-24k-320d/config_24k_320d.json"


@pytest.fixture(scope="module")
def upstream_models() -> Iterator[ModuleType]:
    assert UPSTREAM is not None
    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(UPSTREAM).resolve()))
    try:
        yield importlib.import_module("academicodec.models.hificodec.models")
    finally:
        sys.path.pop(0)
        for name in [n for n in sys.modules if n == "academicodec" or n.startswith("academicodec.")]:
            sys.modules.pop(name)


def _clip(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, n / 24000, generator=g).reshape(1, -1)[:, :n]


@pytest.fixture(scope="module")
def models(upstream_models: ModuleType) -> tuple[Any, Any, Any, HiFiCodec]:
    assert UPSTREAM is not None
    import json

    env = importlib.import_module("academicodec.models.hificodec.env")
    config_file = Path(UPSTREAM) / CONFIG_PATH
    h = env.AttrDict(json.loads(config_file.read_text()))
    torch.manual_seed(0)
    encoder = upstream_models.Encoder(h).eval()
    quantizer = upstream_models.Quantizer(h).eval()
    generator = upstream_models.Generator(h).eval()
    with torch.no_grad():  # codebooks drawn from encoder latents, so the random model emits varied codes
        latents = encoder(_clip(24000, 9)[:, None]).transpose(1, 2).reshape(-1, 512)
        g = torch.Generator().manual_seed(1)
        for stage, modules in enumerate([quantizer.quantizer_modules, quantizer.quantizer_modules2]):
            for group, module in enumerate(modules):
                rows = torch.randint(0, latents.shape[0], (1024,), generator=g)
                book = latents[rows, group * 256 : (group + 1) * 256] * (1.0 if stage == 0 else 0.2)
                module.embedding.weight.copy_(book + 0.01 * torch.randn(1024, 256, generator=g))
    ours = HiFiCodec(HiFiCodecConfig.from_json(config_file)).eval()
    ours.load_parts(
        {"encoder": encoder.state_dict(), "quantizer": quantizer.state_dict(), "generator": generator.state_dict()}
    )
    return encoder, quantizer, generator, ours


def _upstream_codes(encoder: Any, quantizer: Any, x: torch.Tensor) -> torch.Tensor:
    """`academicodec.models.hificodec.vqvae.VQVAE.encode`, step by step."""
    _, _, codes = quantizer(encoder(x.unsqueeze(1)))
    return torch.stack([c.reshape(x.shape[0], -1) for c in codes], -1)


def test_upstream_state_dicts_match_ours(models: tuple[Any, Any, Any, HiFiCodec]) -> None:
    encoder, quantizer, generator, ours = models
    for theirs, mine in [(encoder, ours.encoder), (quantizer, ours.quantizer), (generator, ours.generator)]:
        a, b = theirs.state_dict(), mine.state_dict()
        assert list(a) == list(b)
        assert all(a[k].shape == b[k].shape for k in a)


def test_upstream_codes_and_audio_match(models: tuple[Any, Any, Any, HiFiCodec]) -> None:
    encoder, quantizer, generator, ours = models
    x = torch.cat([_clip(9600, 4), 0.5 * _clip(9600, 5)])
    with torch.no_grad():
        codes_up = _upstream_codes(encoder, quantizer, x)
        y_up = generator(quantizer.embed(codes_up))
        codes_ours = ours.encode(x)
        y_ours = ours.decode(codes_ours)
    assert codes_up.shape == codes_ours.shape == (2, 30, 4)
    assert torch.equal(codes_up, codes_ours)
    assert int(torch.unique(codes_ours).numel()) > 8
    assert y_up.shape == y_ours.shape == (2, 1, 9600)
    assert (y_up - y_ours).abs().max().item() <= TOLERANCE


def test_upstream_without_weight_norm_matches(models: tuple[Any, Any, Any, HiFiCodec]) -> None:
    """Upstream's copy-synthesis script removes weight norm first; the folded weights give the same audio."""
    encoder, quantizer, generator, ours = models
    encoder, generator = copy.deepcopy(encoder), copy.deepcopy(generator)
    encoder.remove_weight_norm()
    generator.remove_weight_norm()
    x = _clip(9600, 6)
    with torch.no_grad():
        codes_up = _upstream_codes(encoder, quantizer, x)
        y_up = generator(quantizer.embed(codes_up))
        codes_ours = ours.encode(x)
        y_ours = ours.decode(codes_ours)
    assert torch.equal(codes_up, codes_ours)
    assert (y_up - y_ours).abs().max().item() <= TOLERANCE


def test_upstream_matches_adapter(models: tuple[Any, Any, Any, HiFiCodec], tmp_path: Path) -> None:
    """The adapter (upstream-format file, peak normalisation, inverse gain) against upstream's notebook steps."""
    normalize = pytest.importorskip("librosa.util").normalize
    encoder, quantizer, generator, _ = models
    file = tmp_path / "HiFi-Codec-24k-320d"
    parts = {"encoder": encoder.state_dict(), "quantizer": quantizer.state_dict(), "generator": generator.state_dict()}
    torch.save(parts, file)
    codec = get_codec("hificodec").load(file)
    x = 0.3 * _clip(9600, 7)
    normalised = torch.from_numpy(normalize(x[0].numpy()) * 0.95).unsqueeze(0)
    with torch.no_grad():
        codes_up = _upstream_codes(encoder, quantizer, normalised)
        y_up = generator(quantizer.embed(codes_up))[:, 0] * (x.abs().max() / 0.95)
    assert torch.equal(codec.encode(x).levels[0], codes_up.transpose(1, 2))
    assert (codec.resynthesize(x) - y_up).abs().max().item() <= TOLERANCE
