"""`ncst verify` on a tampered dataset root: deleting or editing a record is reported, never a clean report.

One module-scoped recipe build (a two-folder recipe miniature with the fake codec, about 3 s) plus one
ingested set is copied and edited per test. The sweep applies 200 seeded mutations to the label files,
`recipe.json`, `provenance.jsonl` and the audio, then runs verify and an ingest into the mutated root.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.corpora.fakes import write_vctk_092
from ncst.errors import NcstError
from ncst.recipes.build import RecipeBuildConfig, build_recipe
from ncst.recipes.ingest import ingest
from ncst.testing import snapshot_tree
from ncst.verify import verify

runner = CliRunner()

MINI = """
name = "mini"
seed = 1
[classes]
0 = "real@16k"
1 = { codec = "fakecodec", set = "ID" }
[corpora.main]
readers = ["vctk"]
vctk = { train = 6, dev = 1, eval = 1 }
[[subsets]]
folder = "train"
source = "main:train"
classes = [0, 1]
per_class = 2
label_file = "train.txt"
[[subsets]]
folder = "ID_diff_config/X"
source = "main:eval"
classes = [1]
codec = "fakecodec"
prefix = "X"
label_file = "ID_diff_config-X.txt"
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tamper")
    (base / "mini.toml").write_text(MINI)
    write_vctk_092(base / "vctk")
    out = base / "st"
    result = build_recipe(RecipeBuildConfig(recipe=str(base / "mini.toml"), corpora={"vctk": base / "vctk"},
                                            out_dir=out, weights="random"))  # fmt: skip
    assert result.ok
    (base / "moshi").mkdir()
    for i in range(2):
        sf.write(base / "moshi" / f"moshi_{i}.wav", np.full(800, 0.1 * (i + 1), dtype=np.float32), 16000)
    ingest(base / "moshi", out, "ALM/moshi", 1)
    return out


def _copy(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "st"
    shutil.copytree(built, out, symlinks=True)
    return out


def test_built_root_is_clean(built: Path) -> None:
    report = verify(built)
    assert report.ok, report.problems()
    assert report.n_ok == 7


def _drop_label_file_from_recipe(out: Path) -> None:
    meta = json.loads((out / "recipe.json").read_text())
    del meta["label_files"]["ID_diff_config-X.txt"], meta["counts"]["ID_diff_config/X"]
    (out / "recipe.json").write_text(json.dumps(meta))
    (out / "label" / "ID_diff_config-X.txt").unlink()


def _drop_provenance_row(out: Path) -> None:
    lines = (out / "provenance.jsonl").read_text().splitlines(keepends=True)
    (out / "provenance.jsonl").write_text("".join(line for line in lines if "train/p" not in line))


DELETIONS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "provenance-deleted": (lambda out: (out / "provenance.jsonl").unlink(), "provenance", "provenance.jsonl: missing"),
    "provenance-row-deleted": (_drop_provenance_row, "untracked", ": no provenance row"),
    "label-file-dropped-from-recipe": (_drop_label_file_from_recipe, "extra", "no label file in recipe.json covers"),
    "recipe-json-deleted": (lambda out: (out / "recipe.json").unlink(), "missing", "recipe.json (build.json says"),
    "ingested-row-deleted": (
        lambda out: (out / "provenance.jsonl").write_text(
            "".join(ln for ln in (out / "provenance.jsonl").read_text().splitlines(True) if "moshi_0" not in ln)
        ),
        "untracked",
        "ALM/moshi/moshi_0.wav: no provenance row",
    ),
}


@pytest.mark.parametrize("case", sorted(DELETIONS))
def test_verify_reports_deleted_records(built: Path, tmp_path: Path, case: str) -> None:
    edit, kind, expected = DELETIONS[case]
    out = _copy(built, tmp_path)
    edit(out)
    report = verify(out)
    assert any(expected in item for item in report.problems().get(kind, [])), report.problems()
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 1, result.output


def test_forced_ingest_into_a_built_set_keeps_the_root_clean(built: Path, tmp_path: Path) -> None:
    out = _copy(built, tmp_path)
    (tmp_path / "src").mkdir()
    sf.write(tmp_path / "src" / "fake_extra.wav", np.full(800, 0.3, dtype=np.float32), 16000)
    assert ingest(tmp_path / "src", out, "train", 1, force=True).copied == 1
    report = verify(out)
    assert report.ok, report.problems()


def _official(tmp_path: Path) -> Path:
    root = tmp_path / "official"
    for folder, name in (("train", "p225_001.wav"), ("dev", "p226_001.wav")):
        (root / folder).mkdir(parents=True)
        sf.write(root / folder / name, np.zeros(800, dtype=np.float32), 16000)
    (root / "label").mkdir()
    (root / "label" / "train.txt").write_text("p225_001.wav real 0\n")
    (root / "label" / "dev.txt").write_text("p226_001.wav real 0\n")
    (root / "README.md").write_text("the official download\n")
    (root / "notes.csv").write_text("a,b\n")
    return root


def test_official_root_with_extra_top_level_files_is_checked(tmp_path: Path) -> None:
    root = _official(tmp_path)
    assert verify(root).ok
    (root / "label" / "dev.txt").write_text("p226_001.wav real 3\n")
    assert verify(root).mislabelled == ["dev/p226_001.wav: column 2 'real' contradicts class 3"]


@pytest.mark.parametrize("deleted", [["dev.txt"], ["train.txt"], ["train.txt", "dev.txt"]])
def test_official_root_missing_label_file_of_a_folder_with_audio_is_reported(
    tmp_path: Path, deleted: list[str]
) -> None:
    root = _official(tmp_path)
    for name in deleted:
        (root / "label" / name).unlink()
    report = verify(root)
    assert report.missing == [f"label/{name}" for name in sorted(deleted)]


def test_official_root_without_label_folder_is_still_a_dataset_root(tmp_path: Path) -> None:
    root = _official(tmp_path)
    shutil.rmtree(root / "label")
    assert verify(root).missing == ["label/dev.txt", "label/train.txt"]


def test_verify_names_file_and_line_of_a_label_line_that_is_not_utf8(built: Path, tmp_path: Path) -> None:
    out = _copy(built, tmp_path)
    label = out / "label" / "train.txt"
    label.write_bytes(label.read_bytes() + b"p\xff.wav real 0\n")
    assert verify(out).labels == ["label/train.txt:5: not UTF-8 text (byte 0xff at column 2) (in train/)"]


# -- the seeded mutation sweep --------------------------------------------------------------------------------
N_MUTATIONS = 200


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _mutate(out: Path, rng: random.Random) -> tuple[str, bool]:
    """Applies one random mutation; returns its description and whether it alters or removes data."""
    labels = sorted((out / "label").glob("*.txt"))
    audio = sorted(p for p in out.rglob("*.wav"))
    kind = rng.choice(["label", "label", "provenance", "provenance", "recipe", "audio"])
    if kind == "audio":
        path = rng.choice(audio)
        if rng.random() < 0.5:
            path.unlink()
            return f"deleted {path.name}", True
        path.write_bytes(path.read_bytes()[:-2] + b"\x01\x02")
        return f"edited {path.name}", True
    if kind == "recipe":
        return _mutate_recipe(out / "recipe.json", rng)
    path = rng.choice(labels) if kind == "label" else out / "provenance.jsonl"
    lines = _lines(path)
    i = rng.randrange(len(lines))
    op = rng.choice(["delete-line", "duplicate-line", "dotdot", "absolute", "bad-utf8", "columns", "huge", "unlink"])
    if op == "unlink":
        path.unlink()
        return f"{op} {path.name}", True
    if op == "delete-line":
        del lines[i]
    elif op == "duplicate-line":
        lines.insert(i, lines[i])
    elif op == "bad-utf8":
        lines[i] = lines[i][:3] + b"\xff\xfe" + lines[i][3:]
    elif kind == "label":
        fields = lines[i].split()
        if op in ("dotdot", "absolute"):
            fields[0] = b"../x.wav" if op == "dotdot" else b"/abs/x.wav"
        elif op == "columns":
            fields = fields[:2] if rng.random() < 0.5 else [*fields, b"extra"]
        else:
            fields[2] = b"9" * rng.choice([5, 40, 5000])
        lines[i] = b" ".join(fields) + b"\n"
    else:
        row = json.loads(lines[i])
        if op in ("dotdot", "absolute"):
            row["file"] = "../x.wav" if op == "dotdot" else "/abs/x.wav"
        elif op == "columns":
            del row[rng.choice(["file", "output_sha256", "class_id", "codec_spec"])]
        else:
            row["class_id"] = "HUGE"
        huge = b"9" * rng.choice([5, 40, 5000])  # past Python's int-parsing limit too
        lines[i] = json.dumps(row).encode().replace(b'"HUGE"', huge) + b"\n"
    path.write_bytes(b"".join(lines))
    # a repeated provenance row restates the same record: nothing is altered
    return f"{op} {path.name}:{i + 1}", not (op == "duplicate-line" and kind == "provenance")


def _mutate_recipe(path: Path, rng: random.Random) -> tuple[str, bool]:
    meta = json.loads(path.read_text())
    op = rng.choice(["drop-label-file", "drop-ingested", "dotdot", "absolute", "huge-count", "extra-label-file",
                     "bad-utf8", "delete-line", "unlink"])  # fmt: skip
    name = rng.choice(sorted(meta["label_files"]))
    if op == "unlink":
        path.unlink()
    elif op == "bad-utf8":
        path.write_bytes(path.read_bytes().replace(b'"label_files"', b'"label\xff_files"'))
        return op, True
    elif op == "delete-line":  # a line inside label_files, counts or ingested: the JSON may break
        lines = path.read_text().splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.strip().startswith(('"label_files"', '"counts"')))
        del lines[start + 1]
        path.write_text("".join(lines))
        return op, True
    elif op == "drop-label-file":
        del meta["label_files"][name]
    elif op == "drop-ingested":
        del meta["ingested"]
    elif op in ("dotdot", "absolute"):
        meta["label_files"][name] = "../elsewhere" if op == "dotdot" else "/abs"
    elif op == "huge-count":
        folder = rng.choice(sorted(meta["counts"]))
        klass = rng.choice(sorted(meta["counts"][folder]))
        meta["counts"][folder][klass] = 10**40
    else:
        meta["label_files"]["other.txt"] = "train"
    if op != "unlink":
        path.write_text(json.dumps(meta, indent=2))
    return op, True


@pytest.mark.slow
def test_mutation_sweep_reports_every_alteration_and_writes_only_inside_the_root(built: Path, tmp_path: Path) -> None:
    rng = random.Random(20260115)
    src = tmp_path / "new_alm"
    src.mkdir()
    sf.write(src / "alm_0.wav", np.full(800, 0.5, dtype=np.float32), 16000)
    (tmp_path / "outside.txt").write_text("keep")
    unreported: list[str] = []
    altering: list[str] = []
    for n in range(N_MUTATIONS):
        out = tmp_path / "st"
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(built, out, symlinks=True)
        what, alters = _mutate(out, rng)
        around = snapshot_tree(tmp_path, skip=(out,))
        inside = snapshot_tree(out)
        try:
            report = verify(out)
            clean = report.ok
        except NcstError:  # refused (exit 2): not a clean report either
            clean = False
        assert snapshot_tree(out) == inside, f"#{n} {what}: verify wrote into the root"
        if alters:
            altering.append(what)
        if alters and clean:
            unreported.append(f"#{n} {what}")
        try:
            ingest(src, out, "ALM/new", 1)
        except NcstError:
            pass
        assert snapshot_tree(tmp_path, skip=(out,)) == around, f"#{n} {what}: ingest wrote outside the root"
    assert unreported == []
    assert len(altering) > 150, altering  # the sweep exercised the checks, not only harmless edits
