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

from ncst.cli.main import app
from ncst.codecs import get_card
from ncst.corpora.fakes import write_aishell3, write_ncssd, write_vctk_092
from ncst.recipes import load_recipe
from ncst.verify import verify

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


def test_kill_then_rerun_exits_0(built: dict) -> None:
    assert built["exit"] == 0, built["output"]


def test_kill_lands_mid_build(built: dict) -> None:
    meta = json.loads((built["out"] / "recipe.json").read_text())
    assert 3 <= built["killed_rows"] < meta["planned_files"]


def test_rerun_writes_each_planned_file_once(built: dict) -> None:
    out = built["out"]
    meta = json.loads((out / "recipe.json").read_text())
    files = [json.loads(line)["file"] for line in (out / "provenance.jsonl").read_text().splitlines()]
    assert len(files) == len(set(files)) == meta["planned_files"]


def test_rerun_leaves_exactly_the_provenance_files_on_disk(built: dict) -> None:
    out = built["out"]
    files = [json.loads(line)["file"] for line in (out / "provenance.jsonl").read_text().splitlines()]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.wav")) == sorted(files)


def test_rerun_leaves_no_temp_files(built: dict) -> None:
    assert not list(built["out"].rglob(".*.tmp"))


OFFICIAL_FOLDERS = (
    "train", "dev", "eval_id", "eval_ood", *(f"ID_diff_config/C{x}" for x in ("3-1", "3-2", "3-3", "3-4", "4-1", "4-2",
    "4-3")), "ID_diff_source/NCSSD-mimi", "ID_diff_source/NCSSD-snac", "OOD_diff_source/NCSSD_wavtokenizer",
    "OOD_diff_config/wavtokenizer_small40", "ID_unseen_real/NCSSD",
)  # fmt: skip


@pytest.mark.parametrize("folder", OFFICIAL_FOLDERS)
def test_official_folder_is_built(built: dict, folder: str) -> None:
    assert (built["out"] / folder).is_dir()


def _registered() -> dict[int, object]:
    return {c: e for c, e in load_recipe("st-codecfake").classes.items() if _has(e.codec)}


@pytest.mark.parametrize("split", ["train", "dev", "eval_id"])
def test_split_label_kind_follows_the_class(built: dict, split: str) -> None:
    wrong = [name for name, kind, c in _label(built["out"], f"{split}.txt") if kind != ("real" if c == "0" else "fake")]
    assert wrong == []


@pytest.mark.parametrize("split", ["train", "dev", "eval_id"])
def test_split_label_lines_name_files_on_disk(built: dict, split: str) -> None:
    out = built["out"]
    assert [name for name, _, _ in _label(out, f"{split}.txt") if not (out / split / name).is_file()] == []


@pytest.mark.parametrize("split", ["train", "dev", "eval_id"])
def test_split_holds_limit_files_of_every_registered_id_class(built: dict, split: str) -> None:
    counts: dict[int, int] = {}
    for _, _, class_id in _label(built["out"], f"{split}.txt"):
        counts[int(class_id)] = counts.get(int(class_id), 0) + 1
    assert counts == {c: LIMIT for c in _registered() if c <= 6}  # the real class is in every split


@pytest.mark.parametrize("split", ["train", "dev", "eval_id"])
def test_split_names_carry_vctk_or_aishell3_ids_without_mic(built: dict, split: str) -> None:
    recipe = load_recipe("st-codecfake")
    utts = []
    for name, _, class_id in _label(built["out"], f"{split}.txt"):
        prefix = get_card(recipe.classes[int(class_id)].codec).file_prefix
        utts.append(name[:-4] if class_id == "0" else name[len(prefix) + 1 : -4])
    assert [u for u in utts if not u.startswith(("p2", "p3", "SSB")) or "_mic" in u] == []


def _real_eval(out: Path) -> list[str]:
    return sorted(n for n, _, c in _label(out, "eval_id.txt") if c == "0")


def test_config_folder_uses_the_eval_utterances(built: dict) -> None:
    out = built["out"]
    assert sorted(p.name.split("_", 1)[1] for p in (out / "ID_diff_config" / "C3-1").glob("*.wav")) == _real_eval(out)


def test_ood_label_files_hold_every_registered_ood_class(built: dict) -> None:
    out = built["out"]
    registered = _registered()
    ood = _label(out, "eval_ood8-11.txt") + (_label(out, "eval_ood7.txt") if 7 in registered else [])
    assert sorted({int(c) for _, _, c in ood}) == sorted(c for c in registered if c >= 7)


def test_ood_files_are_eval_utterances_under_their_prefix(built: dict) -> None:
    out = built["out"]
    recipe = load_recipe("st-codecfake")
    real_eval = set(_real_eval(out))
    ood = _label(out, "eval_ood8-11.txt") + (_label(out, "eval_ood7.txt") if 7 in _registered() else [])
    wrong = []
    for name, _, class_id in ood:
        prefix = get_card(recipe.classes[int(class_id)].codec).file_prefix
        if not name.startswith(prefix + "_") or name[len(prefix) + 1 :] not in real_eval:
            wrong.append(name)
    assert wrong == []


def test_ncssd_mimi_resynthesises_the_unseen_real_ncssd_files(built: dict) -> None:
    out = built["out"]
    names = {n for n, _, _ in _label(out, "ID_diff_source-NCSSD-mimi.txt")}
    assert names <= {f"mimi_{p.name}" for p in (out / "ID_unseen_real" / "NCSSD").glob("*.wav")}


def test_ncssd_mimi_files_are_ncssd_recordings(built: dict) -> None:
    names = [n for n, _, _ in _label(built["out"], "ID_diff_source-NCSSD-mimi.txt")]
    assert [n for n in names if not n.startswith("mimi_R-")] == []


def test_c3_3_and_c3_4_are_the_same_audio_under_their_own_names(built: dict) -> None:
    out = built["out"]
    differ = []
    for name in (out / "ID_diff_config" / "C3-3").glob("*.wav"):
        twin = out / "ID_diff_config" / "C3-4" / name.name.replace("C3-3_", "C3-4_", 1)
        if twin.read_bytes() != name.read_bytes():
            differ.append(name.name)
    assert differ == []


def _expected_missing() -> set[str]:
    recipe = load_recipe("st-codecfake")
    small40 = set() if _has("wavtokenizer@small40") else {"wavtokenizer@small40"}
    return {e.codec for e in recipe.classes.values() if not _has(e.codec)} | small40


def test_codecs_not_registered_are_named_in_recipe_json(built: dict) -> None:
    meta = json.loads((built["out"] / "recipe.json").read_text())
    assert set(meta["missing_codecs"]) == _expected_missing()


def test_trainer_reads_the_built_layout(built: dict) -> None:
    from ncst.models.data import read_set

    assert len(read_set(built["out"], "train")) == LIMIT * len([c for c in _registered() if c <= 6])


def test_dataset_card_warns_of_random_weights(built: dict) -> None:
    assert "RANDOM WEIGHTS" in (built["out"] / "DATASET.md").read_text()


def test_dataset_card_states_the_licence(built: dict) -> None:
    assert "CC BY-NC 4.0" in (built["out"] / "DATASET.md").read_text()


def test_dataset_card_has_spectrograms(built: dict) -> None:
    assert (built["out"] / "DATASET_spectrograms.png").is_file()


def test_dataset_card_names_every_missing_codec(built: dict) -> None:
    card = (built["out"] / "DATASET.md").read_text()
    assert [spec for spec in _expected_missing() if f"`{spec}`" not in card] == []


def _has(spec: str) -> bool:
    try:
        get_card(spec)
    except Exception:  # noqa: BLE001 - unknown codec of any kind
        return False
    return True


def test_verify_passes_on_the_build(built: dict) -> None:
    assert verify(built["out"]).ok


def test_verify_fails_on_corruption(built: dict, tmp_path: Path) -> None:
    copy = tmp_path / "st"
    shutil.copytree(built["out"], copy)
    victim = next((copy / "eval_id").glob("mimi_*.wav"))
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1
    assert "corrupt" in result.output
    report = verify(copy)
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
    report = verify(copy)
    assert report.missing == [f"dev/{gone.name}"]
    assert report.extra == ["train/stray.wav"]
    assert len(report.mislabelled) == 1
    assert "made as class 4" in report.mislabelled[0]
    assert len(report.labels) == 1
    assert not report.ok


def test_recipe_build_writes_the_html_card_and_quality(built: dict) -> None:
    assert (built["out"] / "DATASET.html").is_file()
    assert (built["out"] / "quality.csv").is_file()


def test_recipe_build_card_md_holds_the_quality_table(built: dict) -> None:
    assert "## Quality per class" in (built["out"] / "DATASET.md").read_text()
