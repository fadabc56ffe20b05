"""Fixtures: a flat fake-codec build of a tiny corpus, and a hand-made dataset root in the ST-Codecfake layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.build_dataset import BuildConfig, build
from ncst.build_dataset.provenance import ProvenanceLog
from ncst.build_dataset.records import ProvenanceRow
from ncst.testing import make_sine, write_tiny_corpus

RATE = 16000


@pytest.fixture(scope="module")
def flat_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`build-dataset --codec fakecodec@16k --codec fakecodec@24k` on three 1 s clips."""
    base = tmp_path_factory.mktemp("flat")
    manifest = write_tiny_corpus(base / "corpus", durations_s=(1.0, 0.9, 1.1))
    out = base / "build"
    result = build(BuildConfig(codecs=("fakecodec@16k", "fakecodec@24k"), corpus=str(manifest), out_dir=out))
    if result.failures:
        raise RuntimeError(f"fixture build failed: {result.failures}")
    return out


def _row(file: str, utt_id: str, spec: str, class_id: int, weights: str, n: int, bitrate: float) -> ProvenanceRow:
    return ProvenanceRow(
        file=file, utt_id=utt_id, source_path=f"/nowhere/{utt_id}.wav", source_sha256="0" * 64,
        source_sample_rate_hz=RATE, source_samples=n, codec_spec=spec, class_id=class_id, weights=weights,
        checkpoint="none", checkpoint_sha256={}, upstream_versions={}, resampling="none", sample_rate_hz=RATE,
        input_samples=n, output_samples=n, output_peak=0.5, output_sha256="0" * 64, seed=0, ncst_version="0",
        git_commit=None, created_utc="2026-01-01T00:00:00Z", seconds=0.0,
        extra={"measured_bitrate_bps": bitrate},
    )  # fmt: skip


#: (folder, label file, class id, codec spec or "" for real, file prefix) of the hand-made root.
RECIPE_GROUPS = (
    ("eval_id", "eval_id.txt", 0, "real@16k", ""),
    ("eval_id", "eval_id.txt", 4, "encodec@12kbps", "encodec"),
    ("eval_id", "eval_id.txt", 4, "encodec@3kbps", "encodec3"),
    ("ID_diff_config/C3-10", "ID_diff_config-C3-10.txt", 3, "funcodec@24kbps", "funcodec"),
    ("ID_diff_config/C3-2", "ID_diff_config-C3-2.txt", 3, "funcodec@6kbps", "funcodec"),
    ("train", "train.txt", 0, "real@16k", ""),
)
EVAL_UTTS = ("p225_001", "p225_002", "p226_003")


def write_recipe_root(root: Path, *, weights: str = "random") -> Path:
    """A dataset root with real and fake eval files of three utterances (the config sets miss the third)."""
    label_files: dict[str, str] = {}
    lines: dict[str, list[str]] = {}
    rng = np.random.default_rng(0)
    with ProvenanceLog(root / "provenance.jsonl") as prov:
        for folder, label_file, class_id, spec, prefix in RECIPE_GROUPS:
            label_files[label_file] = folder
            utts = ("p300_009",) if folder == "train" else EVAL_UTTS[:2] if "C3" in folder else EVAL_UTTS
            for i, utt in enumerate(utts):
                name = f"{prefix}_{utt}.wav" if prefix else f"{utt}.wav"
                clean = make_sine(RATE, 1.0, 180.0 + 40 * i, seed=i)
                audio = clean if class_id == 0 else clean + 0.02 * class_id * rng.standard_normal(clean.size)
                (root / folder).mkdir(parents=True, exist_ok=True)
                sf.write(root / folder / name, audio.astype(np.float32), RATE, subtype="PCM_16")
                lines.setdefault(label_file, []).append(f"{name} {'real' if class_id == 0 else 'fake'} {class_id}\n")
                bitrate = 256000.0 if class_id == 0 else 1000.0 * float(spec.split("@")[1].removesuffix("kbps"))
                prov.append(_row(f"{folder}/{name}", utt, spec, class_id, weights, clean.size, bitrate))
    (root / "label").mkdir(parents=True, exist_ok=True)
    for label_file, text in lines.items():
        (root / "label" / label_file).write_text("".join(text), encoding="utf-8")
    meta = {"recipe": "mini-st", "label_files": label_files, "prefixes": {}, "seed": 0}
    (root / "recipe.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


@pytest.fixture
def recipe_root(tmp_path: Path) -> Path:
    return write_recipe_root(tmp_path / "st")


@pytest.fixture
def make_recipe_root() -> Callable[..., Path]:
    """`write_recipe_root` itself, for tests that need other weights."""
    return write_recipe_root
