"""Recipe builds decide first and write after: a refused build (other seed, split or weights, a live lock, a
bad recipe or label folder, a symlink out of --out) exits 2 with one line and leaves every name, size and
mtime as it was; --seed 0 and --trust-checkpoint reach the build.

Builds here use a one-class recipe (class 0, `real@16k`: no model to load) on tiny fake corpora."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.build_dataset.jobs import JobSettings
from ncst.build_dataset.lock import BuildLock
from ncst.build_dataset.runner import BuildResult
from ncst.cli.main import app
from ncst.testing import snapshot_tree, write_tiny_recipe


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_recipe(tmp_path_factory.mktemp("corpora"), ("train", "eval_id"))


def _build(corpora: Path, out: Path, *extra: str, recipe: Path | None = None) -> tuple[int, str]:
    args = [
        "build", "--recipe", str(recipe or corpora / "tiny.toml"), "--vctk", str(corpora / "vctk"),
        "--aishell3", str(corpora / "aishell3"), "--out", str(out), "--weights", "random",
        "--per-class-limit", "1", *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output + (repr(result.exception) if result.exception else "")


@pytest.fixture
def built(corpora: Path, tmp_path: Path) -> Path:
    out = tmp_path / "st"
    code, output = _build(corpora, out)
    assert code == 0, output
    return out


def test_rebuild_with_the_same_settings_is_accepted(corpora: Path, built: Path) -> None:  # already held
    code, output = _build(corpora, built, "--seed", "5")
    assert code == 0, output


def test_rebuild_with_the_same_labels_folder_is_accepted(  # already held
    corpora: Path, built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(built / "label", tmp_path / "official")
    out = tmp_path / "from_labels"
    code, output = _build(corpora, out, "--labels", str(tmp_path / "official"))
    assert code == 0, output
    monkeypatch.chdir(tmp_path)  # the same folder, given relative to another working directory
    code, output = _build(corpora, out, "--labels", "official")
    assert code == 0, output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "6"], "seed"),
        (["--seed", "0"], "seed"),
        (["--weights", "pretrained"], "weights"),
        (["--labels", "{labels_copy}"], "split"),
        (["--labels", "{missing}"], "not a folder"),
        (["--add-codec", "nosuchcodec=OOD"], "nosuchcodec"),
        (["--add-codec", "=OOD"], "--add-codec"),
        (["--subsets", "nothere"], "match no folder"),  # already held: planning came first before too
    ],
)
def test_refused_build_changes_nothing_on_disk(
    corpora: Path, built: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    shutil.copytree(built / "label", tmp_path / "labels_copy")
    args = [a.format(labels_copy=tmp_path / "labels_copy", missing=tmp_path / "missing") for a in extra]
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, built, *args)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output
    assert snapshot_tree(tmp_path) == before


def test_refused_bad_recipe_changes_nothing_on_disk(corpora: Path, built: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    tiny = (corpora / "tiny.toml").read_text(encoding="utf-8")
    bad.write_text(tiny.replace('label_file = "train.txt"', 'label_file = "train.txt"\ncolder = 1'), encoding="utf-8")
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, built, recipe=bad)
    assert code == 2, output
    assert "colder" in output
    assert snapshot_tree(tmp_path) == before


def test_build_locked_by_a_live_run_changes_nothing_on_disk(corpora: Path, built: Path, tmp_path: Path) -> None:
    with BuildLock(built):  # another open file description: the build's own lock attempt fails as another process's
        before = snapshot_tree(tmp_path)
        code, output = _build(corpora, built)
        after = snapshot_tree(tmp_path)
    assert code == 2, output
    assert "already being built" in output
    assert after == before


@pytest.mark.parametrize("name", ["train", "label", "build.lock", "provenance.jsonl"])
def test_symlink_out_of_the_build_folder_is_refused(corpora: Path, tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "victim"
    if name in ("train", "label"):
        target.mkdir()
    else:
        target.write_text("keep me\n", encoding="utf-8")
    out = tmp_path / "st"
    out.mkdir()
    os.symlink(target, out / name)
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, out)
    assert code == 2, output
    assert "outside" in output
    assert snapshot_tree(tmp_path) == before


def test_out_that_is_a_file_is_one_error(corpora: Path, tmp_path: Path) -> None:
    out = tmp_path / "st"
    out.write_text("not a folder\n", encoding="utf-8")
    before = snapshot_tree(tmp_path)
    code, output = _build(corpora, out)
    assert code == 2, output
    assert "not a folder" in output or "is a file" in output
    assert snapshot_tree(tmp_path) == before


# -- options that reach the build ---------------------------------------------------------------------------
@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[JobSettings]:
    """Replaces the runner: records the job settings a recipe build would run with, loads no codec."""
    seen: list[JobSettings] = []

    def fake_run_jobs(jobs: list, settings: JobSettings, **_: object) -> BuildResult:
        seen.append(settings)
        return BuildResult(out_dir=settings.out_dir, planned=len(jobs))

    monkeypatch.setattr("ncst.recipes.build.run_jobs", fake_run_jobs)
    return seen


def test_recipe_build_passes_trust_checkpoint(corpora: Path, tmp_path: Path, captured: list[JobSettings]) -> None:
    code, output = _build(corpora, tmp_path / "st", "--trust-checkpoint")
    assert code == 0, output
    assert captured[0].trust_checkpoint is True


def test_recipe_build_seed_zero_overrides_the_recipe_seed(
    corpora: Path, tmp_path: Path, captured: list[JobSettings]
) -> None:
    code, output = _build(corpora, tmp_path / "st", "--seed", "0")
    assert code == 0, output
    assert captured[0].seed == 0


def test_recipe_build_without_seed_uses_the_recipe_seed(  # already held
    corpora: Path, tmp_path: Path, captured: list[JobSettings]
) -> None:
    code, output = _build(corpora, tmp_path / "st")
    assert code == 0, output
    assert captured[0].seed == 5
