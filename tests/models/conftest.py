"""Fixtures of the model tests: a tiny root in the official layout, and the demo with its codec build stubbed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tiny_data import make_tiny_root

import ncst.models.demo as demo
from ncst.codecs import get_card


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    return make_tiny_root(tmp_path / "data")


def _noisy_copies(specs: list[str], clips: list, work: Path, name: str, config: demo.DemoConfig) -> Path:
    """Stands in for the demo's codec build: each 'codec' adds a little noise to the clip (seconds, not minutes)."""
    out = work / f"build_{name}" / "wav"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for spec in specs:
        for utt in clips:
            audio, rate = sf.read(utt.path, dtype="float32")
            noisy = audio + 0.01 * rng.standard_normal(len(audio))
            sf.write(out / f"{get_card(spec).file_prefix}_{utt.utt_id}.wav", noisy, rate)
    return out


@pytest.fixture
def stub_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ncst.models.demo` builds its miniature with noisy copies instead of running the codecs."""
    monkeypatch.setattr(demo, "_build", _noisy_copies)
