"""EnCodec adapter: conformance, variants, seeded random weights, local-path and (mocked) pretrained loading."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("encodec")

from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.encodec import CHECKPOINT_NAME, CHECKPOINT_URL, VARIANTS, EncodecCodec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import ChecksumError, MissingDependencyError, WeightsError


def _varying_clip(duration_s: float = 0.5, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("encodec").load("random", seed=0)


def test_encodec_conformance_random(codec: Codec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(6000.0, rel=1e-6)


@pytest.mark.parametrize(
    ("variant", "prefix", "n_q", "bitrate_bps"),
    [
        ("6kbps", "encodec", 8, 6000.0),
        ("3kbps", "C4-1", 4, 3000.0),
        ("12kbps", "C4-2", 16, 12000.0),
        ("24kbps", "C4-3", 32, 24000.0),
    ],
)
def test_encodec_variant_cards(variant: str, prefix: str, n_q: int, bitrate_bps: float) -> None:
    card = get_card(f"encodec@{variant}")
    assert card is VARIANTS[variant]
    assert (card.class_id, card.file_prefix, card.n_quantizers) == (4, prefix, n_q)
    assert card.sample_rate_hz == 24000
    assert card.frame_rate_hz == 75.0
    assert card.codebook_size == 1024
    assert card.effective_bitrate_bps == bitrate_bps == card.nominal_bitrate_bps
    assert (card.upstream_package, card.pip_extra, card.checkpoint) == ("encodec", "encodec", CHECKPOINT_URL)


@pytest.mark.parametrize(
    ("variant", "n_q", "bitrate_bps"), [("3kbps", 4, 3000.0), ("12kbps", 16, 12000.0), ("24kbps", 32, 24000.0)]
)
def test_encodec_variant_conformance(variant: str, n_q: int, bitrate_bps: float) -> None:
    report = check_codec(f"encodec@{variant}", weights="random")
    assert report.ok, report.to_dict()
    assert report.n_quantizers == n_q
    assert report.measured_bitrate_bps == pytest.approx(bitrate_bps, rel=1e-6)


def test_encodec_variants_share_random_weights(codec: Codec) -> None:
    other = get_codec("encodec@3kbps").load("random", seed=0)
    x = _varying_clip()
    codes_6, codes_3 = codec.encode(x).levels[0], other.encode(x).levels[0]
    assert torch.equal(codes_3, codes_6[:, :4])  # same model, fewer codebooks


def test_encodec_codes_vary_per_level(codec: Codec) -> None:
    codes = codec.encode(_varying_clip()).levels[0]  # [1, 8, 38]
    assert codes.shape == (1, 8, 38)
    distinct = [int(torch.unique(codes[:, q]).numel()) for q in range(codes.shape[1])]
    assert min(distinct) >= 5, distinct


def test_encodec_codes_cover_padded_input(codec: Codec) -> None:
    codes = codec.encode(torch.zeros(2, 2401))
    assert codes.levels[0].shape == (2, 8, 8)  # ceil(2401 / 320)
    assert codes.covered_samples == 8 * 320


@pytest.mark.parametrize("length", [1, 321, 2401])
def test_encodec_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length)
    assert torch.isfinite(y).all()


def test_encodec_seed_controls_weights(codec: Codec) -> None:
    x = _varying_clip(0.2)
    same = get_codec("encodec").load("random", seed=0)
    other = get_codec("encodec").load("random", seed=1)
    assert isinstance(same, EncodecCodec)
    assert isinstance(codec, EncodecCodec)
    assert same.model is not None
    assert codec.model is not None
    for (name, a), (_, b) in zip(codec.model.state_dict().items(), same.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


def _state_dict(codec: Codec) -> dict[str, torch.Tensor]:
    assert isinstance(codec, EncodecCodec)
    assert codec.model is not None
    return codec.model.state_dict()


def test_encodec_loads_local_state_dict(codec: Codec, tmp_path: Path) -> None:
    file = tmp_path / "encodec_random.th"
    torch.save(_state_dict(codec), file)
    loaded = get_codec("encodec@24kbps").load(file)
    reference = get_codec("encodec@24kbps").load("random", seed=0)
    x = _varying_clip(0.2)
    assert torch.equal(loaded.resynthesize(x), reference.resynthesize(x))
    assert loaded.checkpoint_paths == [file.resolve()]


def test_encodec_loads_the_folder_save_local_writes(codec: Codec, tmp_path: Path) -> None:
    codec.save_local(tmp_path / "w")
    assert get_codec("encodec").load(tmp_path / "w").checkpoint_paths == [
        (tmp_path / "w" / "encodec_24khz.th").resolve()
    ]


def test_encodec_checks_hash_in_file_name(codec: Codec, tmp_path: Path) -> None:
    file = tmp_path / "plain.th"
    torch.save(_state_dict(codec), file)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    good = file.rename(tmp_path / f"encodec_24khz-{digest[:8]}.th")
    assert get_codec("encodec").load(good).checkpoint_paths == [good]
    bad = good.rename(tmp_path / "encodec_24khz-00000000.th")
    with pytest.raises(ChecksumError, match="00000000"):
        get_codec("encodec").load(bad)


def test_encodec_rejects_bad_path(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=CHECKPOINT_NAME):
        get_codec("encodec").load(tmp_path)  # a folder without the checkpoint
    junk = tmp_path / "junk.th"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError):
        get_codec("encodec").load(junk)


def test_encodec_pretrained_uses_torch_hub(codec: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    state = _state_dict(codec)
    calls: list[dict[str, object]] = []

    def fake_load_state_dict_from_url(url: str, model_dir: str | None = None, **kwargs: object) -> object:
        calls.append({"url": url, **kwargs})
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
        cached.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, cached)  # what torch hub leaves in its cache
        return torch.load(cached, map_location="cpu")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_load_state_dict_from_url)
    loaded = get_codec("encodec@12kbps").load("pretrained")
    assert [c["url"] for c in calls] == [CHECKPOINT_URL]
    assert calls[0].get("check_hash") is True
    assert loaded.checkpoint_paths == [tmp_path / "torch" / "hub" / "checkpoints" / CHECKPOINT_NAME]
    x = _varying_clip(0.2)
    reference = get_codec("encodec@12kbps").load("random", seed=0)
    assert torch.equal(loaded.resynthesize(x), reference.resynthesize(x))


def test_encodec_missing_package_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "encodec", None)
    with pytest.raises(MissingDependencyError, match=r"ncst\[encodec\]"):
        get_codec("encodec").load("random")
