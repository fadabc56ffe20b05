"""The shared test helpers of `ncst.testing` that other tests lean on to prove "nothing changed on disk"."""

from __future__ import annotations

import os
from pathlib import Path

import tomllib

from ncst.testing import snapshot_tree, write_tiny_recipe


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("x", encoding="utf-8")
    (tmp_path / "g.txt").write_text("y", encoding="utf-8")
    return tmp_path


def test_snapshot_sees_a_grown_file(tmp_path: Path) -> None:
    before = snapshot_tree(_tree(tmp_path))
    (tmp_path / "g.txt").write_text("yy", encoding="utf-8")
    assert snapshot_tree(tmp_path) != before


def test_snapshot_sees_a_touched_file(tmp_path: Path) -> None:
    before = snapshot_tree(_tree(tmp_path))
    stat = (tmp_path / "g.txt").stat()
    os.utime(tmp_path / "g.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert snapshot_tree(tmp_path) != before


def test_snapshot_sees_a_file_replaced_by_a_link(tmp_path: Path) -> None:
    before = snapshot_tree(_tree(tmp_path))
    (tmp_path / "g.txt").unlink()
    (tmp_path / "g.txt").symlink_to(tmp_path / "a" / "b" / "f.txt")
    assert snapshot_tree(tmp_path)["g.txt"][0] == "link"
    assert before["g.txt"][0] == "file"


def test_snapshot_leaves_out_a_skipped_folder_and_what_lies_below(tmp_path: Path) -> None:
    names = set(snapshot_tree(_tree(tmp_path), skip=(tmp_path / "a",)))
    assert names == {"g.txt"}


def test_tiny_recipe_has_one_subset_per_folder(tmp_path: Path) -> None:
    write_tiny_recipe(tmp_path, ("train", "eval_id"))
    recipe = tomllib.loads((tmp_path / "tiny.toml").read_text(encoding="utf-8"))
    assert [(s["folder"], s["source"]) for s in recipe["subsets"]] == [
        ("train", "main:train"),
        ("eval_id", "main:eval"),
    ]
