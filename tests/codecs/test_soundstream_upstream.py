"""Our SoundStream port against upstream kaiidams/soundstream-pytorch (commit 9c6086e).

Runs only when `NCST_UPSTREAM_SOUNDSTREAM` names a local clone (upstream imports only torch); skips
otherwise. Upstream's model gets every parameter randomised (`upstream_params.randomise_`), codebooks
drawn from the randomised encoder's latents and decoder activations at unit RMS layer by layer (output
RMS 0.1); its state dict loads strictly into ours and, saved as the release's Lightning `.ckpt`, through
`get_codec("soundstream").load(file)`. Codes must be identical and audio within 1e-4 of upstream's RMS,
on clips whose outputs clearly differ, including lengths off the 320-sample hop.
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
from upstream_params import (
    center_output_,
    normalise_activations_,
    randomise_,
    relative_change,
    relative_error,
    rms,
    scale_output_,
    scale_params,
    speech_like,
)

from ncst.codecs.ports.soundstream import SoundStream, plan_padding
from ncst.codecs.registry import get_codec

UPSTREAM = os.environ.get("NCST_UPSTREAM_SOUNDSTREAM")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_SOUNDSTREAM to a soundstream-pytorch clone")
RELATIVE_TOLERANCE = 1e-4


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
    return speech_like(n, 16000, seed)


@pytest.fixture(scope="module")
def models(hubconf: ModuleType) -> tuple[torch.nn.Module, SoundStream]:
    torch.manual_seed(0)
    upstream = hubconf.EncoderDecoder(n_channels=32, num_quantizers=8, num_embeddings=1024, padding="valid").eval()
    randomise_(upstream, torch.Generator().manual_seed(2), skip=("quantizer.",))
    calib = _clip(16000, seed=9)[:, None]
    center_output_(upstream.encoder.layers[-1], lambda: upstream.encoder(calib))  # latents vary around zero,
    normalise_activations_([upstream.encoder.layers[-1]], lambda: upstream.encoder(calib))  # at unit RMS
    with torch.no_grad():  # codebooks drawn from encoder latents, so the random model emits varied codes
        latents = upstream.encoder(_clip(16000, seed=9)[:, None]).transpose(1, 2).reshape(-1, 512)
        rows = torch.randint(0, latents.shape[0], (8, 1024), generator=torch.Generator().manual_seed(1))
        scale = torch.tensor([1.0, 0.3, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005]).view(8, 1, 1)
        books = latents[rows] * scale + 0.01 * float(latents.std()) * torch.randn(8, 1024, 512)
        upstream.quantizer.weight.copy_(books)
        upstream.quantizer.running_mean.copy_(books)
        plan = plan_padding(16000)
        codes = copy.deepcopy(upstream).encode(torch.nn.functional.pad(_clip(16000, seed=9), (plan.left, plan.right)))
    convs = [m for m in upstream.decoder.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.ConvTranspose1d))]
    normalise_activations_(convs[:-1], lambda: upstream.decode(codes))
    scale_output_(scale_params(convs[-1]), lambda: rms(upstream.decode(codes)))
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
    assert relative_error(y_ours, y_up) <= RELATIVE_TOLERANCE


def test_upstream_outputs_differ_between_clips(models: tuple[torch.nn.Module, SoundStream]) -> None:
    upstream, _ = models
    plan = plan_padding(8000)
    x = torch.nn.functional.pad(torch.cat([_clip(8000, seed=4), _clip(8000, seed=5)]), (plan.left, plan.right))
    with torch.no_grad():
        codes = copy.deepcopy(upstream).encode(x)
        y = copy.deepcopy(upstream).decode(codes)
    assert float((codes[0] != codes[1]).float().mean()) > 0.3
    assert relative_change(y[0], y[1]) > 0.3
    assert 0.01 < rms(y) < 1.0


def test_upstream_matches_adapter_padding(models: tuple[torch.nn.Module, SoundStream], tmp_path: Path) -> None:
    upstream, _ = models
    file = tmp_path / "soundstream_16khz-20230425.ckpt"  # Lightning layout, as the release ships it
    torch.save({"state_dict": upstream.state_dict(), "hyper_parameters": {"padding": "valid"}}, file)
    codec = get_codec("soundstream").load(file)
    x = _clip(8003, seed=6)  # off the 320-sample hop
    plan = plan_padding(8003)
    padded = torch.nn.functional.pad(x, (plan.left, plan.right))
    with torch.no_grad():
        codes_up = copy.deepcopy(upstream).encode(padded)
        y_up = copy.deepcopy(upstream).decode(codes_up)[:, :8003]
    codes = codec.encode(x)
    assert torch.equal(codes.levels[0], codes_up.transpose(1, 2))
    y = codec.resynthesize(x)
    assert relative_error(y, y_up) <= RELATIVE_TOLERANCE
