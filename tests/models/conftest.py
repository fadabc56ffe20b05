"""Fixtures of the model tests: a tiny dataset root in the official layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_data import make_tiny_root


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    return make_tiny_root(tmp_path / "data")
