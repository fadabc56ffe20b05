"""`export_dataset(..., "parquet")`: one table of every file with its labels and provenance fields."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ncst.export import export_dataset
from ncst.io import sha256_file
from ncst.recipes import load_recipe


def _table(src: Path, out: Path) -> pd.DataFrame:
    export_dataset(src, out, "parquet")
    return pd.read_parquet(out / "ncst_files.parquet")


@pytest.fixture(scope="module")
def flat_table(flat_build: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return _table(flat_build, tmp_path_factory.mktemp("parquet") / "out")


@pytest.fixture(scope="module")
def root_table(dataset_root: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return _table(dataset_root, tmp_path_factory.mktemp("parquet") / "out")


def test_parquet_has_one_row_per_labelled_file(flat_table: pd.DataFrame) -> None:
    assert sorted(flat_table["file"]) == [f"wav/fake_spk1_00{i}.wav" for i in range(3)]


def test_parquet_rows_carry_labels(flat_table: pd.DataFrame) -> None:
    row = flat_table.iloc[0]
    assert row["label"] == "fake"
    assert row["class_id"] == 1
    assert row["codec_spec"] == "fakecodec@16k"
    assert row["split"] == "wav"


def test_parquet_provenance_hash_matches_the_file(flat_table: pd.DataFrame) -> None:
    row = flat_table.iloc[0]
    assert row["output_sha256"] == sha256_file(row["path"])


def test_parquet_header_fields_match_the_file(flat_table: pd.DataFrame) -> None:
    row = flat_table.set_index("file").loc["wav/fake_spk1_001.wav"]
    assert row["num_samples"] == 8000
    assert row["sample_rate_hz"] == 16000


def test_parquet_dataset_root_rows_per_set(root_table: pd.DataFrame) -> None:
    assert root_table["split"].value_counts().to_dict() == {"train": 3, "eval_id": 1, "ID_diff_config/C3-1": 1}


def test_parquet_file_without_provenance_has_nulls(root_table: pd.DataFrame) -> None:
    real = root_table.set_index("file").loc["train/spk1_009.wav"]
    assert not real["has_provenance"]
    assert pd.isna(real["output_sha256"])
    assert real["label"] == "real"


def test_parquet_manifest_fields_reach_the_table(root_table: pd.DataFrame) -> None:
    real = root_table.set_index("file").loc["train/spk1_009.wav"]
    assert real["corpus"] == "vctk"
    assert real["language"] == "en"


def test_parquet_download_takes_codec_from_the_built_in_recipe(download_root: Path, tmp_path: Path) -> None:
    table = _table(download_root, tmp_path / "out").set_index("file")
    recipe = load_recipe("st-codecfake")
    entry = next(e for e in recipe.subsets if e.folder == "eval_id")
    assert table.loc["eval_id/mimi_p225_001.wav", "codec_spec"] == recipe.codec_for(entry, 1)
