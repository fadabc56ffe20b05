"""`ncst demo --add-codec` / `--recipe`: extra OOD classes in the demo's miniature, and a truthful left-out list.

The codec build is stubbed (each 'codec' adds a little noise to the clip), so these run in seconds; the
fake codec (`fakecodec@24k`, prefix `fake24`) stands in for a plug-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ncst.models.demo as demo
from ncst.recipes import RecipeError
from ncst.recipes.class_ids import AddedCodec

SIZES = {"train": 1, "dev": 1, "eval": 2, "ncssd": 1}


def _config(tmp_path: Path, **kwargs: object) -> demo.DemoConfig:
    return demo.DemoConfig(out_dir=tmp_path / "demo", clip_s=0.5, split_sizes=SIZES, **kwargs)  # type: ignore[arg-type]


def test_demo_add_codec_writes_its_label_file_and_audio(tmp_path: Path, stub_build: None) -> None:
    root, roles, _ = demo.build_miniature(_config(tmp_path, add_codecs=(AddedCodec("fakecodec@24k", "OOD"),)))
    lines = (root / "label" / "eval_ood12.txt").read_text().split("\n")
    names = [line.split()[0] for line in lines if line]
    assert [line.split()[1:] for line in lines if line] == [["fake", "12"]] * SIZES["eval"]
    assert all((root / "eval_ood" / n).is_file() for n in names)
    assert all(n.startswith("fake24_") for n in names)
    assert roles["ext12"] == "fakecodec@24k"


def test_demo_recipe_takes_the_classes_beyond_st_codecfake(tmp_path: Path, stub_build: None) -> None:
    toml = tmp_path / "plus.toml"
    toml.write_text(
        'extends = "st-codecfake"\nname = "plus"\n\n[classes]\n'
        '13 = { codec = "fakecodec@24k", set = "OOD" }\n14 = { codec = "nosuchcodec", set = "OOD" }\n'
        '15 = { codec = "fakecodec@16k", set = "ID" }\n\n'
        '[[subsets]]\nfolder = "eval_ood"\nsource = "main:eval"\nclasses = [13, 14]\nlabel_file = "eval_ood13.txt"\n'
    )
    root, roles, missing = demo.build_miniature(_config(tmp_path, recipe=str(toml)))
    assert roles["ext13"] == "fakecodec@24k"
    assert (root / "label" / "eval_ood13.txt").read_text().split()[1:3] == ["fake", "13"]
    assert any(m.startswith("class 14 (nosuchcodec)") for m in missing)
    assert any(m.startswith("class 15 (fakecodec@16k, ID)") for m in missing)
    assert not (root / "label" / "eval_ood14.txt").exists()


def test_demo_names_registered_codecs_it_leaves_out(tmp_path: Path) -> None:
    missing = demo._left_out({}, [])
    assert any(m.startswith("codec fakecodec (registered): not built") for m in missing)


def test_demo_names_classes_of_8_to_11_a_stand_in_covers() -> None:
    roles = {"ood8-11": "soundstream"}
    missing = demo._left_out(roles, [])
    assert sum("soundstream stands for all of 8-11" in m for m in missing) == 3


def test_demo_bad_add_codec_fails_before_any_work(tmp_path: Path, stub_build: None) -> None:
    with pytest.raises(RecipeError, match="one id per codec"):
        demo.build_miniature(_config(tmp_path, add_codecs=(AddedCodec("fakecodec", "OOD", 12),
                                                           AddedCodec("fakecodec@24k", "OOD", 12))))  # fmt: skip
    assert not (tmp_path / "demo").exists()


def test_demo_unknown_add_codec_is_refused_before_any_work(tmp_path: Path, stub_build: None) -> None:
    with pytest.raises(RecipeError, match="mycodek"):
        demo.build_miniature(_config(tmp_path, add_codecs=(AddedCodec("mycodek", "OOD"),)))
    assert not (tmp_path / "demo").exists()


def test_demo_cli_malformed_add_codec_exits_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ncst.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--add-codec", "mycodec=12:XD"])
    assert result.exit_code == 2, result.output
    assert "--add-codec" in result.output
    assert not (tmp_path / "d").exists()


def test_demo_extension_whose_upstream_is_missing_is_named_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ncst.codecs.contract as contract

    monkeypatch.setattr(contract, "upstream_missing", lambda card: f"{card.spec}: upstream package x is not installed")
    extra, missing = demo.extension_classes(_config(tmp_path, add_codecs=(AddedCodec("fakecodec@24k", "OOD"),)))
    assert extra == []
    assert missing == ["class 12 (fakecodec@24k): fakecodec@24k: upstream package x is not installed"]


def test_run_demo_with_an_extra_class_reports_it(tmp_path: Path, stub_build: None) -> None:
    cfg = demo.DemoConfig(
        out_dir=tmp_path / "demo", clip_s=0.5, epochs=1, batch_size=8, n_bootstrap=0, split_sizes=SIZES,
        model_config={"n_samples": 4000}, add_codecs=(AddedCodec("fakecodec@24k", "OOD"),),
    )  # fmt: skip
    result = demo.run_demo(cfg)
    text = result.report.read_text()
    assert "ext12 = fakecodec@24k (label/eval_ood12.txt)" in text
    assert "not in this demo: nothing" not in text
    assert (result.data_dir / "label" / "eval_ood12.txt").is_file()


def test_run_demo_scores_an_extra_ood_class_as_its_own_condition(tmp_path: Path, stub_build: None) -> None:
    """The demo's ood_open_set report has the added class as its own extension condition (set discovery)."""
    import json

    cfg = demo.DemoConfig(
        out_dir=tmp_path / "demo", clip_s=0.5, epochs=1, batch_size=8, n_bootstrap=0, split_sizes=SIZES,
        model_config={"n_samples": 4000}, add_codecs=(AddedCodec("fakecodec@24k", "OOD"),),
    )  # fmt: skip
    demo.run_demo(cfg)
    report = json.loads((tmp_path / "demo" / "protocols" / "ood_open_set" / "report.json").read_text())
    assert report["extensions"]["ext12"] == "ext12 (fakecodec@24k, class 12)"


def test_run_demo_scores_the_taxonomy_protocol(tmp_path: Path, stub_build: None) -> None:
    """The demo trains one checkpoint with taxonomy heads and reports the taxonomy protocol beside the four."""
    cfg = demo.DemoConfig(
        out_dir=tmp_path / "demo", clip_s=0.5, epochs=1, batch_size=8, n_bootstrap=0, split_sizes=SIZES,
        model_config={"n_samples": 4000},
    )  # fmt: skip
    import json

    result = demo.run_demo(cfg)
    report = json.loads((tmp_path / "demo" / "protocols" / "taxonomy" / "report.json").read_text())
    assert "ID/quantizer" in report["cells"]
    assert "(protocols/taxonomy/report.md)" in result.report.read_text()
