"""`ncst verify` on a dataset root lists everything in a labelled folder that the label files do not explain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.errors import CorpusLayoutError
from ncst.io import temp_name
from ncst.verify import verify


def _root(tmp_path: Path) -> Path:
    """An official-download-like root (no provenance): eval_id/ with two labelled files, ALM/moshi nested in ALM/."""
    root = tmp_path / "st"
    (root / "label").mkdir(parents=True)
    for folder, name in (("eval_id", "p225_001.wav"), ("eval_id", "mimi_p225_001.wav"), ("ALM", "a.wav"),
                         ("ALM/moshi", "moshi_x.wav")):  # fmt: skip
        (root / folder).mkdir(parents=True, exist_ok=True)
        sf.write(root / folder / name, np.zeros(800, dtype=np.float32), 16000)
    (root / "label" / "eval_id.txt").write_text("p225_001.wav real 0\nmimi_p225_001.wav fake 1\n")
    (root / "label" / "ALM.txt").write_text("a.wav fake 1\n")
    (root / "label" / "ALM-moshi.txt").write_text("moshi_x.wav fake 1\n")
    (root / "recipe.json").write_text(
        '{"official_download": true, '
        '"label_files": {"eval_id.txt": "eval_id", "ALM.txt": "ALM", "ALM-moshi.txt": "ALM/moshi"}}'
    )
    return root


def test_clean_root_with_a_nested_labelled_folder_is_ok(tmp_path: Path) -> None:
    report = verify(_root(tmp_path))
    assert report.ok, report.problems()
    assert report.n_ok == 4


def test_non_audio_files_temp_files_and_subfolders_are_unexpected(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "eval_id" / "notes.txt").write_text("x")
    (root / "eval_id" / temp_name(root / "eval_id" / "x.wav")).write_bytes(b"partial")
    (root / "eval_id" / "old").mkdir()
    sf.write(root / "eval_id" / "stray.flac", np.zeros(800, dtype=np.float32), 16000)
    report = verify(root)
    assert report.extra == ["eval_id/stray.flac"]
    assert len(report.unexpected) == 3
    assert "eval_id/notes.txt: not an audio file" in report.unexpected
    assert "eval_id/old/: sub-folder no label file covers" in report.unexpected
    assert any("temp file" in item for item in report.unexpected)
    assert not report.ok


def test_label_lines_cannot_reach_outside_their_folder(tmp_path: Path) -> None:
    root = _root(tmp_path)
    outside = tmp_path / "secret.wav"
    sf.write(outside, np.zeros(800, dtype=np.float32), 16000)
    with open(root / "label" / "eval_id.txt", "a") as fh:
        fh.write("../../secret.wav real 0\n..  real 0\n")
    report = verify(root)
    assert len(report.labels) == 2
    assert [item for item in report.labels if "column 1" not in item or "(in eval_id/)" not in item] == []
    assert report.n_ok == 4  # the crafted lines were not followed


@pytest.mark.parametrize(
    ("recipe_json", "message"),
    [
        ('{"label_files": {"eval_id.txt": "../../elsewhere"}}', "'label_files' must map label file names to folders"),
        ('{"label_files": {"../../x.txt": "eval_id"}}', "'label_files' must map label file names to folders"),
        ('{"ingested": {"ALM.txt": {"folder": "/abs"}}}', "'ingested' must map"),
        ('{"prefixes": {"eval_id": ["mimi"]}}', "'prefixes' must map"),
        ("[1, 2]", "not a JSON object"),
        ('{"label_files": {\n"eval_id.txt": }', r"recipe\.json:2: not valid JSON"),
    ],
    ids=["folder-outside", "label-path", "ingested-absolute", "prefixes-shape", "not-object", "bad-json"],
)
def test_crafted_recipe_json_is_refused_naming_the_file(tmp_path: Path, recipe_json: str, message: str) -> None:
    root = _root(tmp_path)
    (root / "recipe.json").write_text(recipe_json)
    with pytest.raises(CorpusLayoutError, match=message):
        verify(root)
    result = CliRunner().invoke(app, ["verify", str(root)])
    assert result.exit_code == 2
    assert "recipe.json" in result.output


def test_official_root_line_contradicting_the_file_name_prefix_is_mislabelled(tmp_path: Path) -> None:
    root = _root(tmp_path)
    sf.write(root / "eval_id" / "mimi_p239_100.wav", np.zeros(800, dtype=np.float32), 16000)
    with open(root / "label" / "eval_id.txt", "a") as fh:
        fh.write("mimi_p239_100.wav fake 2\n")
    assert verify(root).mislabelled == ["eval_id/mimi_p239_100.wav: label says 2, made as class 1"]


def test_official_root_real_file_labelled_fake_is_mislabelled(tmp_path: Path) -> None:
    root = _root(tmp_path)
    sf.write(root / "eval_id" / "p239_100.wav", np.zeros(800, dtype=np.float32), 16000)
    with open(root / "label" / "eval_id.txt", "a") as fh:
        fh.write("p239_100.wav fake 3\n")
    assert len(verify(root).mislabelled) == 1
