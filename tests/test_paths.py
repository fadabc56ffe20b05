"""`ncst.paths`: both containment checks follow symlinks on disk the same way, loops included."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.errors import NcstError
from ncst.paths import UnsafeNameError, inside, resolve_inside


def _loop(root: Path) -> None:
    root.mkdir()
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")


def test_inside_names_a_symlink_loop(tmp_path: Path) -> None:
    _loop(tmp_path / "r")
    with pytest.raises(UnsafeNameError, match="cannot be resolved"):
        inside(tmp_path / "r", "a/x.wav", what="member")


def test_resolve_inside_names_a_symlink_loop(tmp_path: Path) -> None:
    _loop(tmp_path / "r")
    with pytest.raises(NcstError, match="symlink loop"):
        resolve_inside(tmp_path / "r", "a/x.wav", "recipe folder")


def test_inside_refuses_a_link_out(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "train").symlink_to(tmp_path)
    with pytest.raises(UnsafeNameError, match="leads outside"):
        inside(tmp_path / "r", "train/x.wav", what="member")
