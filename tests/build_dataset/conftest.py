from __future__ import annotations

from pathlib import Path

import pytest

from ncst.testing import write_tiny_corpus


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Three real-looking 16 kHz clips of different lengths + a manifest CSV; returns the manifest path."""
    return write_tiny_corpus(tmp_path)
