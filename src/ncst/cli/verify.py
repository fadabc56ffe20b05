"""`ncst verify DIR`: check a build folder against its provenance rows."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ncst.cli._common import console, escape, reports_errors


@reports_errors
def verify(
    out_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="A build-dataset output folder or a dataset root."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Re-hash every generated file against its provenance row and check wav/, label.txt and manifest.csv
    (or, on a dataset root, every label file) against it; list every discrepancy (exit 1 if there is any,
    2 if DIR is not a build folder or dataset root)."""
    from ncst.verify import verify as verify_any

    report = verify_any(out_dir)
    problems = report.problems()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        counts = ", ".join(f"{len(items)} {kind}" for kind, items in problems.items()) or "no discrepancies"
        console.print(f"{report.n_ok} files ok, {counts} in {escape(str(out_dir))}", highlight=False)
        for kind, items in problems.items():
            for item in items:
                console.print(f"  {kind}: {escape(item)}", highlight=False, soft_wrap=True)
        if report.unverified:
            console.print(f"{len(report.unverified)} folders unverified (no label file lists their files):")
            for item in report.unverified:
                console.print(f"  unverified: {escape(item)}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
