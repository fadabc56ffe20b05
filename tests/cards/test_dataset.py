"""Reading a flat build and a dataset root into groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.cards.dataset import group_hours, read_dataset
from ncst.errors import CorpusLayoutError


def test_read_dataset_groups_a_flat_build_by_codec_spec(flat_build: Path) -> None:
    view = read_dataset(flat_build)
    assert [g.codec_spec for g in view.groups] == ["fakecodec@16k", "fakecodec@24k"]


def test_read_dataset_counts_every_file_of_a_flat_build(flat_build: Path) -> None:
    view = read_dataset(flat_build)
    assert [len(g.files) for g in view.groups] == [3, 3]


def test_read_dataset_orders_sets_classes_and_variants_naturally(recipe_root: Path) -> None:
    view = read_dataset(recipe_root)
    assert [g.key for g in view.groups] == [
        "train/0/real@16k",
        "eval_id/0/real@16k",
        "eval_id/4/encodec@3kbps",
        "eval_id/4/encodec@12kbps",
        "ID_diff_config/C3-2/3/funcodec@6kbps",
        "ID_diff_config/C3-10/3/funcodec@24kbps",
    ]


def test_read_dataset_takes_utterance_ids_from_provenance(recipe_root: Path) -> None:
    view = read_dataset(recipe_root)
    encodec = next(g for g in view.groups if g.codec_spec == "encodec@3kbps")
    assert [f.utt_id for f in encodec.files] == ["p225_001", "p225_002", "p226_003"]


def test_read_dataset_strips_the_class_prefix_without_provenance(recipe_root: Path) -> None:
    (recipe_root / "provenance.jsonl").unlink()
    view = read_dataset(recipe_root)
    fakes = next(g for g in view.groups if g.set_name == "eval_id" and g.class_id == 4)
    assert fakes.files[0].utt_id == "p225_001"


def test_read_dataset_strips_the_prefix_recipe_json_records_for_an_added_class(recipe_root: Path) -> None:
    """A class beyond the class table (`--add-codec`, st-codecfake-plus) names its files with its codec's prefix."""
    import json

    (recipe_root / "provenance.jsonl").unlink()
    (recipe_root / "eval_ood").mkdir()
    (recipe_root / "eval_ood" / "vocos_encodec_p225_001.wav").write_bytes(b"")
    (recipe_root / "label" / "eval_ood12.txt").write_text("vocos_encodec_p225_001.wav fake 12\n", encoding="utf-8")
    meta = json.loads((recipe_root / "recipe.json").read_text(encoding="utf-8"))
    meta["label_files"]["eval_ood12.txt"] = "eval_ood"
    meta["prefixes"]["eval_ood"] = {"12": "vocos_encodec"}
    (recipe_root / "recipe.json").write_text(json.dumps(meta), encoding="utf-8")
    view = read_dataset(recipe_root)
    added = next(g for g in view.groups if g.class_id == 12)
    assert added.files[0].utt_id == "p225_001"


def test_read_dataset_refuses_a_folder_that_is_no_dataset(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="not a dataset"):
        read_dataset(tmp_path)


def test_read_dataset_names_file_and_line_of_a_bad_label_line(recipe_root: Path) -> None:
    with open(recipe_root / "label" / "eval_id.txt", "a", encoding="utf-8") as fh:
        fh.write("../escape.wav fake 4\n")
    with pytest.raises(CorpusLayoutError, match=r"eval_id\.txt:10"):
        read_dataset(recipe_root)


def test_group_hours_come_from_provenance(recipe_root: Path) -> None:
    view = read_dataset(recipe_root)
    real = next(g for g in view.groups if g.key == "eval_id/0/real@16k")
    assert group_hours(recipe_root, real) == (pytest.approx(3.0 / 3600), False)


def test_group_hours_read_the_headers_without_provenance(recipe_root: Path) -> None:
    (recipe_root / "provenance.jsonl").unlink()
    view = read_dataset(recipe_root)
    real = next(g for g in view.groups if g.set_name == "eval_id" and g.class_id == 0)
    assert group_hours(recipe_root, real) == (pytest.approx(3.0 / 3600), False)


def test_group_hours_are_an_estimate_beyond_the_sample(recipe_root: Path) -> None:
    (recipe_root / "provenance.jsonl").unlink()
    view = read_dataset(recipe_root)
    real = next(g for g in view.groups if g.set_name == "eval_id" and g.class_id == 0)
    assert group_hours(recipe_root, real, sample=1) == (pytest.approx(3.0 / 3600), True)


def test_read_dataset_of_an_official_download_uses_the_recipe_folder_names(recipe_root: Path) -> None:
    (recipe_root / "recipe.json").unlink()
    (recipe_root / "provenance.jsonl").unlink()
    assert read_dataset(recipe_root).sets == ["train", "eval_id", "ID_diff_config/C3-2"]
