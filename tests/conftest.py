"""Shared fixtures: tiny synthetic audio. Torch runs single-threaded (2 busy cores + 2 threads = 25x slower)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def make_sine(sample_rate_hz: int, duration_s: float = 0.5, freq_hz: float = 220.0, seed: int = 0) -> np.ndarray:
    """A sine with a little noise, peak about 0.55, float32 `[T]`."""
    n = int(round(sample_rate_hz * duration_s))
    t = np.arange(n, dtype=np.float32) / sample_rate_hz
    rng = np.random.default_rng(seed)
    x = 0.5 * np.sin(2 * math.pi * freq_hz * t) + 0.05 * rng.standard_normal(n).astype(np.float32)
    return x.astype(np.float32)


@pytest.fixture
def sine_16k() -> np.ndarray:
    return make_sine(16000)


@pytest.fixture
def sine_24k() -> np.ndarray:
    return make_sine(24000)
