"""Our HiFi-Codec port and adapter against upstream AcademiCodec (`academicodec/models/hificodec`).

Runs only when `NCST_UPSTREAM_ACADEMICODEC` names a local clone (upstream's `academicodec.utils` imports
numpy, matplotlib and yaml); skips otherwise. Upstream's three modules are built from the clone with every
parameter randomised (`upstream_params.randomise_`: weight-norm magnitudes apart from their directions,
GroupNorm scales and shifts, biases; codebooks drawn from the randomised encoder's latents; the
generator's activations brought to unit RMS layer by layer and its output to RMS 0.1), saved as the release file
(`{'encoder', 'quantizer', 'generator'}`) and loaded through `get_codec("hificodec").load(folder)`.
Codes must be identical and audio within 1e-4 of upstream's RMS, on clips whose outputs clearly differ,
at a length on the hop and one off it (30,123 samples, where upstream encodes 94 frames).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
from collections.abc import Iterator
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
    speech_like,
)

from ncst.codecs.base import Codec
from ncst.codecs.ports.hificodec import HiFiCodec, HiFiCodecConfig
from ncst.codecs.registry import get_codec

UPSTREAM = os.environ.get("NCST_UPSTREAM_ACADEMICODEC")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="set NCST_UPSTREAM_ACADEMICODEC to an AcademiCodec clone")
RELATIVE_TOLERANCE = 1e-4
CONFIG_PATH = "egs/HiFi-Codec-24k-320d/config_24k_320d.json"
HOP = 320
OFF_HOP = 30_123  # 94 frames + 43 samples
CONVS = (torch.nn.Conv1d, torch.nn.ConvTranspose1d)


def _clip(n: int, seed: int) -> torch.Tensor:
    return speech_like(n, 24000, seed)


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimpleNamespace]:
    """Upstream's Encoder, Quantizer and Generator with every parameter randomised."""
    assert UPSTREAM is not None
    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(UPSTREAM).resolve()))
    try:
        models = importlib.import_module("academicodec.models.hificodec.models")
        env = importlib.import_module("academicodec.models.hificodec.env")
        h = env.AttrDict(json.loads((Path(UPSTREAM) / CONFIG_PATH).read_text()))
        torch.manual_seed(0)
        encoder, quantizer, generator = models.Encoder(h).eval(), models.Quantizer(h).eval(), models.Generator(h).eval()
        g = torch.Generator().manual_seed(1)
        randomise_(encoder, g)
        randomise_(generator, g)
        calib = _clip(24000, 9)
        with torch.no_grad():
            latents = encoder(calib[:, None])  # [1, 512, 75]
            _seed_stage(quantizer.quantizer_modules, latents, g)
            stage1, _, _ = quantizer.for_one_step(latents, 0)
            _seed_stage(quantizer.quantizer_modules2, latents - stage1, g)
            codes = _upstream_codes(encoder, quantizer, calib)

            def decode() -> torch.Tensor:
                return generator(quantizer.embed(codes))

            convs = [m for n, m in generator.named_modules() if isinstance(m, CONVS) and n != "conv_post"]
            normalise_activations_(convs, decode)
            scale_output_([generator.conv_post.weight_g, generator.conv_post.bias], lambda: rms(decode()))
        yield SimpleNamespace(encoder=encoder, quantizer=quantizer, generator=generator)
    finally:
        sys.path.pop(0)
        for name in [n for n in sys.modules if n == "academicodec" or n.startswith("academicodec.")]:
            sys.modules.pop(name)


def _seed_stage(modules: Any, latents: torch.Tensor, g: torch.Generator) -> None:
    """Each group's codebook: rows of that group's latents (or residuals) plus a little noise."""
    rows = latents.transpose(1, 2).reshape(-1, 512)
    for group, module in enumerate(modules):
        chunk = rows[:, group * 256 : (group + 1) * 256]
        picks = torch.randint(0, chunk.shape[0], (1024,), generator=g)
        noise = 0.05 * float(chunk.std()) * torch.randn(1024, 256, generator=g)
        module.embedding.weight.copy_(chunk[picks] + noise)


def _parts(up: SimpleNamespace) -> dict[str, dict[str, torch.Tensor]]:
    return {
        "encoder": up.encoder.state_dict(),
        "quantizer": up.quantizer.state_dict(),
        "generator": up.generator.state_dict(),
    }


def _upstream_codes(encoder: Any, quantizer: Any, x: torch.Tensor) -> torch.Tensor:
    """`academicodec.models.hificodec.vqvae.VQVAE.encode`, step by step: `[B, T]` -> `[B, T // 320, 4]`."""
    _, _, codes = quantizer(encoder(x.unsqueeze(1)))
    return torch.stack([c.reshape(x.shape[0], -1) for c in codes], -1)


def _upstream_notebook(up: SimpleNamespace, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Upstream's notebook (`normalize(wav) * 0.95`, `VQVAE.encode`, then `VQVAE.__call__` on the codes).

    Returns codes `[B, 4, F]` and audio `[B, 320 F]` scaled back to the input's level, as ncst does.
    """
    peak = x.abs().amax(dim=-1, keepdim=True)
    with torch.no_grad():
        codes = _upstream_codes(up.encoder, up.quantizer, x / peak * 0.95)
        y = up.generator(up.quantizer.embed(codes))[:, 0] * (peak / 0.95)
    return codes.transpose(1, 2), y


@pytest.fixture(scope="module")
def codec(upstream: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Codec:
    """The adapter on the randomised weights, saved as the release file and loaded from its folder."""
    folder = tmp_path_factory.mktemp("hificodec")
    torch.save(_parts(upstream), folder / "HiFi-Codec-24k-320d")
    return get_codec("hificodec").load(folder)


def test_upstream_state_dicts_match_ours(upstream: SimpleNamespace) -> None:
    ours = HiFiCodec(HiFiCodecConfig.from_json(Path(str(UPSTREAM)) / CONFIG_PATH))
    for part, state in _parts(upstream).items():
        mine = getattr(ours, part).state_dict()
        assert list(mine) == list(state)
        assert {k: v.shape for k, v in mine.items()} == {k: v.shape for k, v in state.items()}


def test_upstream_randomised_magnitudes_are_not_direction_norms(upstream: SimpleNamespace) -> None:
    """The premise of every test below: a port that ignored `weight_g` would compute other weights."""
    v, g = upstream.generator.conv_pre.weight_v, upstream.generator.conv_pre.weight_g
    norms = torch.linalg.vector_norm(v, dim=(1, 2), keepdim=True)
    assert float((g / norms - 1).abs().min().detach()) > 1e-3


def test_upstream_outputs_differ_between_clips(upstream: SimpleNamespace) -> None:
    codes_a, y_a = _upstream_notebook(upstream, _clip(OFF_HOP, 4))
    codes_b, y_b = _upstream_notebook(upstream, _clip(OFF_HOP, 5))
    assert float((codes_a != codes_b).float().mean()) > 0.5
    assert relative_change(y_a, y_b) > 0.1
    assert 0.01 < rms(y_a) < 1.0


@pytest.mark.parametrize("seed", [4, 5])
def test_adapter_codes_equal_upstream_off_the_hop(upstream: SimpleNamespace, codec: Codec, seed: int) -> None:
    """On 30,123 samples upstream encodes the whole clip into 94 frames; ncst emits those plus the held one."""
    x = _clip(OFF_HOP, seed)
    codes_up, _ = _upstream_notebook(upstream, x)
    codes = codec.encode(x).levels[0]
    assert codes_up.shape == (1, 4, OFF_HOP // HOP)
    assert torch.equal(codes[..., : OFF_HOP // HOP], codes_up)
    assert torch.equal(codes[..., -1], codes_up[..., -1])  # the held frame repeats upstream's last
    assert int(torch.unique(codes).numel()) > 100


def test_adapter_audio_equals_upstream_off_the_hop(upstream: SimpleNamespace, codec: Codec) -> None:
    """Upstream's audio up to its last frame (which fades into the tail), and a tail at the signal's level."""
    x = _clip(OFF_HOP, 4)
    _, y_up = _upstream_notebook(upstream, x)
    y = codec.resynthesize(x)
    kept = (OFF_HOP // HOP - 1) * HOP
    assert y.shape == x.shape
    assert relative_error(y[:, :kept], y_up[:, :kept]) <= RELATIVE_TOLERANCE
    assert rms(y[:, -(OFF_HOP % HOP) :]) > 0.1 * rms(y_up)


def test_adapter_matches_upstream_on_the_hop(upstream: SimpleNamespace, codec: Codec) -> None:
    x = torch.cat([_clip(9600, 6), 0.3 * _clip(9600, 7)])
    codes_up, y_up = _upstream_notebook(upstream, x)
    codes = codec.encode(x)
    assert codes.levels[0].shape == (2, 4, 9600 // HOP)
    assert torch.equal(codes.levels[0], codes_up)
    assert relative_error(codec.resynthesize(x), y_up) <= RELATIVE_TOLERANCE


def test_upstream_without_weight_norm_matches(upstream: SimpleNamespace, codec: Codec) -> None:
    """Upstream's copy-synthesis script removes weight norm first; the folded weights give the same output."""
    folded = SimpleNamespace(
        encoder=copy.deepcopy(upstream.encoder),
        quantizer=upstream.quantizer,
        generator=copy.deepcopy(upstream.generator),
    )
    folded.encoder.remove_weight_norm()
    folded.generator.remove_weight_norm()
    x = _clip(9600, 8)
    codes_up, y_up = _upstream_notebook(folded, x)
    assert torch.equal(codec.encode(x).levels[0], codes_up)
    assert relative_error(codec.resynthesize(x), y_up) <= RELATIVE_TOLERANCE
