"""Our SoundStream port against upstream kaiidams/soundstream-pytorch (commit 9c6086e).

Runs only when `NCST_UPSTREAM_SOUNDSTREAM` names a local clone (upstream imports only torch); skips
otherwise. Both models get the same random weights (upstream's state dict loaded into ours, strictly);
codes must be identical and decoded audio within 1e-5.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from ncst.codecs.ports.soundstream import SoundStream, plan_padding
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_codec

UPSTREAM = os.environ.get("NCST_UPSTREAM_SOUNDSTREAM")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_SOUNDSTREAM to a soundstream-pytorch clone")
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def hubconf() -> Iterator[ModuleType]:
    assert UPSTREAM is not None
    torch.set_num_threads(1)
    saved = {name: sys.modules.pop(name) for name in ("hubconf", "soundstream") if name in sys.modules}
    sys.path.insert(0, str(Path(UPSTREAM).resolve()))
    try:
        yield importlib.import_module("hubconf")
    finally:
        sys.path.pop(0)
        for name in ("hubconf", "soundstream"):
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def _clip(n: int, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(16000, n / 16000, generator=g).reshape(1, -1)[:, :n]


@pytest.fixture(scope="module")
def models(hubconf: ModuleType) -> tuple[torch.nn.Module, SoundStream]:
    torch.manual_seed(0)
    upstream = hubconf.EncoderDecoder(n_channels=32, num_quantizers=8, num_embeddings=1024, padding="valid").eval()
    with torch.no_grad():  # codebooks drawn from encoder latents, so the random model emits varied codes
        latents = upstream.encoder(_clip(16000, seed=9)[:, None]).transpose(1, 2).reshape(-1, 512)
        rows = torch.randint(0, latents.shape[0], (8, 1024), generator=torch.Generator().manual_seed(1))
        scale = torch.tensor([1.0, 0.3, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005]).view(8, 1, 1)
        books = latents[rows] * scale + 0.01 * torch.randn(8, 1024, 512)
        upstream.quantizer.weight.copy_(books)
        upstream.quantizer.running_mean.copy_(books)
    ours = SoundStream().eval()
    ours.load_state_dict(upstream.state_dict(), strict=True)
    return upstream, ours


def test_upstream_state_dict_matches_ours(models: tuple[torch.nn.Module, SoundStream]) -> None:
    upstream, ours = models
    theirs, mine = upstream.state_dict(), ours.state_dict()
    assert list(theirs) == list(mine)
    assert all(theirs[k].shape == mine[k].shape for k in theirs)


@pytest.mark.parametrize("n_samples", [3001, 8000])
def test_upstream_codes_and_audio_match(models: tuple[torch.nn.Module, SoundStream], n_samples: int) -> None:
    upstream, ours = models
    plan = plan_padding(n_samples)  # the unpadded decoder needs >= 18 frames, so add the adapter's context
    x = torch.cat([_clip(n_samples, seed=4), 0.5 * _clip(n_samples, seed=5)])
    x = torch.nn.functional.pad(x, (plan.left, plan.right))
    fresh = copy.deepcopy(upstream)  # upstream's encode updates its codebook; decode with the stored one
    with torch.no_grad():
        codes_up = fresh.encode(x)
        y_up = copy.deepcopy(upstream).decode(codes_up)
        codes_ours = ours.encode(x)
        y_ours = ours.decode(codes_ours)
    assert codes_up.shape == codes_ours.shape
    assert torch.equal(codes_up, codes_ours)
    assert int(torch.unique(codes_ours).numel()) > 8
    assert y_up.shape == y_ours.shape
    assert (y_up - y_ours).abs().max().item() <= TOLERANCE


def test_upstream_matches_adapter_padding(models: tuple[torch.nn.Module, SoundStream], tmp_path: Path) -> None:
    upstream, _ = models
    file = tmp_path / "soundstream_16khz-20230425.ckpt"  # Lightning layout, as the release ships it
    torch.save({"state_dict": upstream.state_dict(), "hyper_parameters": {"padding": "valid"}}, file)
    codec = get_codec("soundstream").load(file)
    x = _clip(8000, seed=6)
    plan = plan_padding(8000)
    padded = torch.nn.functional.pad(x, (plan.left, plan.right))
    with torch.no_grad():
        codes_up = copy.deepcopy(upstream).encode(padded)
        y_up = copy.deepcopy(upstream).decode(codes_up)[:, :8000]
    codes = codec.encode(x)
    assert torch.equal(codes.levels[0], codes_up.transpose(1, 2))
    y = codec.resynthesize(x)
    assert (y - y_up).abs().max().item() <= TOLERANCE
