"""Stable class ids: the id `--add-codec` gives a spec is recorded in recipe.json and kept on every rerun.

Builds use a one-class recipe (class 0, `real@16k`) on tiny fake corpora, plus the fake codec (`fakecodec`,
two variants: `fakecodec@16k` and `fakecodec@24k`) added as OOD classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.recipes import RecipeError, load_recipe
from ncst.recipes.class_ids import AddedCodec, RecordedClass, add_codecs_stably
from ncst.testing import snapshot_tree, write_tiny_recipe


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_recipe(tmp_path_factory.mktemp("corpora"))


def _build(corpora: Path, out: Path, *add: str) -> tuple[int, str]:
    args = [
        "build", "--recipe", str(corpora / "tiny.toml"), "--vctk", str(corpora / "vctk"),
        "--aishell3", str(corpora / "aishell3"), "--out", str(out), "--weights", "random",
        "--per-class-limit", "1", *(x for a in add for x in ("--add-codec", a)),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output + (repr(result.exception) if result.exception else "")


def _classes(out: Path) -> dict[str, str]:
    meta = json.loads((out / "recipe.json").read_text(encoding="utf-8"))
    return {k: v["codec"] for k, v in meta["classes"].items()}


@pytest.fixture
def built(corpora: Path, tmp_path: Path) -> Path:
    out = tmp_path / "st"
    code, output = _build(corpora, out, "fakecodec=12:OOD")
    assert code == 0, output
    return out


def test_add_codec_explicit_id_is_recorded_with_its_label_file(built: Path) -> None:
    assert _classes(built)["12"] == "fakecodec@16k"
    assert (built / "label" / "eval_ood12.txt").read_text().split()[2] == "12"


@pytest.mark.parametrize(
    ("add", "message"),
    [
        (["fakecodec@24k=12:OOD"], "records class 12 as fakecodec@16k"),  # the id to another codec
        (["fakecodec=13:OOD"], "records fakecodec@16k as class 12"),  # the codec to another id
        (["fakecodec=12:ID"], "as OOD"),  # the class to another set
        ([], "records class 12 = fakecodec@16k"),  # the class dropped
    ],
)
def test_rerun_that_moves_a_class_id_is_refused_and_changes_nothing(
    corpora: Path, built: Path, tmp_path: Path, add: list[str], message: str
) -> None:
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, built, *add)
    assert code == 2, output
    assert message in output
    assert str(built / "recipe.json") in output.replace("\n", "")
    assert "--out" in output
    assert "Traceback" not in output
    assert snapshot_tree(tmp_path) == before


def test_rerun_with_the_same_codecs_in_any_order_keeps_their_ids(corpora: Path, built: Path) -> None:
    code, output = _build(corpora, built, "fakecodec@24k=OOD", "fakecodec=OOD")
    assert code == 0, output
    first = _classes(built)
    assert first["12"] == "fakecodec@16k"
    assert first["13"] == "fakecodec@24k"
    label_13 = (built / "label" / "eval_ood13.txt").read_text()
    code, output = _build(corpora, built, "fakecodec=OOD", "fakecodec:24k=OOD")
    assert code == 0, output
    assert "0 written" in output
    assert _classes(built) == first
    assert (built / "label" / "eval_ood13.txt").read_text() == label_13


def test_new_codecs_get_the_same_ids_whatever_their_order() -> None:
    recipe = load_recipe("st-codecfake")
    one = add_codecs_stably(recipe, [AddedCodec("fakecodec@24k"), AddedCodec("fakecodec@16k")], {})
    two = add_codecs_stably(recipe, [AddedCodec("fakecodec@16k"), AddedCodec("fakecodec@24k")], {})
    assert {c: e.codec for c, e in one.classes.items()} == {c: e.codec for c, e in two.classes.items()}


def test_next_free_id_skips_ids_the_root_records() -> None:
    recipe = load_recipe("st-codecfake")
    recorded = {c: RecordedClass(c, e.codec, e.set) for c, e in recipe.classes.items()}
    recorded[12] = RecordedClass(12, "fakecodec@24k", "OOD")
    with pytest.raises(RecipeError, match="records class 12 = fakecodec@24k"):
        add_codecs_stably(recipe, [AddedCodec("fakecodec")], recorded)
    out = add_codecs_stably(recipe, [AddedCodec("fakecodec"), AddedCodec("fakecodec@24k")], recorded)
    assert out.classes[13].codec == "fakecodec@16k"


def test_one_id_asked_for_two_codecs_is_refused() -> None:
    recipe = load_recipe("st-codecfake")
    with pytest.raises(RecipeError, match="one id per codec"):
        add_codecs_stably(recipe, [AddedCodec("fakecodec", "OOD", 12), AddedCodec("fakecodec@24k", "OOD", 12)], {})


def test_rerun_with_another_spec_never_takes_over_the_free_id(corpora: Path, tmp_path: Path) -> None:
    out = tmp_path / "free"
    code, output = _build(corpora, out, "fakecodec=OOD")  # the next free id of the one-class recipe: 1
    assert code == 0, output
    label = (out / "label" / "eval_ood1.txt").read_text()
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, out, "fakecodec@24k=OOD")
    assert code == 2, output
    assert "records class 1 = fakecodec@16k" in output
    assert snapshot_tree(tmp_path) == before
    assert (out / "label" / "eval_ood1.txt").read_text() == label
