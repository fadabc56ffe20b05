"""Shared fixtures: tiny synthetic audio. Torch runs single-threaded (2 busy cores + 2 threads = 25x slower)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ncst.testing import make_sine, register_fake_codec

torch.set_num_threads(1)
register_fake_codec()  # the fake codec every build test uses, registered once, explicitly


@pytest.fixture
def sine_16k() -> np.ndarray:
    return make_sine(16000)


@pytest.fixture
def sine_24k() -> np.ndarray:
    return make_sine(24000)
