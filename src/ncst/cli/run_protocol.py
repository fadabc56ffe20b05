"""`run-protocol`: score predictions, dumps or a model on one of the paper's four protocols."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, help="Score a source-tracing model on an ST-Codecfake protocol.")


@app.command()
def run_protocol() -> None:
    """Not yet implemented (the scorer lands with the benchmark issue)."""
    typer.echo("run-protocol: not yet implemented", err=True)
    raise typer.Exit(2)


def main() -> None:
    app()
