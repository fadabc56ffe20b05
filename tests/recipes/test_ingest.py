"""`ncst ingest`: ALM outputs and unseen-real corpora copied into a layout, labelled and verifiable."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.corpora.fakes import write_asvspoof2019_la
from ncst.verify import verify


def _official_root(tmp_path: Path) -> Path:
    """An official-download-like root: label/eval_id.txt + eval_id/ with two files (no provenance)."""
    root = tmp_path / "st"
    (root / "label").mkdir(parents=True)
    (root / "eval_id").mkdir()
    for name in ("p225_001.wav", "mimi_p225_001.wav"):
        sf.write(root / "eval_id" / name, np.zeros(800, dtype=np.float32), 16000)
    (root / "label" / "eval_id.txt").write_text("p225_001.wav real 0\nmimi_p225_001.wav fake 1\n")
    return root


def test_ingest_alm_folder_and_unseen_real_corpus(tmp_path: Path) -> None:
    root = _official_root(tmp_path)
    moshi = tmp_path / "moshi_out"
    moshi.mkdir()
    for name in ("moshi_R-ZH_3_14_d501.wav", "moshi_R-EN_1_5_d644.wav"):
        sf.write(moshi / name, np.full(2400, 0.1, dtype=np.float32), 24000)
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "--src", str(moshi), "--out", str(root), "--folder", "ALM/moshi",
                                 "--class-id", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (root / "label" / "ALM-moshi.txt").read_text().splitlines() == [
        "moshi_R-EN_1_5_d644.wav fake 1", "moshi_R-ZH_3_14_d501.wav fake 1"
    ]  # fmt: skip
    write_asvspoof2019_la(tmp_path / "asv")
    result = runner.invoke(app, ["ingest", "--src", str(tmp_path / "asv"), "--corpus", "asvspoof2019", "--out",
                                 str(root), "--folder", "ID_unseen_real/19LA"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / "ID_unseen_real" / "19LA").iterdir()) == [
        "LA_E_1000001.flac",
        "LA_E_1000003.flac",
    ]
    report = verify(root)
    assert report.ok
    assert report.n_ok == 6
    again = runner.invoke(app, ["ingest", "--src", str(moshi), "--out", str(root), "--folder", "ALM/moshi",
                                "--class-id", "1"])  # fmt: skip
    assert "0 copied, 2 already present" in again.output
    shutil.copy(moshi / "moshi_R-EN_1_5_d644.wav", root / "ALM" / "moshi" / "stray.wav")
    (root / "ALM" / "moshi" / "moshi_R-ZH_3_14_d501.wav").write_bytes(b"broken")
    report = verify(root)
    assert report.extra == ["ALM/moshi/stray.wav"]
    assert report.corrupt == ["ALM/moshi/moshi_R-ZH_3_14_d501.wav"]
