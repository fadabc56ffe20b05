"""A seeded mutation sweep over recipe files: whatever a recipe holds, loading, planning and laying out a build
either works or raises an `NcstError`, and nothing is written outside the build folder.

Each case mutates the built-in recipe, or a small recipe that extends a base file next to it, 1-3 times
(lines deleted, duplicated, swapped, truncated; keys renamed; values replaced by wrong types, out-of-range
numbers and path-like text such as "../x" or an absolute path; random bytes inserted), then runs
`build_recipe` with in-memory corpora and a runner that only touches the planned files (no codec loads).
"""

from __future__ import annotations

import random
from importlib import resources
from pathlib import Path

import pytest

from ncst.build_dataset.jobs import JobSettings
from ncst.build_dataset.runner import BuildResult
from ncst.corpora.base import Utterance
from ncst.errors import NcstError
from ncst.recipes import RecipeBuildConfig, build_recipe
from ncst.testing import snapshot_tree

CASES = 400
SEED = 20261204

EXTENDING = """extends = "base.toml"
name = "mine"
seed = 7

[classes]
12 = { codec = "real@24k", family = "Real24", set = "OOD" }

[corpora.extra]
readers = ["ncssd"]
"R-EN" = 2

[[subsets]]
folder = "mine/twelve"
source = "main:eval"
classes = [12]
label_file = "mine-twelve.txt"
prefix = "r24"

[[subsets]]
folder = "mine/ncssd"
source = "extra"
classes = [0]
label_file = "mine-ncssd.txt"
"""

BASE = """name = "base"
seed = 3

[classes]
0 = "real@16k"
1 = "mimi"

[corpora.main]
readers = ["vctk", "aishell3"]
vctk = { train = 4, dev = 1, eval = 1 }
aishell3 = { train = 4, dev = 1, eval = 1 }

[[subsets]]
folder = "train"
source = "main:train"
classes = [0, 1]
per_class = 3
label_file = "train.txt"

[[subsets]]
folder = "eval_id"
source = "main:eval"
classes = [0, 1]
label_file = "eval_id.txt"
"""

KEYS = ["folder", "label_file", "prefix", "codec", "extends", "seed", "per_class", "classes", "source", "set",
        "readers", "name", "title", "family", "bogus", "vctk", "R-EN", "12", "-1"]  # fmt: skip


def _values(area: Path) -> list[str]:
    """Replacement values: wrong types, edge numbers, and path-like text aimed at the area around the build."""
    return [
        '"../x"', '"../../x"', '"a/../../b"', '"/abs"', f'"{area}/abs"', f'"{area}/base.toml"', '""', '"a//b"',
        '"./x"', '"x/"', '"label"', '"recipe.json"', '"provenance.jsonl"', '"train"', '"eval_id.txt"',
        '"x\\u0000y"', '"x\\ny"', '"\\u001b[31m"', '"a\\\\..\\\\b"', '"C:x"', '"st-codecfake"', '"base.toml"',
        '"../recipes/base.toml"', '"mimi"', '"real@16k"', '"nosuch@v"', '"@"', '"main:train"', '"main:eval"',
        '"ncssd"', '"main:nope"', '"ID"', '"OOD"', '"p" ', f'"{"q" * 300}"', "-1", "0", "1", "12", "999", "1000",
        "99999999999", "9223372036854775807", "-9223372036854775808", "3.5", "nan", "inf", "true", "[]", "[0]",
        "[0, 0]", "[1, 2, 3]", '["vctk"]', '["nope"]', '[1, "a"]', "[[]]", "{}", '{ train = -1 }',
        '{ codec = "mimi" }', '{ codec = "x", set = "OOD" }', "1979-05-27", "[" * 40 + "]" * 40,
    ]  # fmt: skip


#: Values of the same type as the one replaced, so that some mutated recipes still build and reach the writes.
PLAUSIBLE = {
    '"': ['"sub/dir"', '"extra_x"', '"x.txt"', '"C9"', '"real@24k"', '"mimi@8q"', '"Title"'],
    "[": ["[0]", "[1]", "[0, 1]", "[7]"],
    "0": ["0", "1", "2", "7", "12"],
}


def _mutate(lines: list[str], rng: random.Random, values: list[str]) -> list[str]:
    """One mutation; most replace a value, since values are what a crafted recipe varies most."""
    lines = list(lines)
    if not lines:
        return [f"{rng.choice(KEYS)} = {rng.choice(values)}"]
    i = rng.randrange(len(lines))
    assignments = [k for k, line in enumerate(lines) if "=" in line]
    op = rng.choices(["value", "key", "delete", "duplicate", "insert", "swap", "truncate", "bytes"],
                     weights=[50, 10, 10, 8, 10, 4, 4, 4])[0]  # fmt: skip
    if op in ("value", "key") and assignments:
        k = rng.choice(assignments)
        key, value = lines[k].split("=", 1)
        plausible = PLAUSIBLE.get("0" if value.strip()[:1].isdigit() else value.strip()[:1], values)
        new = rng.choice(plausible if rng.random() < 0.4 else values)
        lines[k] = f"{key}= {new}" if op == "value" else f"{rng.choice(KEYS)} ={value}"
    elif op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "truncate":
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    elif op == "bytes":
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        pos = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + data.decode("utf-8", "surrogateescape") + lines[i][pos:]
    else:
        lines.insert(i, f"{rng.choice(KEYS)} = {rng.choice(values)}")
    return lines


def _write(path: Path, lines: list[str]) -> None:
    """Writes the lines; random bytes were kept as surrogate escapes, so invalid UTF-8 reaches the loader."""
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))


def _corpora() -> dict[str, list[Utterance]]:
    def utts(corpus: str, ids: list[str], **extra: str) -> list[Utterance]:
        return [Utterance(i, Path(f"/nowhere/{corpus}/{i}.wav"), corpus=corpus, extra=extra) for i in ids]

    return {
        "vctk": utts("vctk", [f"p225_{k:03d}" for k in range(1, 7)]),
        "aishell3": utts("aishell3", [f"SSB0005{k:04d}" for k in range(1, 7)]),
        "ncssd": utts("ncssd", ["R-EN_0_0_d1", "R-EN_1_3_d1"], subset="R-EN")
        + utts("ncssd", ["R-ZH_0_0_d2", "R-ZH_1_3_d2"], subset="R-ZH"),
    }


def test_recipe_mutations_raise_only_ncst_errors_and_write_only_inside_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = tmp_path / "area"  # what "../x" and friends would reach from a build folder or a recipe file
    (area / "sentinel").mkdir(parents=True)
    (area / "sentinel" / "keep.txt").write_text("keep\n", encoding="utf-8")
    recipes, outs = area / "recipes", area / "outs"
    recipes.mkdir()
    outs.mkdir()
    corpora = _corpora()
    monkeypatch.setattr("ncst.recipes.build.read_corpora", lambda paths: corpora)

    def touch_jobs(jobs: list, settings: JobSettings, *, finish=None, **_: object) -> BuildResult:  # noqa: ANN001
        for job in jobs:  # what the runner writes: one file per job, under the build folder
            (settings.out_dir / job.rel_path).write_bytes(b"")
        if finish is not None:
            finish([])
        return BuildResult(out_dir=settings.out_dir, planned=len(jobs), done=len(jobs))

    monkeypatch.setattr("ncst.recipes.build.run_jobs", touch_jobs)
    text = resources.files("ncst.recipes").joinpath("st_codecfake.toml").read_text(encoding="utf-8")
    builtin = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    before = snapshot_tree(tmp_path, (recipes, outs))
    rng = random.Random(SEED)
    values = _values(area)
    escaped: list[str] = []
    outcomes = {"built": 0, "refused": 0}
    for case in range(CASES):
        for stale in recipes.iterdir():
            stale.unlink()
        extending = case % 2 == 1
        lines = EXTENDING.splitlines() if extending else builtin
        for _ in range(rng.choice((1, 1, 2, 3))):
            lines = _mutate(lines, rng, values)
        recipe = recipes / f"case{case}.toml"
        _write(recipe, lines)
        if extending:
            base = BASE.splitlines()
            _write(recipes / "base.toml", _mutate(base, rng, values) if rng.random() < 0.3 else base)
        config = RecipeBuildConfig(
            recipe=str(recipe),
            corpora={"vctk": Path("/nowhere/vctk"), "aishell3": Path("/nowhere/aishell3"), "ncssd": None},
            out_dir=outs / f"case{case}",
            per_class_limit=1,
            weights="random",
        )
        try:
            build_recipe(config)
            outcomes["built"] += 1
        except NcstError:
            outcomes["refused"] += 1
        except Exception as err:  # noqa: BLE001 - the point of the sweep
            escaped.append(f"case {case}: {type(err).__name__}: {err}\n" + "\n".join(lines))
    assert not escaped, "\n\n".join(escaped[:3])
    assert snapshot_tree(tmp_path, (recipes, outs)) == before
    assert not [p for p in outs.rglob("*") if p.is_symlink()]
    assert outcomes["built"] >= CASES // 10, outcomes  # the sweep must reach the writing code, not only the parser


LABEL_VALUES = ["../x.wav", "/abs.wav", "a/b.wav", "", ".hidden.wav", "x\x00.wav", "p225_001.wav", "real", "fake",
                "-1", "0", "1", "12", "99999999999", "١", "x y", "\ufeff"]  # fmt: skip


def test_label_file_mutations_raise_only_ncst_errors(tmp_path: Path) -> None:
    """Official label files of a small seeded plan, mutated, then planned again with `--labels`."""
    from ncst.recipes import load_recipe, plan_recipe
    from ncst.recipes.build import write_label_files

    recipe_path = tmp_path / "base.toml"
    recipe_path.write_text(BASE, encoding="utf-8")
    recipe = load_recipe(recipe_path)
    corpora = _corpora()
    write_label_files(tmp_path / "seeded", plan_recipe(recipe, corpora))
    originals = {p.name: p.read_text(encoding="utf-8").splitlines() for p in (tmp_path / "seeded" / "label").iterdir()}
    rng = random.Random(SEED + 1)
    escaped: list[str] = []
    outcomes = {"planned": 0, "refused": 0}
    for case in range(CASES):
        labels = tmp_path / f"labels{case}"
        labels.mkdir()
        name = rng.choice(sorted(originals))
        lines = list(originals[name])
        for _ in range(rng.choice((1, 1, 2))):
            i = rng.randrange(len(lines)) if lines else 0
            op = rng.randrange(6)
            if not lines or op == 0:
                lines.insert(i, " ".join(rng.choice(LABEL_VALUES) for _ in range(rng.choice((1, 3, 3, 4)))))
            elif op == 1:
                fields = lines[i].split(" ")
                fields[rng.randrange(len(fields))] = rng.choice(LABEL_VALUES)
                lines[i] = " ".join(fields)
            elif op == 2:
                lines.insert(i, lines[i])
            elif op == 3:
                del lines[i]
            elif op == 4:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
                lines[i] += data.decode("utf-8", "surrogateescape")
            else:
                lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        for other, text in originals.items():
            body = lines if other == name else text
            (labels / other).write_bytes(("\n".join(body) + "\n").encode("utf-8", "surrogateescape"))
        try:
            plan_recipe(recipe, corpora, labels_dir=labels)
            outcomes["planned"] += 1
        except NcstError:
            outcomes["refused"] += 1
        except Exception as err:  # noqa: BLE001 - the point of the sweep
            escaped.append(f"case {case} ({name}): {type(err).__name__}: {err}\n" + "\n".join(lines))
    assert not escaped, "\n\n".join(escaped[:3])
    assert outcomes["planned"] >= CASES // 10, outcomes
