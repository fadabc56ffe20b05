"""`ncst protocols list` and `ncst protocols show NAME|FILE`: what each benchmark protocol scores."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ncst.cli._common import escape, print_table, reports_errors, say

group = typer.Typer(add_completion=False, no_args_is_help=True, help="List and show the benchmark protocols.")


@group.command("list")
@reports_errors
def protocols_list(as_json: bool = typer.Option(False, "--json", help="Print the protocols as JSON.")) -> None:
    """List the built-in protocols: the paper table each reproduces, what it scores, and its metrics."""
    from ncst.protocols import list_protocols, load_protocol

    protocols = [load_protocol(name) for name in list_protocols()]
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in protocols], indent=2))
        return
    table = Table(title="ncst protocols")
    for col in ("name", "paper", "kind", "scores", "metrics"):
        table.add_column(col)
    for p in protocols:
        scored = ", ".join(p.columns) if p.columns else ", ".join(c.name for c in p.conditions)
        table.add_row(escape(p.name), p.paper_table, p.kind, escape(scored), ", ".join(p.metrics))
    print_table(table)
    say("A protocol file of your own works wherever a name does (run-protocol FILE.toml); see docs/protocols.md.")


@group.command("show")
@reports_errors
def protocols_show(
    name: str = typer.Argument(..., help="A built-in protocol name or the path of a protocol .toml file."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole protocol as JSON."),
) -> None:
    """Show one protocol: its sets or OOD conditions, where each set's labels and predictions come from."""
    from ncst.protocols import load_protocol

    protocol = load_protocol(name)
    if as_json:
        typer.echo(json.dumps(protocol.to_dict(), indent=2))
        return
    say(f"{protocol.name}: {protocol.title} ({protocol.paper_table}, {protocol.kind}, average {protocol.average})")
    if protocol.sets:
        table = Table(title="sets")
        for col in ("column", "dump", "result file", "true label"):
            table.add_column(col)
        for s in protocol.sets:
            label = str(s.label) if s.labels == "constant" else f"{s.label_file or 'label file'} or file-name prefix"
            table.add_row(escape(s.column), escape(s.dump), escape(s.result_file), escape(label))
        print_table(table)
    if protocol.conditions:
        table = Table(title="OOD conditions")
        for col in ("condition", "dumps"):
            table.add_column(col)
        for c in protocol.conditions:
            table.add_row(escape(c.name), escape(" | ".join(" + ".join(group) for group in c.dumps)))
        print_table(table)
        say(f"detectors: {', '.join(protocol.detectors)}; bank: {protocol.bank_dump}; ID set: {protocol.id_dump}")
    for note in protocol.notes:
        say(f"note: {note}")
