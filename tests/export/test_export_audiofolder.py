"""`export_dataset(..., "hf-audiofolder")`: per-set metadata.jsonl in the audiofolder convention, audio linked
or copied under the export, loadable by `datasets` (those tests skip when it is not installed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from ncst.export import export_dataset


def _metadata(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def _datasets() -> Any:
    datasets = pytest.importorskip("datasets")
    if int(datasets.__version__.split(".")[0]) >= 4:  # datasets 4+ decodes (and encodes) audio with torchcodec
        pytest.importorskip("torchcodec")
    return datasets


def test_audiofolder_metadata_names_files_beside_it(flat_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_dataset(flat_build, out, "hf-audiofolder")
    names = [row["file_name"] for row in _metadata(out / "wav")]
    assert names == [f"fake_spk1_00{i}.wav" for i in range(3)]
    assert all((out / "wav" / n).is_file() for n in names)


def test_audiofolder_metadata_carries_labels(flat_build: Path, tmp_path: Path) -> None:
    export_dataset(flat_build, tmp_path / "out", "hf-audiofolder")
    row = _metadata(tmp_path / "out" / "wav")[0]
    assert row["class_id"] == 1
    assert row["codec_spec"] == "fakecodec@16k"
    assert row["label"] == "fake"
    assert row["split"] == "wav"


def test_audiofolder_links_to_the_source_by_default(flat_build: Path, tmp_path: Path) -> None:
    export_dataset(flat_build, tmp_path / "out", "hf-audiofolder")
    link = tmp_path / "out" / "wav" / "fake_spk1_000.wav"
    assert link.is_symlink()
    assert link.resolve() == (flat_build / "wav" / "fake_spk1_000.wav").resolve()


def test_audiofolder_copy_audio_writes_real_files(flat_build: Path, tmp_path: Path) -> None:
    export_dataset(flat_build, tmp_path / "out", "hf-audiofolder", copy_audio=True)
    copy = tmp_path / "out" / "wav" / "fake_spk1_000.wav"
    assert not copy.is_symlink()
    assert copy.read_bytes() == (flat_build / "wav" / "fake_spk1_000.wav").read_bytes()


def test_audiofolder_dataset_root_gets_one_flat_folder_per_set(dataset_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_dataset(dataset_root, out, "hf-audiofolder")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["ID_diff_config-C3-1", "eval_id", "train"]
    assert [row["split"] for row in _metadata(out / "ID_diff_config-C3-1")] == ["ID_diff_config/C3-1"]


def test_audiofolder_readme_lists_every_set_as_a_split(dataset_root: Path, tmp_path: Path) -> None:
    export_dataset(dataset_root, tmp_path / "out", "hf-audiofolder")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert '- split: ID_diff_config_C3_1\n    path: "ID_diff_config-C3-1/*"' in readme


def test_audiofolder_loads_with_datasets_data_dir(flat_build: Path, tmp_path: Path) -> None:
    datasets = _datasets()
    export_dataset(flat_build, tmp_path / "out", "hf-audiofolder")
    ds = datasets.load_dataset("audiofolder", data_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "hf"))
    first = ds["train"].sort("source_file")[0]
    expected, _ = sf.read(flat_build / "wav" / "fake_spk1_000.wav")
    assert ds["train"].num_rows == 3
    assert first["class_id"] == 1
    assert len(first["audio"]["array"]) == len(expected)


def test_audiofolder_loads_every_set_through_the_readme(dataset_root: Path, tmp_path: Path) -> None:
    datasets = _datasets()
    export_dataset(dataset_root, tmp_path / "out", "hf-audiofolder")
    ds = datasets.load_dataset(str(tmp_path / "out"), cache_dir=str(tmp_path / "hf"))
    assert {name: ds[name].num_rows for name in ds} == {"train": 3, "eval_id": 1, "ID_diff_config_C3_1": 1}
