"""Per-codec weights (`--weights SPEC=VALUE`, `--weights-dir`) and the recipe's defaults from public weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.codecs import get_card
from ncst.codecs.weight_plan import WeightsPlan, parse_weights_options, weights_label
from ncst.codecs.weights import WeightsSpec, needs_weights
from ncst.errors import WeightsError


def _recipe_specs(name: str) -> set[str]:
    from ncst.recipes.recipe import load_recipe

    recipe = load_recipe(name)
    specs = set()
    for subset in recipe.subsets:
        for class_id in subset.classes:
            specs.add(subset.codec or recipe.classes[class_id].codec)
    return specs


def test_recipe_every_class_of_every_subset_has_public_weights() -> None:
    no_public = sorted(
        spec
        for spec in _recipe_specs("st-codecfake")
        if needs_weights(get_card(spec).checkpoint) and not get_card(spec).checkpoint
    )
    assert no_public == []


def test_recipe_class_5_is_the_public_facodec_checkpoint() -> None:
    from ncst.recipes.recipe import load_recipe

    assert load_recipe("st-codecfake").classes[5].codec == "facodec@timbre_norm"


def test_facodec_timbre_norm_card_states_its_deviation_from_table_2() -> None:
    assert "6.4 kbps" in str(get_card("facodec@timbre_norm").extra["deviation"])


def test_parse_weights_options_takes_a_default_and_per_codec_overrides(tmp_path: Path) -> None:
    plan = parse_weights_options(["pretrained", f"fakecodec@24k={tmp_path}", "fakecodec=random"])
    assert plan == WeightsPlan(
        default="pretrained",
        overrides=(("fakecodec", "random"), ("fakecodec@24k", str(tmp_path.resolve()))),
    )


def test_weights_plan_spec_override_beats_family_override(tmp_path: Path) -> None:
    plan = parse_weights_options([f"fakecodec:24k={tmp_path}", "fakecodec=random"])
    assert plan.resolve("fakecodec@24k").spec == WeightsSpec("path", tmp_path.resolve())


def test_weights_plan_family_override_applies_to_every_variant(tmp_path: Path) -> None:
    plan = parse_weights_options(["pretrained", "fakecodec=random"])
    assert plan.resolve("fakecodec@16k").spec == WeightsSpec("random")


def test_weights_plan_default_applies_to_codecs_not_named(tmp_path: Path) -> None:
    plan = parse_weights_options(["random", f"fakecodec@24k={tmp_path}"])
    assert plan.resolve("fakecodec").source == "--weights random"


def test_parse_weights_options_refuses_two_defaults() -> None:
    with pytest.raises(WeightsError, match="only one default"):
        parse_weights_options(["pretrained", "random"])


def test_parse_weights_options_refuses_a_codec_named_twice() -> None:
    with pytest.raises(WeightsError, match="names fakecodec twice"):
        parse_weights_options(["fakecodec=random", "fakecodec=pretrained"])


def test_parse_weights_options_names_an_unknown_codec() -> None:
    with pytest.raises(WeightsError, match="nosuchcodec"):
        parse_weights_options(["nosuchcodec=random"])


def test_parse_weights_options_refuses_a_missing_override_path(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="missing"):
        parse_weights_options([f"fakecodec={tmp_path / 'missing'}"])


def test_parse_weights_options_takes_an_existing_path_holding_equals_as_default(tmp_path: Path) -> None:
    folder = tmp_path / "a=b"
    folder.mkdir()
    assert parse_weights_options([str(folder)]).default == str(folder.resolve())


def test_weights_dir_reads_the_spec_folder_first(tmp_path: Path) -> None:
    for name in ("fakecodec@24k", "fakecodec"):
        (tmp_path / name).mkdir()
    plan = parse_weights_options([], tmp_path)
    assert plan.resolve("fakecodec:24k").spec.path == (tmp_path / "fakecodec@24k").resolve()


def test_weights_dir_falls_back_to_the_family_folder(tmp_path: Path) -> None:
    (tmp_path / "fakecodec").mkdir()
    plan = parse_weights_options([], tmp_path)
    assert plan.resolve("fakecodec@24k").spec.path == (tmp_path / "fakecodec").resolve()


def test_weights_dir_without_the_codec_names_both_folders_and_the_fix(tmp_path: Path) -> None:
    plan = parse_weights_options([], tmp_path)
    with pytest.raises(WeightsError, match=r"neither encodec@6kbps/ nor encodec/.*ncst weights fetch encodec@6kbps"):
        plan.resolve("encodec")


def test_weights_dir_is_not_needed_for_the_real_class(tmp_path: Path) -> None:
    plan = parse_weights_options([], tmp_path)
    assert plan.resolve("real").spec == WeightsSpec("pretrained")


def test_weights_label_of_one_value_is_unchanged() -> None:
    assert weights_label("random") == "random"


def test_weights_label_differs_with_an_override(tmp_path: Path) -> None:
    assert weights_label(parse_weights_options(["random", "fakecodec=pretrained"])) != weights_label("random")


def test_encodec_variants_share_one_model_with_their_own_bandwidth() -> None:
    pytest.importorskip("encodec")
    import torch

    from ncst.codecs import get_codec
    from ncst.testing import varying_clip

    owner = get_codec("encodec@6kbps").load("random")
    shared = get_codec("encodec@3kbps").share_model(owner)
    alone = get_codec("encodec@3kbps").load("random")
    clip = varying_clip(24000)
    assert torch.equal(shared.resynthesize(clip), alone.resynthesize(clip))
