"""The st-codecfake-plus variants of known families: dac@16khz, mimi@32q, snac@32khz.

Each is checked like a default variant (the adapter contract tests only build defaults): conformance with
random weights, a local round trip, and `pretrained` from stubbed downloads; plus the numbers that make it
probe its axis (rate, codebook count) rather than repeat the paper's class.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from ncst.codecs.conformance import check_codec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.testing import check_local_round_trip, check_mocked_pretrained

#: spec -> import name of its upstream package.
VARIANTS = {"dac@16khz": "dac", "mimi@32q": "moshi", "snac@32khz": "snac"}


def _require(spec: str) -> None:
    if importlib.util.find_spec(VARIANTS[spec]) is None:
        pytest.skip(f"{spec}: {VARIANTS[spec]} is not installed")


def _clip(rate: int, duration_s: float, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(rate, duration_s, generator=g).reshape(1, -1)


@pytest.mark.parametrize("spec", sorted(VARIANTS))
def test_variant_conformance_with_random_weights(spec: str) -> None:
    _require(spec)
    report = check_codec(spec, weights="random", duration_s=0.25)
    assert report.ok, report.to_dict()


@pytest.mark.parametrize("spec", sorted(VARIANTS))
def test_variant_local_round_trip(spec: str, tmp_path: Path) -> None:
    _require(spec)
    check_local_round_trip(spec, tmp_path / "local")


@pytest.mark.parametrize("spec", sorted(VARIANTS))
def test_variant_pretrained_from_stubbed_downloads(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require(spec)
    check_mocked_pretrained(spec, tmp_path, monkeypatch)


def test_dac_16khz_card_numbers() -> None:
    card = get_card("dac@16khz")
    assert (card.sample_rate_hz, card.n_quantizers, card.frame_rate_hz, card.codebook_size) == (16000, 12, 50.0, 1024)
    assert card.effective_bitrate_bps == card.nominal_bitrate_bps == 6000.0
    assert card.checkpoint.endswith("/0.0.5/weights_16khz.pth")
    assert card.class_id == 9  # the family's class; the recipe gives the audio its own id


def test_dac_16khz_one_frame_per_320_samples() -> None:
    _require("dac@16khz")
    codec = get_codec("dac@16khz").load("random")
    assert codec.encode(_clip(16000, 0.2)).levels[0].shape == (1, 12, 10)  # 3200 samples


def test_mimi_32q_card_numbers() -> None:
    card = get_card("mimi@32q")
    assert (card.sample_rate_hz, card.n_quantizers, card.frame_rate_hz, card.codebook_size) == (24000, 32, 12.5, 2048)
    assert card.effective_bitrate_bps == card.nominal_bitrate_bps == 4400.0


def test_mimi_32q_extends_the_8q_tokens() -> None:
    _require("mimi@32q")
    x = _clip(24000, 0.25)
    many = get_codec("mimi@32q").load("random", seed=1).encode(x).levels[0]
    few = get_codec("mimi@8q").load("random", seed=1).encode(x).levels[0]
    assert many.shape[1] == 32
    assert torch.equal(many[:, :8], few)


def test_snac_32khz_card_numbers() -> None:
    card = get_card("snac@32khz")
    assert (card.sample_rate_hz, card.n_quantizers, card.codebook_size, card.pad_multiple) == (32000, 4, 4096, 12288)
    assert card.frame_rate_hz == pytest.approx(32000 / 384)
    assert card.effective_bitrate_bps == pytest.approx(1875.0)
    assert card.nominal_bitrate_bps == 1900.0


def test_snac_32khz_levels_match_upstream_readme() -> None:
    _require("snac@32khz")
    codes = get_codec("snac@32khz").load("random").encode(torch.zeros(1, 32000))  # upstream: [12, 24, 48, 96]
    assert [int(level.shape[-1]) for level in codes.levels] == [12, 24, 48, 96]


def test_snac_24khz_config_is_refused_for_32khz(tmp_path: Path) -> None:
    _require("snac@32khz")
    from ncst.errors import WeightsError

    folder = get_codec("snac").load("random").save_local(tmp_path / "snac24")
    with pytest.raises(WeightsError, match="snac_32khz"):
        get_codec("snac@32khz").load(folder)


def test_dac_44khz_folder_is_refused_for_16khz(tmp_path: Path) -> None:
    _require("dac@16khz")
    from ncst.errors import WeightsError

    folder = tmp_path / "dac"
    get_codec("dac").load("random").save_local(folder)
    with pytest.raises(WeightsError, match="44100 Hz"):
        get_codec("dac@16khz").load(folder)


def test_mimi_variants_share_one_checkpoint_folder() -> None:
    from ncst.cli.weights import weights_dir_folder

    assert weights_dir_folder("mimi@32q") == "mimi"


def test_mimi_shared_model_switches_codebook_count() -> None:
    _require("mimi@32q")
    x = _clip(24000, 0.25)
    owner = get_codec("mimi@8q").load("random", seed=2)
    wide = get_codec("mimi@32q").share_model(owner)
    assert wide.encode(x).levels[0].shape[1] == 32
    owner._prepare_model(owner.model)  # what the job runner does before using the other variant again
    assert owner.encode(x).levels[0].shape[1] == 8
