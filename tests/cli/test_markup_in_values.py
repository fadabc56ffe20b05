"""Values that look like rich markup (file names, option values) are printed as given, never parsed.

Before, an unescaped `[/x]` in an error message raised rich's MarkupError: the user saw a traceback about
markup instead of the real error, and the exit code was 1 instead of 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app

runner = CliRunner()
MARKUP = "[/x]"


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["download", f"st{MARKUP}", "--out", "{tmp}/o"], id="download-unknown-name"),
        pytest.param(
            ["ingest", "--src", f"{{tmp}}/no{MARKUP}src", "--out", "{tmp}/o", "--folder", "ALM/moshi"],
            id="ingest-missing-src",
        ),
        pytest.param(
            ["train", "--model", "mel-lcnn", "--data", "{tmp}", "--out", "{tmp}/o", "--cache-dtype", f"f{MARKUP}"],
            id="train-bad-dtype",
        ),
        pytest.param(["build", "--codec", f"no{MARKUP}such", "--out", "{tmp}/o"], id="build-unknown-codec"),
        pytest.param(["build", "--recipe", f"no{MARKUP}such", "--out", "{tmp}/o"], id="recipe-unknown"),
        pytest.param(["codecs", "check", f"no{MARKUP}such"], id="codecs-check-unknown"),
        pytest.param(["score", f"no{MARKUP}such", "--predictions", "{tmp}"], id="score-unknown-protocol"),
    ],
)
def test_error_messages_show_markup_like_values_verbatim(tmp_path: Path, args: list[str]) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, argv)
    assert "MarkupError" not in repr(result.exception), result.output
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert MARKUP in _flat(result.output)


def test_verify_names_a_folder_with_markup_in_its_name(tmp_path: Path) -> None:
    folder = tmp_path / f"build{MARKUP[0]}x]"  # '[x]': a closing '/' cannot be part of a directory name
    folder.mkdir()
    result = runner.invoke(app, ["verify", str(folder)])
    assert result.exit_code == 2, result.output
    assert "build[x]" in _flat(result.output)
