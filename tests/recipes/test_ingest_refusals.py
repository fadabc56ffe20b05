"""`ncst ingest` on hostile arguments: it writes nothing outside its root, replaces nothing it did not write,
and a refused ingest leaves every file as it was (names, sizes, mtimes of the whole tmp folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.errors import NcstError
from ncst.recipes.ingest import IngestError, ingest
from ncst.testing import snapshot_tree
from ncst.verify import verify

runner = CliRunner()


def _wav(path: Path, value: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(800, value, dtype=np.float32), 16000)
    return path


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """An official-download-like root (`st/`) and a folder of two source files (`src/`)."""
    root = tmp_path / "st"
    _wav(root / "eval_id" / "p225_001.wav")
    _wav(root / "eval_id" / "mimi_p225_001.wav", 0.2)
    (root / "label").mkdir()
    (root / "label" / "eval_id.txt").write_text("p225_001.wav real 0\nmimi_p225_001.wav fake 1\n")
    _wav(tmp_path / "src" / "moshi_a.wav", 0.3)
    _wav(tmp_path / "src" / "moshi_b.wav", 0.4)
    (tmp_path / "outside").mkdir()
    return root, tmp_path / "src"


def _refused(tmp_path: Path, args: list[str], *expected: str) -> None:
    """Runs `ncst ingest ARGS`: exit 2, one line naming each expected text, and no change under tmp_path."""
    before = snapshot_tree(tmp_path)
    result = runner.invoke(app, ["ingest", *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1, result.output
    for text in expected:
        assert text in result.output, result.output
    assert snapshot_tree(tmp_path) == before


@pytest.mark.parametrize(
    "folder",
    ["/abs/moshi", "../moshi", "ALM/../../moshi", "ALM//moshi", "", ".", "ALM/./moshi", "ALM/mo shi",
     "ALM/mo\nshi", "ALM/mo\x01shi", "ALM/mo\tshi", "a" * 250, "ALM\\moshi",
     "ALM/mo\udcffshi"],
    ids=["absolute", "dotdot", "inner-dotdot", "empty-component", "empty", "dot", "inner-dot", "space", "newline",
         "control", "tab", "too-long", "backslash", "not-utf8"],
)  # fmt: skip
def test_ingest_refuses_a_folder_that_is_not_plain_relative_names(
    setup: tuple[Path, Path], tmp_path: Path, folder: str
) -> None:
    root, src = setup
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", folder, "--class-id", "1"], "--folder")


def test_ingest_refuses_a_folder_through_a_link_that_leads_out(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (root / "ALM").symlink_to(tmp_path / "outside", target_is_directory=True)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "--folder 'ALM/moshi'", "leads outside")  # fmt: skip
    assert not list((tmp_path / "outside").iterdir())


def test_ingest_refuses_a_provenance_log_that_is_a_link(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (tmp_path / "outside" / "victim.jsonl").write_text("")
    (root / "provenance.jsonl").symlink_to(tmp_path / "outside" / "victim.jsonl")
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "symbolic link")  # fmt: skip


@pytest.mark.parametrize(
    "folder", ["label", "label/x", "train", "eval_id", "eval_ood", "ID_diff_config/C3-1", "ID_diff_config/new",
               "ID_diff_config", "OOD_diff_source/x", "OOD_diff_config/wavtokenizer_small40", "ID_unseen_real"]
)  # fmt: skip
def test_ingest_refuses_reserved_folders(setup: tuple[Path, Path], tmp_path: Path, folder: str) -> None:
    root, src = setup
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", folder], f"--folder {folder!r}")


def test_ingest_force_adds_to_an_official_set_and_keeps_its_lines(setup: tuple[Path, Path]) -> None:
    root, src = setup
    result = runner.invoke(app, ["ingest", "--src", str(src), "--out", str(root), "--folder", "eval_id",
                                 "--class-id", "1", "--force"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (root / "label" / "eval_id.txt").read_text().splitlines() == [
        "p225_001.wav real 0", "mimi_p225_001.wav fake 1", "moshi_a.wav fake 1", "moshi_b.wav fake 1"
    ]  # fmt: skip
    report = verify(root)
    assert report.ok, report.problems()


def test_ingest_refuses_an_unknown_class(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "99"],
             "--class-id 99")  # fmt: skip


def test_ingest_accepts_a_class_recorded_in_recipe_json(setup: tuple[Path, Path]) -> None:
    root, src = setup
    (root / "recipe.json").write_text(json.dumps({"official_download": True, "classes": {"12": {"codec": "x"}}}))
    result = ingest(src, root, "ALM/new", 12)
    assert result.copied == 2


@pytest.mark.parametrize(
    "name", ["mo shi.wav", "mo\nshi.wav", "mo\tshi.wav", "mo\x7fshi.wav", "a" * 201 + ".wav", b"mo\xffshi.wav"],
    ids=["space", "newline", "tab", "control", "long", "not-utf8"],
)  # fmt: skip
def test_ingest_refuses_source_names_a_label_file_cannot_hold(
    setup: tuple[Path, Path], tmp_path: Path, name: str | bytes
) -> None:
    root, src = setup
    raw = os.fsencode(src) + b"/" + (name if isinstance(name, bytes) else name.encode())
    with open(raw, "wb") as fh:
        fh.write((src / "moshi_a.wav").read_bytes())
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "label files cannot hold it")  # fmt: skip


def test_ingest_refuses_a_source_that_is_not_audio(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (src / "moshi_z.wav").write_bytes(b"not audio")
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "moshi_z.wav: not readable audio")  # fmt: skip


def test_ingest_never_replaces_audio_it_did_not_write(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    _wav(root / "ALM" / "moshi" / "moshi_a.wav", 0.9)  # placed by hand, no provenance row
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "was not written by ingest")  # fmt: skip


def test_ingest_never_replaces_a_generated_file(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    ingest(src, root, "ALM/moshi", 1)
    prov = root / "provenance.jsonl"
    rows = [json.loads(line) for line in prov.read_text().splitlines()]
    for row in rows:  # the same rows as a codec build would write them
        row["extra"], row["codec_spec"] = {}, "mimi@12.5hz"
    prov.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "a generated file (mimi@12.5hz)")  # fmt: skip
    (root / "ALM" / "moshi" / "moshi_a.wav").unlink()  # gone from disk, still recorded: not ingest's to fill
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "recorded in provenance")  # fmt: skip


def test_ingest_never_replaces_an_ingested_file_with_other_bytes(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    ingest(src, root, "ALM/moshi", 1)
    _wav(src / "moshi_a.wav", -0.5)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "holds a different file ingested earlier")  # fmt: skip
    _wav(src / "moshi_a.wav", 0.3)  # the same bytes as ingested
    _wav(root / "ALM" / "moshi" / "moshi_b.wav", -0.7)  # edited in place after the ingest
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "changed since it was ingested")  # fmt: skip


def test_ingest_never_replaces_another_folders_label_file(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    ingest(src, root, "ALM/moshi", 1)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM-moshi", "--class-id", "1"],
             "is that of folder 'ALM/moshi'")  # fmt: skip


def test_ingest_never_replaces_an_unrecorded_label_file(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (root / "label" / "ALM-moshi.txt").write_text("someone_else.wav fake 1\n")
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "1"],
             "does not say which folder it labels")  # fmt: skip


def test_ingest_refuses_another_class_for_an_ingested_folder(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    ingest(src, root, "ALM/moshi", 1)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "2"],
             "was ingested as class 1")  # fmt: skip


def test_ingest_refuses_a_non_dataset_folder_that_is_not_empty(tmp_path: Path) -> None:
    _wav(tmp_path / "src" / "moshi_a.wav")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    _refused(tmp_path, ["--src", str(tmp_path / "src"), "--out", str(tmp_path / "home"), "--folder", "ALM/moshi",
                        "--class-id", "1"], "--out", "not a dataset root")  # fmt: skip


def test_ingest_refused_label_line_names_file_and_line(setup: tuple[Path, Path]) -> None:
    root, src = setup
    ingest(src, root, "ALM/moshi", 1)
    label = root / "label" / "ALM-moshi.txt"
    label.write_bytes(label.read_bytes() + b"moshi_\xff.wav fake 1\n")
    with pytest.raises(IngestError, match=r"ALM-moshi\.txt:3: not UTF-8"):
        ingest(src, root, "ALM/moshi", 1)
    label.write_text("moshi_a.wav fake\n")
    expected = r"ALM-moshi\.txt:1: expected '<file> <real\|fake> <class id>', got 'moshi_a.wav fake'"
    with pytest.raises(NcstError, match=expected):
        ingest(src, root, "ALM/moshi", 1)


def test_ingest_into_a_new_folder_makes_a_verifiable_root(tmp_path: Path) -> None:
    _wav(tmp_path / "src" / "moshi_a.wav")
    result = ingest(tmp_path / "src", tmp_path / "new", "ALM/moshi", 1)
    assert result.copied == 1
    assert verify(tmp_path / "new").ok


def test_ingest_checks_where_a_link_inside_the_root_leads(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (root / "ALM").symlink_to(root / "label", target_is_directory=True)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM", "--class-id", "1"],
             "--folder 'ALM'", "label/")  # fmt: skip
    (root / "ALM").unlink()
    (root / "ALM").symlink_to(root / "eval_id", target_is_directory=True)
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM", "--class-id", "1"],
             "the dataset's own sets live in 'eval_id'")  # fmt: skip


def test_ingest_ignores_class_keys_of_recipe_json_that_are_not_ids(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (root / "recipe.json").write_text(json.dumps({"official_download": True, "classes": {"²": {}, "9" * 5000: {}}}))
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "ALM/moshi", "--class-id", "2000"],
             "--class-id 2000")  # fmt: skip


def test_ingest_force_never_replaces_a_label_line_it_did_not_write(setup: tuple[Path, Path], tmp_path: Path) -> None:
    root, src = setup
    (root / "eval_id" / "p225_001.wav").unlink()  # listed, gone from disk: the line is still the dataset's
    (src / "moshi_a.wav").rename(src / "p225_001.wav")
    _refused(tmp_path, ["--src", str(src), "--out", str(root), "--folder", "eval_id", "--class-id", "1", "--force"],
             "already lists p225_001.wav")  # fmt: skip
