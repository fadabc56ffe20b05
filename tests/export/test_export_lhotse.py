"""`export_dataset(..., "lhotse")`: manifests that lhotse itself loads, with ncst's labels in `custom`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import soundfile as sf

from ncst.errors import MissingDependencyError
from ncst.export import export_dataset


@pytest.fixture(scope="module")
def lhotse_out(flat_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("lhotse")
    out = tmp_path_factory.mktemp("lhotse") / "out"
    export_dataset(flat_build, out, "lhotse")
    return out


def test_lhotse_recordings_load_with_lhotse(lhotse_out: Path) -> None:
    from lhotse import RecordingSet, load_manifest

    recordings = load_manifest(lhotse_out / "ncst_recordings_wav.jsonl.gz")
    assert isinstance(recordings, RecordingSet)
    assert len(recordings) == 3


def test_lhotse_supervisions_carry_class_codec_label_and_split(lhotse_out: Path) -> None:
    from lhotse import load_manifest

    sup = load_manifest(lhotse_out / "ncst_supervisions_wav.jsonl.gz")[0]
    assert sup.custom["class_id"] == 1
    assert sup.custom["codec_spec"] == "fakecodec@16k"
    assert sup.custom["label"] == "fake"
    assert sup.custom["split"] == "wav"
    assert sup.speaker == "spk1"


def test_lhotse_supervision_covers_its_recording(lhotse_out: Path) -> None:
    from lhotse import load_manifest

    recordings = load_manifest(lhotse_out / "ncst_recordings_wav.jsonl.gz")
    sup = load_manifest(lhotse_out / "ncst_supervisions_wav.jsonl.gz")[1]
    assert sup.duration == recordings[sup.recording_id].duration


def test_lhotse_audio_reads_through_lhotse(lhotse_out: Path, flat_build: Path) -> None:
    from lhotse import load_manifest

    recording = load_manifest(lhotse_out / "ncst_recordings_wav.jsonl.gz")[0]
    audio = recording.load_audio()
    expected, rate = sf.read(flat_build / "wav" / "fake_spk1_000.wav", dtype="float32")
    assert audio.shape == (1, len(expected))
    assert rate == recording.sampling_rate
    assert abs(audio[0] - expected).max() < 1e-4


def test_lhotse_dataset_root_writes_one_pair_per_set(dataset_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("lhotse")
    export_dataset(dataset_root, tmp_path / "out", "lhotse")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        f"ncst_{kind}_{part}.jsonl.gz" for kind in ("recordings", "supervisions")
        for part in ("train", "eval_id", "ID_diff_config-C3-1")
    )  # fmt: skip


def test_lhotse_recording_ids_are_unique_across_sets(dataset_root: Path, tmp_path: Path) -> None:
    lhotse = pytest.importorskip("lhotse")
    export_dataset(dataset_root, tmp_path / "out", "lhotse")
    ids = [r.id for p in sorted((tmp_path / "out").glob("ncst_recordings_*")) for r in lhotse.load_manifest(p)]
    assert len(ids) == len(set(ids))


def test_lhotse_real_file_has_no_codec(dataset_root: Path, tmp_path: Path) -> None:
    lhotse = pytest.importorskip("lhotse")
    export_dataset(dataset_root, tmp_path / "out", "lhotse")
    sups = lhotse.load_manifest(tmp_path / "out" / "ncst_supervisions_train.jsonl.gz")
    real = [s for s in sups if s.custom["class_id"] == 0]
    assert [s.custom["codec_spec"] for s in real] == [None]


def test_lhotse_missing_names_the_extra(flat_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lhotse", None)  # `import lhotse` now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install ncst\[lhotse\]"):
        export_dataset(flat_build, tmp_path / "out", "lhotse")
