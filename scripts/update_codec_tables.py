"""Rewrites the generated codec and class tables in README.md and docs/codecs.md from the registry.

Run after adding or changing a codec card: `python scripts/update_codec_tables.py` (`--check` exits 1
when a file is stale, as the test does).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ncst.codecs.tables import TABLES, replace_block

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "README.md", ROOT / "docs" / "codecs.md")


def updated(text: str) -> str:
    for name, make in TABLES.items():
        if f"<!-- BEGIN {name} -->" in text:
            text = replace_block(text, name, make())
    return text


def main(argv: list[str]) -> int:
    stale = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        new = updated(text)
        if new != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if '--check' in argv else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
