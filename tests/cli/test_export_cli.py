"""`ncst export`: one line and exit 0 on success, one `error:` line naming the file and exit 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.testing import make_sine

runner = CliRunner()


def _flat(tmp_path: Path) -> Path:
    """A flat build folder by hand: wav/ with two clips and label.txt (no codec run)."""
    src = tmp_path / "build"
    (src / "wav").mkdir(parents=True)
    for i in range(2):
        sf.write(src / "wav" / f"fake_u{i}.wav", make_sine(16000, 0.1, seed=i), 16000, subtype="PCM_16")
    (src / "label.txt").write_text("fake_u0.wav fake 1\nfake_u1.wav fake 1\n")
    return src


def test_export_cli_writes_parquet(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(_flat(tmp_path)), "--format", "parquet", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(tmp_path / "out" / "ncst_files.parquet")) == 2


def test_export_cli_reports_counts_per_set(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(_flat(tmp_path)), "-f", "hf-audiofolder", "-o", str(tmp_path / "out")])
    assert "2 files (wav 2)" in result.output


def test_export_cli_bad_label_line_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    src = _flat(tmp_path)
    with open(src / "label.txt", "a") as fh:
        fh.write("../x.wav fake 1\n")
    result = runner.invoke(app, ["export", str(src), "--format", "parquet", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "label.txt:3:" in result.output
    assert "Traceback" not in result.output


def test_export_cli_non_empty_out_exits_2(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    result = runner.invoke(app, ["export", str(_flat(tmp_path)), "--format", "parquet", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--force" in result.output


def test_export_cli_unknown_format_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(_flat(tmp_path)), "--format", "csv", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "lhotse, hf-audiofolder, parquet" in result.output
