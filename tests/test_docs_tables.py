"""The codec and class tables in README.md and docs/codecs.md are the registry's, not hand-kept lists."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("update_codec_tables", ROOT / "scripts" / "update_codec_tables.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["README.md", "docs/codecs.md"])
def test_generated_tables_are_up_to_date(name: str) -> None:
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    assert "<!-- BEGIN codec-table -->" in text
    assert _script().updated(text) == text, f"{name} is stale: run python scripts/update_codec_tables.py"
