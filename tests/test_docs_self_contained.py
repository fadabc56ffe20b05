"""Docs and docstrings cite only what ships in the repository or is public: no project-internal spec files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    [*ROOT.joinpath("src", "ncst").rglob("*.py"), *ROOT.joinpath("src", "ncst").rglob("*.toml"),
     *ROOT.joinpath("docs").rglob("*.md"), ROOT / "README.md"]
)  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_of_files_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert [n for n, line in enumerate(text.splitlines(), 1) if "specs/" in line] == []
