"""The "done when" test of the recipe: a miniature ST-Codecfake from fake VCTK 0.92, AISHELL-3 and NCSSD
trees, killed mid-build and resumed, then verified (and failing verification once a file is corrupted).

One module-scoped build is shared by every test here (random weights, 0.25 s clips, 2 files per class)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.build_dataset import verify_build
from ncst.cli.main import app
from ncst.codecs import get_card
from ncst.corpora.fakes import write_aishell3, write_ncssd, write_vctk_092
from ncst.recipes import load_recipe

LIMIT = 2
SCRIPT = "from ncst.cli.main import main; main()"


def _args(src: Path, out: Path) -> list[str]:
    return [
        "build", "--recipe", "st-codecfake", "--vctk", str(src / "vctk"), "--aishell3", str(src / "aishell3"),
        "--ncssd", str(src / "ncssd"), "--out", str(out), "--per-class-limit", str(LIMIT), "--weights", "random",
        "--threads", "1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("recipe")
    src = base / "src"
    write_vctk_092(src / "vctk")
    write_aishell3(src / "aishell3")
    write_ncssd(src / "ncssd")
    out = base / "st"
    prov = out / "provenance.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, *_args(src, out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 900  # every codec is loaded before the first file: slow on a busy CPU
    while time.time() < deadline and proc.poll() is None:
        if prov.exists() and len(prov.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_rows = len(prov.read_text().splitlines()) if prov.exists() else 0
    result = CliRunner().invoke(app, _args(src, out))
    return {"src": src, "out": out, "killed_rows": killed_rows, "exit": result.exit_code, "output": result.output}


def _label(out: Path, name: str) -> list[list[str]]:
    return [line.split() for line in (out / "label" / name).read_text().splitlines()]


def test_kill_then_rerun_completes_without_loss_or_duplicates(built: dict) -> None:
    out = built["out"]
    assert built["exit"] == 0, built["output"]
    meta = json.loads((out / "recipe.json").read_text())
    assert 3 <= built["killed_rows"] < meta["planned_files"], "the kill must land mid-build"
    files = [json.loads(line)["file"] for line in (out / "provenance.jsonl").read_text().splitlines()]
    assert len(files) == len(set(files)) == meta["planned_files"]
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*.wav"))
    assert on_disk == sorted(files)
    assert not list(out.rglob(".*.tmp"))


def test_official_layout_names_ids_counts_and_labels(built: dict) -> None:
    out = built["out"]
    recipe = load_recipe("st-codecfake")
    for folder in ("train", "dev", "eval_id", "eval_ood", *(f"ID_diff_config/C{x}" for x in
                   ("3-1", "3-2", "3-3", "3-4", "4-1", "4-2", "4-3")), "ID_diff_source/NCSSD-mimi",
                   "ID_diff_source/NCSSD-snac", "OOD_diff_source/NCSSD_wavtokenizer",
                   "OOD_diff_config/wavtokenizer_small40", "ID_unseen_real/NCSSD"):  # fmt: skip
        assert (out / folder).is_dir(), folder
    meta = json.loads((out / "recipe.json").read_text())
    registered = {c: e for c, e in recipe.classes.items() if _has(e.codec)}
    for split in ("train", "dev", "eval_id"):
        lines = _label(out, f"{split}.txt")
        by_class: dict[int, list[str]] = {}
        for name, kind, class_id in lines:
            assert kind == ("real" if class_id == "0" else "fake")
            assert (out / split / name).is_file()
            by_class.setdefault(int(class_id), []).append(name)
        assert set(by_class) == {c for c in registered if c <= 6}  # the real class is in every split
        assert all(len(v) == LIMIT for v in by_class.values())
        for class_id, names in by_class.items():
            prefix = get_card(recipe.classes[class_id].codec).file_prefix
            for name in names:
                utt = name[:-4] if class_id == 0 else name[len(prefix) + 1 : -4]
                assert utt.startswith(("p2", "p3", "SSB")) and "_mic" not in utt
    # every eval class uses the same utterances, and so does every config folder
    real_eval = sorted(n for n, _, c in _label(out, "eval_id.txt") if c == "0")
    assert sorted(p.name.split("_", 1)[1] for p in (out / "ID_diff_config" / "C3-1").glob("*.wav")) == real_eval
    ood = _label(out, "eval_ood8-11.txt") + (_label(out, "eval_ood7.txt") if 7 in registered else [])
    assert sorted({int(c) for _, _, c in ood}) == sorted(c for c in registered if c >= 7)
    for name, _, class_id in ood:
        prefix = get_card(recipe.classes[int(class_id)].codec).file_prefix
        assert name.startswith(prefix + "_") and name[len(prefix) + 1 :] in real_eval
    assert {n for n, _, _ in _label(out, "ID_diff_source-NCSSD-mimi.txt")} <= {
        f"mimi_{p.name}" for p in (out / "ID_unseen_real" / "NCSSD").glob("*.wav")
    }
    assert all(n.startswith("mimi_R-") for n, _, _ in _label(out, "ID_diff_source-NCSSD-mimi.txt"))
    # C3-3 and C3-4 are the same audio under their own names
    for name in (out / "ID_diff_config" / "C3-3").glob("*.wav"):
        twin = out / "ID_diff_config" / "C3-4" / name.name.replace("C3-3_", "C3-4_", 1)
        assert twin.read_bytes() == name.read_bytes()
    # codecs not registered are named, not silently dropped
    missing = set(meta["missing_codecs"])
    assert missing == {e.codec for e in recipe.classes.values() if not _has(e.codec)} | (
        set() if _has("wavtokenizer@small40") else {"wavtokenizer@small40"}
    )
    from ncst.models.data import read_set  # the trainer reads the layout as it is

    assert len(read_set(out, "train")) == LIMIT * len([c for c in registered if c <= 6])
    card = (out / "DATASET.md").read_text()
    assert "RANDOM WEIGHTS" in card and "CC BY-NC 4.0" in card and (out / "DATASET_spectrograms.png").is_file()
    for spec in missing:
        assert f"`{spec}`" in card


def _has(spec: str) -> bool:
    try:
        get_card(spec)
    except Exception:  # noqa: BLE001 - unknown codec of any kind
        return False
    return True


def test_verify_passes_then_fails_on_corruption(built: dict, tmp_path: Path) -> None:
    assert verify_build(built["out"]).ok
    copy = tmp_path / "st"
    shutil.copytree(built["out"], copy)
    victim = next((copy / "eval_id").glob("mimi_*.wav"))
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1 and "corrupt" in result.output
    report = verify_build(copy)
    assert report.corrupt == [f"eval_id/{victim.name}"]


def test_verify_reports_missing_extra_and_mislabelled(built: dict, tmp_path: Path) -> None:
    copy = tmp_path / "st"
    shutil.copytree(built["out"], copy)
    gone = next((copy / "dev").glob("snac_*.wav"))
    gone.unlink()
    shutil.copy(next((copy / "train").glob("*.wav")), copy / "train" / "stray.wav")
    label = copy / "label" / "eval_id.txt"
    lines = label.read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith("encodec_"))
    lines[idx] = lines[idx].rsplit(" ", 1)[0] + " 3"
    lines.append("garbage")
    label.write_text("\n".join(lines) + "\n")
    report = verify_build(copy)
    assert report.missing == [f"dev/{gone.name}"]
    assert report.extra == ["train/stray.wav"]
    assert len(report.mislabelled) == 1 and "made as class 4" in report.mislabelled[0]
    assert len(report.labels) == 1 and not report.ok
