from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.run_protocol import app

runner = CliRunner()


def _published_dir() -> Path:
    shared = os.environ.get("NCST_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return base / "reference" / "st-codecfake-published" / "W2V2-AASIST"


def _result_folder(root: Path) -> Path:
    for name, label in (("moshi", 1), ("miniomni", 6), ("speechgpt-gen", 2), ("valle", 4)):
        path = root / "alm" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name}_a.wav {label} 0.9\n{name}_b.wav 0 0.6\n")
    return root


def test_run_protocol_help_lists_protocols() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("id_robustness", "--predictions", "--dumps", "--data", "--out"):
        assert word in result.output


def test_run_protocol_predictions_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["alm_backend", "--predictions", str(_result_folder(tmp_path / "res")), "--out", str(out), "--bootstrap", "10"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "report.json").read_text())
    assert payload["protocol"] == "alm_backend"
    assert payload["cells"]["AVG"]["F1"] == pytest.approx(50.0)
    assert (out / "report.md").is_file()
    assert (out / "confusion.png").is_file()


def test_run_protocol_checkpoint_needs_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["id_robustness", "--model", "aasist", "--checkpoint", str(tmp_path / "c.pt")])
    assert result.exit_code == 2
    assert "--data" in result.output
    result = runner.invoke(app, ["id_robustness", "--model", "aasist", "--dumps", str(tmp_path)])
    assert result.exit_code == 2
    assert "--checkpoint" in result.output


def test_run_protocol_needs_one_input() -> None:
    result = runner.invoke(app, ["id_robustness"])
    assert result.exit_code == 2
    assert "exactly one" in result.output


def test_run_protocol_missing_file_names_path(tmp_path: Path) -> None:
    folder = _result_folder(tmp_path / "res")
    (folder / "alm" / "valle.txt").unlink()
    result = runner.invoke(app, ["alm_backend", "--predictions", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "valle.txt" in result.output


def test_run_protocol_unknown_protocol(tmp_path: Path) -> None:
    result = runner.invoke(app, ["table9", "--predictions", str(tmp_path)])
    assert result.exit_code == 2
    assert "id_closed_set" in result.output
    (tmp_path / "mine.toml").mkdir()
    result = runner.invoke(app, [str(tmp_path / "mine.toml"), "--predictions", str(tmp_path)])
    assert result.exit_code == 2
    assert "mine.toml is a directory, not a .toml file" in result.output


@pytest.mark.skipif(not (_published_dir() / "result_id.txt").is_file(), reason="published files absent")
def test_run_protocol_reproduces_table4_w2v2_aasist(tmp_path: Path) -> None:
    out = tmp_path / "t4"
    result = runner.invoke(
        app, ["id_robustness", "--predictions", str(_published_dir()), "--out", str(out), "--bootstrap", "0"]
    )
    assert result.exit_code == 0, result.output
    cells = json.loads((out / "report.json").read_text())["cells"]
    expected = {
        "19LA": 16.94,
        "ITW": 77.01,
        "NCSSD": 4.77,
        "C3-1": 98.99,
        "C3-2": 99.70,
        "C3-3": 99.80,
        "C3-4": 99.80,
        "C4-1": 99.96,
        "C4-2": 99.71,
        "C4-3": 98.19,
        "Mimi": 84.08,
        "SNAC": 83.65,
        "AVG": 80.22,
    }
    assert {k: round(v["F1"], 2) for k, v in cells.items()} == expected


def test_run_protocol_closed_set_reads_labels_from_data(tmp_path: Path) -> None:
    res = tmp_path / "res"
    res.mkdir()
    (res / "result_id.txt").write_text("mimi_a.wav 1 0.9\nb.wav 0 0.8\nsnac_c.wav 6 0.7\n")
    data = tmp_path / "data"
    (data / "label").mkdir(parents=True)
    # the label file disagrees with the prefix of snac_c: the label file wins
    (data / "label" / "eval_id.txt").write_text("mimi_a.wav fake 1\nb.wav real 0\nsnac_c.wav fake 5\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "id_closed_set",
            "--predictions",
            str(res),
            "--data",
            str(data),
            "--out",
            str(out),
            "--bootstrap",
            "0",
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "report.json").read_text())
    assert payload["cells"]["5"]["F1"] == 0.0
    assert payload["cells"]["1"]["F1"] == 100.0
    assert "label file" in payload["settings"]["labels"]
    assert not (out / "confusion.png").exists()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("huge_class", "moshi.txt:3: class id 50000000 is not one of the protocol's classes"),
        ("latin1", "moshi.txt:3: not UTF-8 text"),
        ("repeated", "moshi.txt: 2 file(s) listed more than once"),
        ("out_is_file", "is a file, not a folder"),
        ("empty_npz", "moshi.npz: empty file"),
        ("truncated_npz", "moshi.npz: not a readable .npz dump"),
        ("dir_input", "valle.txt is a directory, not a file"),
    ],
)
def test_run_protocol_bad_inputs_exit_2_with_one_clear_line(tmp_path: Path, case: str, expected: str) -> None:
    folder = _result_folder(tmp_path / "res")
    out = tmp_path / "o"
    args = ["alm_backend", "--predictions", str(folder), "--out", str(out), "--bootstrap", "0", "--no-plots"]
    moshi = folder / "alm" / "moshi.txt"
    if case == "huge_class":
        moshi.write_text(moshi.read_text() + "c.wav 50000000 0.5\n")
    elif case == "latin1":
        moshi.write_bytes(moshi.read_bytes() + "\u00e9.wav 1 0.5\n".encode("latin-1"))
    elif case == "repeated":
        moshi.write_text(moshi.read_text() * 2)
    elif case == "out_is_file":
        out.write_text("")
    elif case in ("empty_npz", "truncated_npz"):
        dumps = tmp_path / "dumps"
        dumps.mkdir()
        (dumps / "moshi.npz").write_bytes(b"" if case == "empty_npz" else b"PK\x03\x04" + b"\x00" * 40)
        args[1:3] = ["--dumps", str(dumps)]
    elif case == "dir_input":
        (folder / "alm" / "valle.txt").unlink()
        (folder / "alm" / "valle.txt").mkdir()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith("error:")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_run_protocol_checkpoint_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "c.pt").write_bytes(b"not a checkpoint")
    (tmp_path / "data").mkdir()
    args = ["id_robustness", "--checkpoint", str(tmp_path / "c.pt"), "--data", str(tmp_path / "data")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:")
    assert "holds none of the sets" in result.output
