from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
import fake_codec  # noqa: E402,F401  (registers "fakecodec")


def make_sine(rate: int, duration_s: float, freq_hz: float, seed: int = 0) -> np.ndarray:
    n = int(round(rate * duration_s))
    t = np.arange(n) / rate
    noise = np.random.default_rng(seed).standard_normal(n)
    return (0.5 * np.sin(2 * np.pi * freq_hz * t) + 0.05 * noise).astype(np.float32)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Three real-looking 16 kHz clips of different lengths + a manifest CSV; returns the manifest path."""
    src = tmp_path / "src"
    src.mkdir()
    rows = []
    for i, dur in enumerate((0.31, 0.5, 0.27)):
        path = src / f"utt{i}.wav"
        sf.write(path, make_sine(16000, dur, 200.0 + 50 * i, seed=i), 16000, subtype="PCM_16")
        rows.append({"utt_id": f"spk1_{i:03d}", "path": f"src/utt{i}.wav", "speaker": "spk1"})
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def add_utterance(manifest: Path, utt_id: str, audio: np.ndarray | bytes, rate: int = 16000) -> None:
    """Appends an utterance (audio array, or raw bytes for a broken file) to a manifest."""
    folder = manifest.parent / "src"
    if isinstance(audio, bytes):
        path = folder / f"{utt_id}.wav"
        path.write_bytes(audio)
    else:
        path = folder / f"{utt_id}.wav"
        sf.write(path, audio, rate, subtype="FLOAT")
    frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    frame = pd.concat([frame, pd.DataFrame([{"utt_id": utt_id, "path": f"src/{path.name}", "speaker": "x"}])])
    frame.to_csv(manifest, index=False)
