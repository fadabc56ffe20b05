"""Every codec card states its taxonomy; `codecs list` shows it; a dataset root gets `taxonomy.csv`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import CodecCard, get_card, list_cards
from ncst.codecs.registry import BUILTIN_CODECS
from ncst.codecs.taxonomy import class_taxonomy_for_root, describe_axes, write_taxonomy_csv
from ncst.taxonomy import AXES, VOCABULARY, read_taxonomy_csv

_BUILTIN = [c for c in list_cards(runtime=False) if c.name in BUILTIN_CODECS]


@pytest.mark.parametrize("card", _BUILTIN, ids=lambda c: c.spec)
def test_builtin_card_states_every_axis(card: CodecCard) -> None:
    expected = [("real",) if card.name == "real" else VOCABULARY[a] for a in AXES]
    assert [v in allowed for v, allowed in zip(card.taxonomy.values(), expected)] == [True, True, True]


def test_builtin_cards_cover_the_eleven_codecs_and_real() -> None:
    assert len({c.name for c in _BUILTIN} - {"facodec_ns3", "vocos"}) == 12


def test_card_without_taxonomy_is_unknown() -> None:
    card = get_card("fakecodec")
    fields = {k: v for k, v in card.to_dict().items() if k not in ("spec", "taxonomy")}
    assert CodecCard(**fields).taxonomy.values() == ("unknown", "unknown", "unknown")


def test_card_dict_round_trip_keeps_the_taxonomy() -> None:
    card = get_card("speechtokenizer")
    assert CodecCard.from_dict(card.to_dict()) == card


def test_describe_axes_keeps_the_finer_text() -> None:
    assert describe_axes(get_card("wavtokenizer"))["decoder"].startswith("frequency: frequency domain (Vocos")


def test_doubtful_axes_have_the_documented_values() -> None:
    values = {s: get_card(s).taxonomy.values() for s in ("wavtokenizer", "mimi", "facodec@ns3", "hificodec")}
    assert values == {
        "wavtokenizer": ("single-codebook", "none", "frequency"),
        "mimi": ("multi-codebook", "semantic-distillation", "time"),
        "facodec@ns3": ("multi-codebook", "disentanglement", "time"),
        "hificodec": ("multi-codebook", "none", "time"),
    }


def test_codecs_list_json_gives_three_axes_for_every_builtin() -> None:
    result = CliRunner().invoke(app, ["codecs", "list", "--json"])
    assert result.exit_code == 0, result.output
    cards = [c for c in json.loads(result.stdout) if c["name"] in BUILTIN_CODECS]
    assert [c["spec"] for c in cards if "unknown" in [c["taxonomy"][a] for a in AXES]] == []


def test_codecs_list_table_shows_the_axes() -> None:
    result = CliRunner().invoke(app, ["codecs", "list"], env={"COLUMNS": "400"})
    assert "semantic-distillation" in result.output


def test_write_taxonomy_csv_maps_class_to_spec_to_axes(tmp_path: Path) -> None:
    write_taxonomy_csv(tmp_path, {0: "real@16k", 7: "wavtokenizer@small40", 12: "nosuchcodec"})
    rows = read_taxonomy_csv(tmp_path / "taxonomy.csv")
    assert {k: (r.codec, r.taxonomy.values()) for k, r in rows.items()} == {
        0: ("real@16k", ("real", "real", "real")),
        7: ("wavtokenizer@small40", ("single-codebook", "none", "frequency")),
        12: ("nosuchcodec", ("unknown", "unknown", "unknown")),
    }


def test_class_taxonomy_for_root_reads_recipe_json_classes(tmp_path: Path) -> None:
    (tmp_path / "recipe.json").write_text(json.dumps({"classes": {"4": {"codec": "encodec@3kbps"}}}))
    assert class_taxonomy_for_root(tmp_path)[4].codec == "encodec@3kbps"


def test_class_taxonomy_for_root_without_files_uses_the_builtin_table(tmp_path: Path) -> None:
    rows = class_taxonomy_for_root(tmp_path)
    assert [rows[c].taxonomy.auxiliary for c in (0, 2, 5, 7)] == ["real", "semantic-distillation",
                                                                   "disentanglement", "none"]  # fmt: skip


def test_recipe_build_writes_taxonomy_csv(tmp_path: Path) -> None:
    from ncst.corpora.fakes import write_aishell3, write_vctk_092

    write_vctk_092(tmp_path / "vctk", {"p225": 3})
    write_aishell3(tmp_path / "aishell3", {"train": {"SSB0005": 2}, "test": {"SSB0011": 1}})
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'extends = "st-codecfake"\nname = "st-codecfake-plus-fake"\n\n'
        '[classes]\n12 = { codec = "fakecodec", set = "OOD" }\n\n'
        '[[subsets]]\nfolder = "eval_ood_fake"\nsource = "main:eval"\nclasses = [12]\nlabel_file = "eval_ood12.txt"\n'
    )
    out = tmp_path / "st"
    args = ["build-recipe", "--recipe", str(toml), "--vctk", str(tmp_path / "vctk"), "--aishell3",
            str(tmp_path / "aishell3"), "--out", str(out), "--subsets", "eval_ood_fake", "--per-class-limit", "1",
            "--weights", "random"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = read_taxonomy_csv(out / "taxonomy.csv")
    assert (rows[12].codec, rows[12].taxonomy.values()) == ("fakecodec", ("scalar", "none", "time"))
