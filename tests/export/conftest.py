"""A tiny flat build (fakecodec, 3 files) and two dataset roots made from it, shared by the export tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.build_dataset import BuildConfig, build
from ncst.testing import make_sine, write_tiny_corpus


@pytest.fixture(scope="session")
def flat_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`build-dataset` output of the 3-clip corpus through fakecodec: wav/, label.txt, manifest.csv, provenance."""
    base = tmp_path_factory.mktemp("flat")
    manifest = write_tiny_corpus(base)
    out = base / "build"
    result = build(BuildConfig(codecs=("fakecodec",), corpus=str(manifest), out_dir=out, weights="random"))
    if result.done != 3:
        raise RuntimeError(f"the fixture build made {result.done} files, not 3")
    return out


def make_dataset_root(flat: Path, root: Path) -> Path:
    """A recipe-build-like root: train (2 fake + 1 real), eval_id (1 fake), ID_diff_config/C3-1 (1 fake).

    The fake files are the flat build's, moved into their folders with their provenance rows rewritten to
    match; recipe.json maps the label files to folders as `build-dataset --recipe` writes it.
    """
    rows = [json.loads(line) for line in (flat / "provenance.jsonl").read_text().splitlines()]
    placed = {"train": rows[:2], "eval_id": rows[2:], "ID_diff_config/C3-1": rows[:1]}
    out_rows = []
    for folder, group in placed.items():
        (root / folder).mkdir(parents=True)
        for row in group:
            name = Path(row["file"]).name
            shutil.copyfile(flat / row["file"], root / folder / name)
            out_rows.append({**row, "file": f"{folder}/{name}"})
    sf.write(root / "train" / "spk1_009.wav", make_sine(16000, 0.2, seed=9), 16000, subtype="PCM_16")
    (root / "provenance.jsonl").write_text("".join(json.dumps(r) + "\n" for r in out_rows))
    (root / "label").mkdir()
    (root / "label" / "train.txt").write_text(
        "".join(f"{Path(r['file']).name} fake 1\n" for r in placed["train"]) + "spk1_009.wav real 0\n"
    )
    (root / "label" / "eval_id.txt").write_text(f"{Path(placed['eval_id'][0]['file']).name} fake 1\n")
    (root / "label" / "ID_diff_config-C3-1.txt").write_text(f"{Path(rows[0]['file']).name} fake 1\n")
    folders = {"train.txt": "train", "eval_id.txt": "eval_id", "ID_diff_config-C3-1.txt": "ID_diff_config/C3-1"}
    meta = {"recipe": "st-codecfake", "label_files": folders}
    (root / "recipe.json").write_text(json.dumps(meta))
    (root / "manifest.csv").write_text("folder,file,speaker,corpus,language\ntrain,spk1_009.wav,spk1,vctk,en\n")
    return root


@pytest.fixture(scope="session")
def dataset_root(flat_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared dataset root: read it, never edit it (tests that edit one use `fresh_root`)."""
    return make_dataset_root(flat_build, tmp_path_factory.mktemp("root") / "st")


@pytest.fixture
def fresh_root(flat_build: Path, tmp_path: Path) -> Path:
    """A dataset root of this test's own, to edit."""
    return make_dataset_root(flat_build, tmp_path / "st")


def make_download_root(root: Path) -> Path:
    """An official-download-like root: label/eval_id.txt (one real, one mimi file), no recipe.json, no provenance."""
    (root / "eval_id").mkdir(parents=True)
    (root / "label").mkdir()
    for i, name in enumerate(("p225_001.wav", "mimi_p225_001.wav")):
        sf.write(root / "eval_id" / name, np.float32(0.5) * make_sine(16000, 0.1, seed=i), 16000, subtype="PCM_16")
    (root / "label" / "eval_id.txt").write_text("p225_001.wav real 0\nmimi_p225_001.wav fake 1\n")
    return root


@pytest.fixture
def download_root(tmp_path: Path) -> Path:
    return make_download_root(tmp_path / "download")
