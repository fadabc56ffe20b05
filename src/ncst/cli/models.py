"""`ncst models`: the registered source-tracing models with their parameter counts and inputs."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ncst.cli._common import console, escape, reports_errors


@reports_errors
def models(
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON instead of a table."),
) -> None:
    """List the baseline models (and entry-point models) with their parameter counts and inputs."""
    from ncst.models import describe_models

    rows = describe_models()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table(title="ncst models")
    for col in ("model", "trainable params", "frozen params", "embedding", "input", "class"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            escape(r.name),
            f"{r.trainable_parameters:,}",
            f"{r.frozen_parameters:,}",
            str(r.embedding_dim),
            escape(r.input_description),
            escape(r.target),
        )
    from rich.console import Console

    Console(width=max(console.width, 160)).print(table)
