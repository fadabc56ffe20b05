"""End to end: the README's main job on the bundled demo corpus, then `ncst verify`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.build_dataset import app as build_app
from ncst.cli.main import app as ncst_app
from ncst.corpora import read_demo
from ncst.testing import CodeOnLoad

runner = CliRunner()


def test_build_dataset_help_lists_every_option() -> None:
    result = runner.invoke(build_app, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--codec",
        "--corpus",
        "--out",
        "--weights",
        "--device",
        "--workers",
        "--shard",
        "--limit",
        "--seed",
        "--threads",
        "--executor",
        "--address",
        "--batch-size",
    ):
        assert option in result.output
    assert "ncst[ray]" in " ".join(result.output.split()).replace("│ ", "")  # not eaten as rich markup


def test_unknown_executor_exits_2_before_any_work(tmp_path: Path) -> None:
    result = runner.invoke(build_app, ["--codec", "encodec", "--executor", "slurm", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "unknown executor 'slurm'" in result.output
    assert not (tmp_path / "o").exists()


def test_unknown_codec_exits_2_with_choices(tmp_path: Path) -> None:
    result = runner.invoke(build_app, ["--codec", "nosuch", "--weights", "random", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "unknown codec 'nosuch'" in result.output


def test_bad_weights_path_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(build_app, ["--codec", "encodec", "--weights", "/no/such.th", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "neither 'pretrained', 'random'" in result.output


def test_demo_build_with_random_encodec_matches_source_lengths(tmp_path: Path) -> None:
    pytest.importorskip("encodec")
    out = tmp_path / "demo_build"
    result = runner.invoke(build_app, ["--codec", "encodec", "--weights", "random", "--out", str(out)])
    assert result.exit_code == 0, result.output
    utterances = read_demo()
    assert len(list((out / "wav").glob("*.wav"))) == len(utterances)
    for utt in utterances:
        src = sf.info(utt.path)
        info = sf.info(out / "wav" / f"encodec_{utt.utt_id}.wav")
        assert info.samplerate == 24000
        assert info.frames == int(src.frames * 24000 / src.samplerate + 0.5)  # soxr rounds half up
    labels = (out / "label.txt").read_text().splitlines()
    assert len(labels) == len(utterances)
    assert all(line.split()[1:] == ["fake", "4"] for line in labels)
    verify = runner.invoke(ncst_app, ["verify", str(out), "--json"])
    assert verify.exit_code == 0
    assert json.loads(verify.stdout)["random_weights"] == len(utterances)
    # A second run does nothing and still succeeds.
    again = runner.invoke(build_app, ["--codec", "encodec", "--weights", "random", "--out", str(out)])
    assert again.exit_code == 0
    assert f"0 written, {len(utterances)} already present" in again.output


def test_crafted_checkpoint_is_refused_without_trust_flag(tmp_path: Path) -> None:
    pytest.importorskip("encodec")
    import torch

    marker = tmp_path / "code-ran"
    crafted = tmp_path / "weights.th"
    torch.save({"encoder.weight": torch.zeros(1), "x": CodeOnLoad(marker)}, crafted)
    args = ["--codec", "encodec", "--weights", str(crafted), "--limit", "1", "--out", str(tmp_path / "o")]
    result = runner.invoke(build_app, args)
    assert result.exit_code == 2, result.output
    assert "--trust-checkpoint" in result.output
    assert "weights.th" in result.output
    assert not marker.exists()
    check = runner.invoke(ncst_app, ["codecs", "check", "encodec", "--weights", str(crafted)])
    assert check.exit_code == 2
    assert "--trust-checkpoint" in check.output
    assert not marker.exists()
    trusted = runner.invoke(build_app, [*args, "--trust-checkpoint"])
    assert marker.exists()  # the opt-in really unpickles (and then the junk state dict is refused)
    assert trusted.exit_code != 0


@pytest.mark.parametrize(("utt_id", "expected"), [("a" * 300, "300 bytes long"), ("x\x1b[31mred", "U+001B")])
def test_bad_manifest_id_exits_2_with_the_line_and_no_traceback(tmp_path: Path, utt_id: str, expected: str) -> None:
    sf.write(tmp_path / "a.wav", [0.1] * 1600, 16000)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"utt_id,path\nok_1,a.wav\n{utt_id},a.wav\n", encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(
        build_app, ["--codec", "encodec", "--weights", "random", "--corpus", str(manifest), "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "m.csv: line 3:" in result.output
    assert expected in result.output
    assert result.output.strip().count("\n") == 0
    assert "\x1b" not in result.output
    assert not (out / "wav").exists() or not list((out / "wav").iterdir())


def test_build_dataset_help_has_no_recipe_only_options() -> None:
    result = CliRunner().invoke(ncst_app, ["build-dataset", "--help"])
    assert "--vctk" not in result.output


def test_build_recipe_help_lists_the_corpora() -> None:
    result = CliRunner().invoke(ncst_app, ["build-recipe", "--help"])
    assert "--vctk" in result.output


SPELLINGS = [["build-dataset", "--recipe"], ["build", "--recipe"], ["build-recipe", "--recipe"]]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_recipe_spellings_reach_build_recipe(spelling: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(ncst_app, [*spelling, str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")])
    assert "none.toml" in result.output


def test_build_dataset_script_routes_recipe_to_build_recipe(tmp_path: Path) -> None:
    code = (
        "import sys; from ncst.cli.build_dataset import main; "
        f"sys.argv = ['build-dataset', '--recipe={tmp_path / 'none.toml'}', '--out', '{tmp_path / 'o'}']; main()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "none.toml" in result.stderr


def test_build_dataset_writes_the_dataset_card(tmp_path: Path) -> None:
    import ncst.testing as testing

    manifest = testing.write_tiny_corpus(tmp_path / "c")
    out = tmp_path / "o"
    result = CliRunner().invoke(
        build_app, ["--codec", "fakecodec", "--corpus", str(manifest), "--weights", "random", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "DATASET.html").is_file()
    assert (out / "quality.csv").is_file()


def test_build_dataset_no_card_writes_none(tmp_path: Path) -> None:
    import ncst.testing as testing

    manifest = testing.write_tiny_corpus(tmp_path / "c")
    out = tmp_path / "o"
    args = ["--codec", "fakecodec", "--corpus", str(manifest), "--weights", "random", "--out", str(out), "--no-card"]
    assert CliRunner().invoke(build_app, args).exit_code == 0
    assert not (out / "DATASET.html").exists()


def test_sharded_build_writes_no_card(tmp_path: Path) -> None:
    import ncst.testing as testing

    manifest = testing.write_tiny_corpus(tmp_path / "c")
    out = tmp_path / "o"
    args = ["--codec", "fakecodec", "--corpus", str(manifest), "--weights", "random", "--out", str(out)]
    args += ["--shard", "0/2"]
    CliRunner().invoke(build_app, args)
    assert not (out / "DATASET.html").exists()
