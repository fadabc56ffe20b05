"""An outside plug-in, end to end: the docs' example module as a real package registered by entry point.

The module is the code block of docs/adding_a_codec.md (so the docs cannot drift from the code); the test
writes it as `my_package/adapter.py` with a `my_package-0.1.0.dist-info` (METADATA + entry_points.txt) on
sys.path, then checks that ncst discovers it, that it keeps the adapter contract, that `--add-codec` builds
it into a recipe miniature as OOD class 12, and that provenance names its distribution and version.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ncst.codecs.registry as registry
from ncst.cli.main import app
from ncst.codecs import available_codecs, codec_class, get_card
from ncst.codecs.contract import check_adapter_contract
from ncst.testing import write_tiny_recipe

DOCS = Path(__file__).resolve().parents[2] / "docs" / "adding_a_codec.md"
MARKER = "<!-- plugin example: my_package/adapter.py -->"


def docs_plugin_example() -> str:
    """The Python block right after the marker in docs/adding_a_codec.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.S)
    if found is None:
        raise AssertionError(f"{DOCS}: no ```python block after {MARKER}")
    return found.group(1)


def write_plugin_package(root: Path, source: str, *, name: str = "my-package", version: str = "0.1.0") -> Path:
    """A tiny installed distribution: `my_package/adapter.py` plus its dist-info with an `ncst.codecs` entry point."""
    package = root / "my_package"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "adapter.py").write_text(source, encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[ncst.codecs]\nmycodec = my_package.adapter:MyCodec\n", encoding="utf-8")
    return root


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = write_plugin_package(tmp_path / "site", docs_plugin_example())
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(registry, "_REGISTERED", dict(registry._REGISTERED))  # forget the class afterwards
    yield root
    for module in [m for m in sys.modules if m == "my_package" or m.startswith("my_package.")]:
        del sys.modules[module]


def test_docs_plugin_card_has_no_class_id_and_no_extra(plugin: Path) -> None:
    card = get_card("mycodec")
    assert card.class_id is None
    assert card.install_hint == "pip install my-package"


def test_plugin_is_discovered_by_its_entry_point(plugin: Path) -> None:
    assert "mycodec" in available_codecs(runtime=False)
    assert codec_class("mycodec").__module__ == "my_package.adapter"


def test_plugin_keeps_the_adapter_contract(plugin: Path, tmp_path: Path) -> None:
    report = check_adapter_contract("mycodec", work_dir=tmp_path / "contract", raise_on_failure=True)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses == {
        "card": "ok", "conformance": "ok", "missing_extra": "skipped", "local_round_trip": "ok",
        "crafted_checkpoint": "ok", "mocked_pretrained": "skipped",
    }  # fmt: skip


def test_plugin_builds_as_ood_class_and_provenance_names_its_distribution(plugin: Path, tmp_path: Path) -> None:
    write_tiny_recipe(tmp_path)
    out = tmp_path / "st"
    args = [
        "build", "--recipe", str(tmp_path / "tiny.toml"), "--vctk", str(tmp_path / "vctk"), "--aishell3",
        str(tmp_path / "aishell3"), "--out", str(out), "--weights", "random", "--per-class-limit", "1",
        "--add-codec", "mycodec=12:OOD",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "label" / "eval_ood12.txt").read_text().split()[1:] == ["fake", "12"]
    rows = [json.loads(line) for line in (out / "provenance.jsonl").read_text().splitlines()]
    plugin_rows = [r for r in rows if r["codec_spec"] == "mycodec@16k"]
    assert len(plugin_rows) == 1
    assert plugin_rows[0]["extra"]["plugin"] == {
        "distribution": "my-package", "version": "0.1.0", "entry_point": "my_package.adapter:MyCodec",
    }  # fmt: skip
    assert all("plugin" not in r["extra"] for r in rows if r["codec_spec"] != "mycodec@16k")
    meta = json.loads((out / "recipe.json").read_text())
    assert meta["classes"]["12"]["codec"] == "mycodec@16k"
    assert meta["classes"]["12"]["plugin"]["version"] == "0.1.0"
