from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("command,option", [("build", "--codec"), ("score", "--predictions"), ("verify", "--json")])
def test_umbrella_subcommands_have_help(command: str, option: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert option in result.output


def test_verify_on_a_folder_without_provenance_fails_clearly(tmp_path) -> None:  # noqa: ANN001
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 2
    assert "build-dataset output folder" in result.output


def test_reports_errors_turns_an_ncst_error_into_one_line_and_exit_2() -> None:
    import typer
    from typer.testing import CliRunner

    from ncst.cli._common import reports_errors
    from ncst.errors import NcstError

    app = typer.Typer()

    @app.command()
    @reports_errors
    def fail(name: str = typer.Option("x", help="a value")) -> None:
        raise NcstError(f"bad [/{name}]")

    result = CliRunner().invoke(app, ["--name", "y"])
    assert result.exit_code == 2
    assert "error: bad [/y]" in result.output


def test_every_command_wears_reports_errors() -> None:
    import ast
    import importlib
    from pathlib import Path

    from ncst.cli.main import COMMANDS

    cli_dir = Path(importlib.import_module("ncst.cli").__file__).parent
    mounted = {tuple(target.split(":")) for _, target, _ in COMMANDS}
    bare = []
    for path in sorted(cli_dir.glob("*.py")):
        module = f"ncst.cli.{path.stem}"
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            names = [ast.unparse(d) for d in node.decorator_list]
            is_command = any(".command(" in n for n in names) or (module, node.name) in mounted
            if is_command and "reports_errors" not in names:
                bare.append(f"{module}:{node.name}")
    assert bare == []
