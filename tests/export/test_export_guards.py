"""Hostile and careless input to `export_dataset`: crafted label files, links, and output folders that would
put the export among the audio, over other files, or outside `--out`. Each is refused with the file (and
line) named, and nothing is written outside the output folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ncst.errors import CorpusLayoutError
from ncst.export import ExportError, export_dataset
from ncst.export.paths import safe_target


@pytest.fixture
def root(fresh_root: Path) -> Path:
    return fresh_root


@pytest.fixture
def flat(flat_build: Path, tmp_path: Path) -> Path:
    """A fresh, editable copy of the flat build."""
    return Path(shutil.copytree(flat_build, tmp_path / "build"))


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_out_that_is_not_empty_is_refused(flat: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(flat, tmp_path / "out", "parquet")


def test_force_writes_into_a_non_empty_out_and_keeps_other_files(flat: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    export_dataset(flat, tmp_path / "out", "parquet", force=True)
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "out" / "ncst_files.parquet").is_file()


def test_out_inside_the_flat_audio_folder_is_refused(flat: Path) -> None:
    with pytest.raises(ExportError, match="inside the audio folder"):
        export_dataset(flat, flat / "wav" / "export", "hf-audiofolder")


def test_out_inside_a_labelled_folder_is_refused(root: Path) -> None:
    with pytest.raises(ExportError, match="inside the audio folder"):
        export_dataset(root, root / "ID_diff_config" / "C3-1" / "x", "parquet")


def test_out_inside_the_source_but_outside_its_audio_is_allowed(root: Path) -> None:
    result = export_dataset(root, root / "exports" / "parquet", "parquet")
    assert result.written == ((root / "exports" / "parquet" / "ncst_files.parquet").resolve(),)


def test_out_that_is_the_source_is_refused(flat: Path) -> None:
    with pytest.raises(ExportError, match="is or holds the source"):
        export_dataset(flat, flat, "parquet", force=True)


def test_out_that_holds_the_source_is_refused(flat: Path) -> None:
    with pytest.raises(ExportError, match="holds the source"):
        export_dataset(flat, flat.parent, "hf-audiofolder", force=True)


def test_label_line_with_a_path_is_refused_naming_file_and_line(root: Path, tmp_path: Path) -> None:
    with open(root / "label" / "train.txt", "a") as fh:
        fh.write("../../secret.wav fake 1\n")
    expected = r"train\.txt:4: column 1: '\.\./\.\./secret\.wav' has a component starting with '\.'"
    with pytest.raises(CorpusLayoutError, match=expected):
        export_dataset(root, tmp_path / "out", "parquet")


def test_label_line_naming_a_link_outside_the_source_is_refused(root: Path, tmp_path: Path) -> None:
    shutil.copyfile(root / "train" / "spk1_009.wav", tmp_path / "secret.wav")
    os.symlink(tmp_path / "secret.wav", root / "train" / "leak.wav")
    with open(root / "label" / "train.txt", "a") as fh:
        fh.write("leak.wav real 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:4: train/leak\.wav is a link to .*outside"):
        export_dataset(root, tmp_path / "out", "parquet")


def test_file_listed_twice_is_refused_naming_both_lines(root: Path, tmp_path: Path) -> None:
    with open(root / "label" / "train.txt", "a") as fh:
        fh.write("spk1_009.wav real 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:4: 'spk1_009\.wav' is listed again \(first on line 3\)"):
        export_dataset(root, tmp_path / "out", "parquet")


def test_real_with_a_fake_class_is_refused(root: Path, tmp_path: Path) -> None:
    text = (root / "label" / "eval_id.txt").read_text().replace("fake 1", "real 1")
    (root / "label" / "eval_id.txt").write_text(text)
    with pytest.raises(CorpusLayoutError, match=r"eval_id\.txt:1: real with class 1"):
        export_dataset(root, tmp_path / "out", "parquet")


def test_malformed_label_line_names_file_and_line(flat: Path, tmp_path: Path) -> None:
    with open(flat / "label.txt", "a") as fh:
        fh.write("only_two fields\n")
    with pytest.raises(CorpusLayoutError, match=r"label\.txt:4: expected"):
        export_dataset(flat, tmp_path / "out", "parquet")


def test_recipe_json_folder_outside_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    meta = json.loads((root / "recipe.json").read_text())
    meta["label_files"]["train.txt"] = "../elsewhere"
    (root / "recipe.json").write_text(json.dumps(meta))
    with pytest.raises(CorpusLayoutError, match="recipe.json"):
        export_dataset(root, tmp_path / "out", "parquet")


def test_unreadable_audio_is_refused_naming_the_label_line(root: Path, tmp_path: Path) -> None:
    (root / "train" / "spk1_009.wav").write_bytes(b"RIFF not audio")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:3: train/spk1_009\.wav is not readable audio"):
        export_dataset(root, tmp_path / "out", "parquet")


def test_missing_file_is_skipped_and_reported(root: Path, tmp_path: Path) -> None:
    (root / "train" / "spk1_009.wav").unlink()
    result = export_dataset(root, tmp_path / "out", "parquet")
    assert result.source.missing == (f"{root.resolve() / 'label' / 'train.txt'}:3",)
    assert result.source.splits == {"ID_diff_config/C3-1": 1, "eval_id": 1, "train": 2}


def test_planted_link_in_a_forced_out_cannot_redirect_writes(flat: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    os.symlink(elsewhere, tmp_path / "out" / "wav")
    with pytest.raises(ExportError, match="outside the output folder"):
        export_dataset(flat, tmp_path / "out", "hf-audiofolder", force=True)
    assert list(elsewhere.iterdir()) == []


def test_planted_file_link_in_a_forced_out_is_replaced_not_followed(flat: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "out").mkdir()
    os.symlink(victim, tmp_path / "out" / "ncst_files.parquet")
    export_dataset(flat, tmp_path / "out", "parquet", force=True)
    assert victim.read_text() == "keep"
    assert not (tmp_path / "out" / "ncst_files.parquet").is_symlink()


def test_safe_target_refuses_a_parent_reference(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="outside the output folder"):
        safe_target(tmp_path, "../x")


@pytest.mark.parametrize("fmt", ["parquet", "hf-audiofolder", "hf-audiofolder-copy"])
def test_nothing_is_written_outside_out(root: Path, tmp_path: Path, fmt: str) -> None:
    before = _files(tmp_path)
    export_dataset(root, tmp_path / "out", fmt.removesuffix("-copy"), copy_audio=fmt.endswith("-copy"))
    after = {f for f in _files(tmp_path) if not f.startswith("out")}
    assert after == before


def test_unknown_format_is_refused(flat: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="lhotse, hf-audiofolder, parquet"):
        export_dataset(flat, tmp_path / "out", "csv")


def test_copy_audio_with_another_format_is_refused(flat: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="--copy-audio applies to hf-audiofolder only"):
        export_dataset(flat, tmp_path / "out", "parquet", copy_audio=True)


def test_folder_of_neither_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusLayoutError, match="give a build-dataset output folder or a dataset root"):
        export_dataset(tmp_path / "empty", tmp_path / "out", "parquet")


def test_sets_that_would_share_a_folder_are_refused(root: Path, tmp_path: Path) -> None:
    (root / "ID_diff_config-C3-1").mkdir()
    shutil.copyfile(root / "train" / "spk1_009.wav", root / "ID_diff_config-C3-1" / "spk1_009.wav")
    (root / "label" / "x.txt").write_text("spk1_009.wav real 0\n")
    meta = json.loads((root / "recipe.json").read_text())
    meta["label_files"]["x.txt"] = "ID_diff_config-C3-1"
    (root / "recipe.json").write_text(json.dumps(meta))
    with pytest.raises(ExportError, match="would both be written as 'ID_diff_config-C3-1'"):
        export_dataset(root, tmp_path / "out", "hf-audiofolder")


def test_two_files_with_one_lhotse_id_are_refused(root: Path, tmp_path: Path) -> None:
    pytest.importorskip("lhotse")
    import soundfile as sf

    data, rate = sf.read(root / "train" / "spk1_009.wav")
    sf.write(root / "train" / "spk1_009.flac", data, rate)
    with open(root / "label" / "train.txt", "a") as fh:
        fh.write("spk1_009.flac real 0\n")
    with pytest.raises(ExportError, match="would share the lhotse recording id 'train-spk1_009'"):
        export_dataset(root, tmp_path / "out", "lhotse")
