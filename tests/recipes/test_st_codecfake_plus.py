"""`st-codecfake-plus`: the built-in extension recipe (classes 12-15 as OOD) loads, builds and verifies.

The build test runs `build-dataset --recipe st-codecfake-plus --per-class-limit 2 --weights random` on fake
VCTK/AISHELL-3 trees, restricted to `eval_ood` (the folder every extension class writes to; the paper's OOD
classes 7-11 come along), then `ncst verify` on the result.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import get_card
from ncst.corpora.fakes import write_aishell3, write_vctk_092
from ncst.recipes import RECIPES, RecipeError, load_recipe

EXTENSION = {12: "vocos@encodec_6kbps", 13: "dac@16khz", 14: "mimi@32q", 15: "snac@32khz"}
#: Upstream import names every class of the built folder needs (the paper's OOD codecs 7-11 included).
UPSTREAMS = ("vocos", "encodec", "dac", "moshi", "snac")


def test_plus_is_a_builtin_recipe() -> None:
    assert "st-codecfake-plus" in RECIPES


def test_plus_keeps_every_st_codecfake_subset_first() -> None:
    base, plus = load_recipe("st-codecfake"), load_recipe("st-codecfake-plus")
    assert plus.subsets[: len(base.subsets)] == base.subsets


def test_plus_keeps_the_paper_classes() -> None:
    base, plus = load_recipe("st-codecfake"), load_recipe("st-codecfake-plus")
    assert {c: plus.classes[c] for c in base.classes} == dict(base.classes)


@pytest.mark.parametrize(("class_id", "spec"), sorted(EXTENSION.items()))
def test_plus_extension_class_is_ood_with_its_codec(class_id: int, spec: str) -> None:
    entry = load_recipe("st-codecfake-plus").classes[class_id]
    assert (entry.codec, entry.set) == (spec, "OOD")


@pytest.mark.parametrize("class_id", sorted(EXTENSION))
def test_plus_extension_class_has_its_own_ood_label_file(class_id: int) -> None:
    entries = [e for e in load_recipe("st-codecfake-plus").subsets if class_id in e.classes]
    assert [(e.folder, e.label_file, e.classes) for e in entries] == [
        ("eval_ood", f"eval_ood{class_id}.txt", (class_id,))
    ]


@pytest.mark.parametrize("spec", sorted(EXTENSION.values()))
def test_plus_extension_codec_is_registered(spec: str) -> None:
    assert get_card(spec).spec == spec


def test_plus_recipe_name_is_its_own() -> None:
    assert load_recipe("st-codecfake-plus").name == "st-codecfake-plus"


def test_user_recipe_extends_plus_by_name(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'extends = "st-codecfake-plus"\nname = "mine"\n[classes]\n16 = { codec = "encodec@24kbps", set = "OOD" }\n'
        '[[subsets]]\nfolder = "eval_ood"\nsource = "main:eval"\nclasses = [16]\nlabel_file = "eval_ood16.txt"\n'
    )
    assert sorted(load_recipe(mine).classes)[-5:] == [12, 13, 14, 15, 16]


def test_user_recipe_taking_a_plus_label_file_for_another_folder_is_refused(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'extends = "st-codecfake-plus"\n[classes]\n16 = { codec = "encodec@24kbps", set = "OOD" }\n'
        '[[subsets]]\nfolder = "elsewhere"\nsource = "main:eval"\nclasses = [16]\nlabel_file = "eval_ood12.txt"\n'
    )
    with pytest.raises(RecipeError, match="eval_ood12.txt"):
        load_recipe(mine)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    missing = [m for m in UPSTREAMS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"upstream packages {missing} are not installed")
    base = tmp_path_factory.mktemp("plus")
    write_vctk_092(base / "vctk")
    write_aishell3(base / "aishell3")
    out = base / "out"
    args = [
        "build-dataset", "--recipe", "st-codecfake-plus", "--vctk", str(base / "vctk"), "--aishell3",
        str(base / "aishell3"), "--out", str(out), "--per-class-limit", "2", "--weights", "random", "--threads", "1",
        "--subsets", "eval_ood", "--no-card",
    ]  # fmt: skip
    build = CliRunner().invoke(app, args)
    verify = CliRunner().invoke(app, ["verify", str(out)])
    return {"out": out, "build": build, "verify": verify}


def test_plus_build_exits_0(built: dict) -> None:
    assert built["build"].exit_code == 0, built["build"].output


def test_plus_build_verifies(built: dict) -> None:
    assert built["verify"].exit_code == 0, built["verify"].output


@pytest.mark.parametrize(("class_id", "spec"), sorted(EXTENSION.items()))
def test_plus_build_lists_two_files_per_extension_class(built: dict, class_id: int, spec: str) -> None:
    out = built["out"]
    lines = [line.split() for line in (out / "label" / f"eval_ood{class_id}.txt").read_text().splitlines()]
    prefix = get_card(spec).file_prefix
    assert [
        (kind, c, name.startswith(prefix + "_"), (out / "eval_ood" / name).is_file()) for name, kind, c in lines
    ] == [("fake", str(class_id), True, True)] * 2


def test_plus_build_records_the_extension_classes_in_recipe_json(built: dict) -> None:
    meta = json.loads((built["out"] / "recipe.json").read_text())
    assert {int(c): meta["classes"][str(c)]["codec"] for c in EXTENSION} == EXTENSION


def test_plus_whole_layout_plans_the_paper_files_unchanged(tmp_path: Path) -> None:
    from ncst.corpora.fakes import write_ncssd
    from ncst.recipes import plan_recipe, read_corpora

    write_vctk_092(tmp_path / "vctk")
    write_aishell3(tmp_path / "aishell3")
    write_ncssd(tmp_path / "ncssd")
    corpora = read_corpora({n: tmp_path / n for n in ("vctk", "aishell3", "ncssd")})
    base = plan_recipe(load_recipe("st-codecfake"), corpora, per_class_limit=2)
    plus = plan_recipe(load_recipe("st-codecfake-plus"), corpora, per_class_limit=2)
    paper = [f.job.rel_path for f in plus.files if f.class_id < 12]
    assert paper == [f.job.rel_path for f in base.files]


def test_plus_whole_layout_adds_two_eval_ood_files_per_extension_class(tmp_path: Path) -> None:
    from ncst.recipes import plan_recipe, read_corpora

    write_vctk_092(tmp_path / "vctk")
    write_aishell3(tmp_path / "aishell3")
    corpora = read_corpora({"vctk": tmp_path / "vctk", "aishell3": tmp_path / "aishell3"})
    plus = plan_recipe(load_recipe("st-codecfake-plus"), corpora, per_class_limit=2)
    extension = sorted((f.class_id, f.folder, f.label_file) for f in plus.files if f.class_id >= 12)
    assert extension == sorted([(c, "eval_ood", f"eval_ood{c}.txt") for c in EXTENSION] * 2)
