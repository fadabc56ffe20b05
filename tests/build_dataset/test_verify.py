"""`verify_build` and `ncst verify`: every discrepancy between a build folder and its provenance is reported."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.build_dataset import BuildConfig, build, verify_build
from ncst.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean build of the 3-file corpus; each test edits a copy (fakecodec comes from this folder's conftest)."""
    root = tmp_path_factory.mktemp("verify")
    (root / "src").mkdir()
    rows = []
    for i in range(3):
        sine = 0.5 * np.sin(2 * np.pi * (200.0 + 40 * i) * np.arange(4800) / 16000)
        sf.write(root / "src" / f"u{i}.wav", sine.astype(np.float32), 16000)
        rows.append({"utt_id": f"spk_{i:03d}", "path": f"src/u{i}.wav"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    out = root / "out"
    result = build(BuildConfig(codecs=("fakecodec",), corpus=str(root / "manifest.csv"), out_dir=out, weights="random"))
    assert result.done == 3
    return out


def _copy(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    return out


def _edit_bytes(path: Path, index: int, change: Callable[[bytes], bytes]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    edited = change(lines[index])
    assert edited != lines[index], "the edit did not apply"
    lines[index] = edited
    path.write_bytes(b"".join(lines))


def _quote_class_id(line: bytes) -> bytes:
    """`"class_id": 4, "codec_spec"` -> `"class_id": "4", "codec_spec"` (a string where an int belongs)."""
    return line.replace(b'"class_id": ', b'"class_id": "').replace(b', "codec_spec"', b'", "codec_spec"')


def _edit_line(path: Path, index: int, new: str | None) -> None:
    lines = path.read_text().splitlines(keepends=True)
    if new is None:
        del lines[index]
    else:
        lines[index] = new
    path.write_text("".join(lines))


def test_verify_clean_build_is_ok(built: Path) -> None:
    report = verify_build(built)
    assert report.ok and report.n_ok == 3 and report.problems() == {}
    assert runner.invoke(app, ["verify", str(built)]).exit_code == 0


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "label_edited": (
        lambda out: _edit_line(out / "label.txt", 0, "fake_spk_000.wav real 0\n"),
        "labels",
        "label.txt:1: edited line for fake_spk_000.wav: 'real 0'",
    ),
    "label_deleted": (
        lambda out: _edit_line(out / "label.txt", 1, None),
        "labels",
        "label.txt: no line for fake_spk_001.wav",
    ),
    "label_added": (
        lambda out: (out / "label.txt").write_text((out / "label.txt").read_text() + "fake_x.wav fake 1\n"),
        "labels",
        "label.txt:4: added line for fake_x.wav",
    ),
    "label_repeated": (
        lambda out: (out / "label.txt").write_text((out / "label.txt").read_text() * 2),
        "labels",
        "label.txt:4: 'fake_spk_000.wav' is listed again (first on line 1)",
    ),
    "label_file_deleted": (lambda out: (out / "label.txt").unlink(), "labels", "label.txt: missing (3 lines expected)"),
    "manifest_edited": (
        lambda out: (out / "manifest.csv").write_text(
            (out / "manifest.csv").read_text().replace("fakecodec", "encodec", 1)
        ),
        "manifest",
        "manifest.csv:2: edited row for wav/fake_spk_000.wav: codec_spec 'encodec@16k' (provenance: 'fakecodec@16k')",
    ),
    "manifest_row_deleted": (
        lambda out: _edit_line(out / "manifest.csv", 3, None),
        "manifest",
        "manifest.csv: no row for wav/fake_spk_002.wav",
    ),
    "manifest_deleted": (lambda out: (out / "manifest.csv").unlink(), "manifest", "manifest.csv: missing"),
    "provenance_row_deleted": (
        lambda out: _edit_line(out / "provenance.jsonl", 0, None),
        "untracked",
        "wav/fake_spk_000.wav",
    ),
    "provenance_emptied": (lambda out: (out / "provenance.jsonl").write_text(""), "provenance", "no provenance rows"),
    "provenance_garbled": (
        lambda out: _edit_line(out / "provenance.jsonl", 2, "{not json\n"),
        "provenance",
        "provenance.jsonl:3: unreadable provenance line",
    ),
    "provenance_bad_utf8": (
        lambda out: _edit_bytes(out / "provenance.jsonl", 1, lambda line: line.replace(b'"utt_id"', b'"utt\xff"')),
        "provenance",
        "provenance.jsonl:2: unreadable provenance line",
    ),
    "provenance_not_an_object": (
        lambda out: _edit_line(out / "provenance.jsonl", 0, "[1, 2]\n"),
        "provenance",
        "must be a JSON object",
    ),
    "provenance_wrong_type": (
        lambda out: _edit_bytes(out / "provenance.jsonl", 0, _quote_class_id),
        "provenance",
        "field 'class_id' must be int | None, got str",
    ),
    "provenance_file_outside": (
        lambda out: _edit_bytes(out / "provenance.jsonl", 0, lambda line: line.replace(b'"wav/', b'"../../wav/')),
        "provenance",
        "must be a path inside the build folder",
    ),
    "provenance_deep_nesting": (
        lambda out: _edit_line(out / "provenance.jsonl", 2, "[" * 100_000 + "]" * 100_000 + "\n"),
        "provenance",
        "provenance.jsonl:3: unreadable provenance line",
    ),
    "extra_wav": (
        lambda out: shutil.copy(out / "wav" / "fake_spk_000.wav", out / "wav" / "fake_extra.wav"),
        "untracked",
        "wav/fake_extra.wav",
    ),
    "non_wav_file": (
        lambda out: (out / "wav" / "notes.txt").write_text("x"),
        "unexpected",
        "wav/notes.txt: not a generated",
    ),
    "sub_folder": (lambda out: (out / "wav" / "old").mkdir(), "unexpected", "wav/old/: sub-folder"),
    "temp_file": (
        lambda out: (out / "wav" / ".fake_spk_000.wav.123-abcd0123.tmp").write_bytes(b""),
        "unexpected",
        "temp file",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_verify_reports_each_discrepancy_and_exits_1(built: Path, tmp_path: Path, case: str) -> None:
    edit, kind, expected = CASES[case]
    out = _copy(built, tmp_path)
    edit(out)
    report = verify_build(out)
    assert not report.ok
    assert any(expected in item for item in report.problems().get(kind, [])), report.problems()
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 1 and expected in result.output, result.output


def test_verify_provenance_row_deleted_also_flags_labels_and_manifest(built: Path, tmp_path: Path) -> None:
    out = _copy(built, tmp_path)
    _edit_line(out / "provenance.jsonl", 0, None)
    problems = verify_build(out).problems()
    assert problems["untracked"] == ["wav/fake_spk_000.wav"]
    assert problems["labels"] == ["label.txt:1: added line for fake_spk_000.wav, which has no provenance row"]
    assert problems["manifest"] == ["manifest.csv:2: added row for wav/fake_spk_000.wav, which has no provenance row"]
