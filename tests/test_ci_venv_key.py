"""The CI venv cache key follows the dependencies, not the tool settings beside them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason=".ci/venv_key.py uses tomllib")


def _venv_key():
    spec = importlib.util.spec_from_file_location("venv_key", ROOT / ".ci" / "venv_key.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.venv_key


BASE = """
[build-system]
requires = ["setuptools>=68"]

[project]
name = "x"
requires-python = ">=3.10"
dependencies = ["torch>=2.9,<2.10", "numpy"]

[project.optional-dependencies]
dev = ["pytest>=8"]

[tool.pytest.ini_options]
addopts = "-ra"
"""


def _key(tmp_path: Path, text: str, pins: str = "torch==2.9.1\n") -> str:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    torch_pins = tmp_path / "requirements-torch.txt"
    torch_pins.write_text(pins)
    return _venv_key()(str(pyproject), str(torch_pins))


def test_tool_settings_do_not_change_the_key(tmp_path: Path) -> None:
    edited = BASE.replace('addopts = "-ra"', 'addopts = "-ra --strict-markers"\ntmp_path_retention_policy = "failed"')
    assert _key(tmp_path, BASE) == _key(tmp_path, edited)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"numpy"]', '"numpy", "scipy"]'),
        ('dev = ["pytest>=8"]', 'dev = ["pytest>=9"]'),
        ('requires-python = ">=3.10"', 'requires-python = ">=3.11"'),
        ('requires = ["setuptools>=68"]', 'requires = ["setuptools>=70"]'),
    ],
)
def test_dependency_changes_change_the_key(tmp_path: Path, old: str, new: str) -> None:
    assert old in BASE
    assert _key(tmp_path, BASE) != _key(tmp_path, BASE.replace(old, new))


def test_torch_pins_change_the_key(tmp_path: Path) -> None:
    assert _key(tmp_path, BASE) != _key(tmp_path, BASE, pins="torch==2.9.0\n")


def test_key_of_this_repository_is_short_hex() -> None:
    key = _venv_key()(str(ROOT / "pyproject.toml"), str(ROOT / ".ci" / "requirements-torch.txt"))
    assert len(key) == 16
    assert int(key, 16) >= 0
