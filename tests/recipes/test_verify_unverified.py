"""`ncst verify` on an official root lists folders no label file covers as unverified, never as ok."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.recipes.verify import verify_recipe_build


def _wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(160, dtype="float32"), 16000)


def _official_root(tmp_path: Path) -> Path:
    root = tmp_path / "st-codecfake"
    (root / "label").mkdir(parents=True)
    (root / "label" / "train.txt").write_text("p225_001.wav real 0\nmimi_p225_001.wav fake 1\n", encoding="utf-8")
    _wav(root / "train" / "p225_001.wav")
    _wav(root / "train" / "mimi_p225_001.wav")
    for name in ("funcodec_p225_001.wav", "funcodec_p225_002.wav"):
        _wav(root / "ID_diff_config" / "C3-1" / name)
    _wav(root / "ALM" / "moshi" / "a.wav")
    return root


def test_verify_lists_folder_sets_without_label_files_as_unverified(tmp_path: Path) -> None:
    report = verify_recipe_build(_official_root(tmp_path))
    assert report.unverified == [
        "ALM/moshi/: 1 audio files, no label file",
        "ID_diff_config/C3-1/: 2 audio files, no label file",
    ]


def test_verify_never_counts_unverified_files_as_ok(tmp_path: Path) -> None:
    report = verify_recipe_build(_official_root(tmp_path))
    assert report.n_ok == 2


def test_verify_unverified_folders_are_not_discrepancies(tmp_path: Path) -> None:
    report = verify_recipe_build(_official_root(tmp_path))
    assert report.ok


def test_verify_cli_prints_the_unverified_folders(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["verify", str(_official_root(tmp_path))])
    assert "unverified: ID_diff_config/C3-1/: 2 audio files" in result.output
