"""DAC 44.1 kHz adapter: conformance, seeds, DAC.save files and (mocked) dac.utils.download.

DAC is slow on CPU, so the model is built once per module and clips are at most 0.25 s.
"""

from __future__ import annotations

import pathlib
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("dac")

from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.dac import CHECKPOINT_URL, DacCodec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import MissingDependencyError, UntrustedCheckpointError, WeightsError

RATE_HZ = 44100
EXACT_BITRATE_BPS = 44100 / 512 * 9 * 10  # 7751.953125


def _varying_clip(duration_s: float = 0.25, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(RATE_HZ, duration_s, generator=g).reshape(1, -1)


def _model_of(codec: Codec) -> torch.nn.Module:
    assert isinstance(codec, DacCodec)
    assert codec.model is not None
    return codec.model


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("dac").load("random", seed=0)


@pytest.fixture(scope="module")
def clip() -> torch.Tensor:
    return _varying_clip(0.1)


@pytest.fixture(scope="module")
def reference_output(codec: Codec, clip: torch.Tensor) -> torch.Tensor:
    return codec.resynthesize(clip)


@pytest.fixture(scope="module")
def saved_file(codec: Codec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("dac") / "weights_44khz_8kbps_0.0.1.pth"
    _model_of(codec).save(str(file), package=False)  # {'state_dict', 'metadata': {'kwargs'}}
    return file


def test_dac_card() -> None:
    card = get_card("dac")
    assert (card.variant, card.class_id, card.file_prefix) == ("44khz_8kbps", 9, "dac")
    assert (card.sample_rate_hz, card.n_quantizers, card.codebook_size) == (44100, 9, 1024)
    assert card.frame_rate_hz == 44100 / 512
    assert card.effective_bitrate_bps == EXACT_BITRATE_BPS
    assert card.nominal_bitrate_bps == 8000.0
    assert (card.upstream_package, card.pip_extra, card.checkpoint) == ("descript-audio-codec", "dac", CHECKPOINT_URL)
    assert "inferred" in card.notes


def test_dac_conformance_random(codec: Codec) -> None:
    report = check_codec(codec, duration_s=0.25)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(EXACT_BITRATE_BPS, rel=1e-4)


def test_dac_codes_vary_per_level(codec: Codec) -> None:
    codes = codec.encode(_varying_clip(0.25)).levels[0]  # 11025 -> 11264 samples: 22 frames
    assert codes.shape == (1, 9, 22)
    distinct = [int(torch.unique(codes[:, q]).numel()) for q in range(codes.shape[1])]
    assert min(distinct) >= 5, distinct


@pytest.mark.parametrize("length", [1, 513])
def test_dac_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length)
    assert torch.isfinite(y).all()


def test_dac_seed_controls_weights(codec: Codec, clip: torch.Tensor, reference_output: torch.Tensor) -> None:
    other = get_codec("dac").load("random", seed=1)
    assert not torch.equal(other.resynthesize(clip), reference_output)


def test_dac_loads_saved_file(
    codec: Codec, saved_file: Path, clip: torch.Tensor, reference_output: torch.Tensor
) -> None:
    loaded = get_codec("dac").load(saved_file, seed=0)
    assert loaded.checkpoint_paths == [saved_file]
    for (name, a), (_, b) in zip(_model_of(codec).state_dict().items(), _model_of(loaded).state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(loaded.resynthesize(clip), reference_output)  # same weights -> same audio


def test_dac_pretrained_uses_dac_download(
    saved_file: Path, clip: torch.Tensor, reference_output: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dac.utils

    calls: list[dict[str, object]] = []

    def fake_download(model_type: str = "44khz", model_bitrate: str = "8kbps", tag: str = "latest") -> Path:
        calls.append({"model_type": model_type, "model_bitrate": model_bitrate, "tag": tag})
        return saved_file

    monkeypatch.setattr(dac.utils, "download", fake_download)
    loaded = get_codec("dac").load("pretrained")
    assert calls == [{"model_type": "44khz", "model_bitrate": "8kbps", "tag": "0.0.1"}]
    assert dac.utils.__MODEL_URLS__[("44khz", "0.0.1", "8kbps")] == CHECKPOINT_URL
    assert loaded.checkpoint_paths == [saved_file]
    assert torch.equal(loaded.resynthesize(clip), reference_output)


def test_dac_loads_file_with_unsafe_metadata(codec: Codec, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    file = tmp_path / "weights.pth"
    package = {
        "state_dict": _model_of(codec).state_dict(),
        "metadata": {"kwargs": {"sample_rate": 44100}, "origin": pathlib.PurePosixPath("/train")},
    }
    torch.save(package, file)
    with pytest.raises(UntrustedCheckpointError, match="--trust-checkpoint") as refused:
        get_codec("dac").load(file)  # never unpickled without the opt-in (issue 7 item 1)
    assert str(file) in str(refused.value)
    loaded = get_codec("dac").load(file, trust_checkpoint=True)
    assert "full unpickling" in caplog.text
    for (name, a), (_, b) in zip(_model_of(codec).state_dict().items(), _model_of(loaded).state_dict().items()):
        assert torch.equal(a, b), name


def test_dac_rejects_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError):
        get_codec("dac").load(junk)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsError, match="a folder holding weights.pth"):
        get_codec("dac").load(tmp_path / "empty")


def test_dac_loads_the_folder_save_local_writes(tmp_path: Path) -> None:
    codec = get_codec("dac").load("random", seed=2)
    codec.save_local(tmp_path / "w")
    assert get_codec("dac").load(tmp_path / "w").checkpoint_paths == [tmp_path / "w" / "weights.pth"]


def test_dac_missing_package_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dac", None)
    with pytest.raises(MissingDependencyError, match=r"ncst\[dac\]"):
        get_codec("dac").load("random")
