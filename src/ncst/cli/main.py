"""The umbrella `ncst` command: `codecs list`, `codecs check`, `verify`, and the build/score commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from ncst.cli._common import console, set_threads, setup_logging

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Neural Codec Source Tracing toolkit.")
codecs_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and check codec adapters.")
app.add_typer(codecs_app, name="codecs")


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs.")) -> None:
    setup_logging(verbose)


@codecs_app.command("list")
def codecs_list(
    as_json: bool = typer.Option(False, "--json", help="Print the cards as JSON instead of a table."),
) -> None:
    """List every codec variant with its card (rate, quantizers, bitrates, class id, checkpoint)."""
    from ncst.codecs import list_cards

    cards = list_cards()
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in cards], indent=2))
        return
    table = Table(title="ncst codecs")
    table.add_column("spec", no_wrap=True)
    for col in ("class", "prefix", "SR (Hz)", "n_q", "frames/s", "K", "nominal bps", "effective bps", "checkpoint"):
        table.add_column(col)
    for c in cards:
        table.add_row(
            c.spec,
            "-" if c.class_id is None else str(c.class_id),
            c.file_prefix,
            str(c.sample_rate_hz),
            str(c.n_quantizers),
            f"{c.frame_rate_hz:g}",
            str(c.codebook_size),
            f"{c.nominal_bitrate_bps:g}",
            f"{c.effective_bitrate_bps:g}",
            c.checkpoint,
        )
    _print_table(table)


@codecs_app.command("check")
def codecs_check(
    specs: List[str] = typer.Argument(..., help="Codec specs, e.g. encodec encodec@3kbps snac."),
    weights: str = typer.Option("random", help="'random' (offline), 'pretrained' or a local checkpoint path."),
    duration_s: float = typer.Option(0.5, "--duration", help="Test clip length in seconds."),
    seed: int = typer.Option(0, help="Seed of random weights and decoder sampling."),
    device: str = typer.Option("cpu", help="Torch device, e.g. cpu or cuda:0."),
    threads: int = typer.Option(0, min=0, help="Torch CPU threads (0 = torch default)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per codec."),
    trust_checkpoint: bool = typer.Option(
        False, "--trust-checkpoint", help="Allow checkpoints that hold pickled Python objects (can run code)."
    ),
) -> None:
    """Build each codec, run a short clip and report length, determinism and measured bitrate."""
    from ncst.codecs.conformance import check_codec

    set_threads(threads)
    from ncst.errors import NcstError

    try:
        reports = [
            check_codec(
                s, weights=weights, duration_s=duration_s, seed=seed, device=device, trust_checkpoint=trust_checkpoint
            )
            for s in specs
        ]
    except NcstError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    if as_json:
        payload = [r.to_dict() for r in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        table = Table(title=f"codec conformance ({weights} weights)")
        table.add_column("spec", no_wrap=True)
        for col in ("SR", "len", "finite", "determ.", "codes", "measured bps", "card bps", "ok"):
            table.add_column(col)
        for r in reports:
            table.add_row(
                r.spec,
                str(r.sample_rate_hz),
                _mark(r.length_ok),
                _mark(r.finite_ok),
                _mark(r.deterministic),
                str(r.distinct_codes),
                f"{r.measured_bitrate_bps:.1f}",
                f"{r.card_bitrate_bps:.1f}",
                _mark(r.ok),
            )
        _print_table(table)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _print_table(table: Table) -> None:
    """Prints a wide table without truncating cells when the output is a pipe (rich assumes 80 columns)."""
    from rich.console import Console

    wide = Console(file=console.file, width=max(console.width, 140), force_terminal=console.is_terminal)
    wide.print(table)


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"


@app.command("verify")
def verify(
    out_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="A build-dataset output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Re-hash every generated file against its provenance row and check wav/, label.txt and manifest.csv
    against it; list every discrepancy (exit 1 if there is any, 2 if DIR is not a build folder)."""
    from rich.markup import escape

    from ncst.build_dataset.verify import verify_build
    from ncst.errors import NcstError

    try:
        report = verify_build(out_dir)
    except NcstError as err:
        console.print(f"[red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from err
    problems = report.problems()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        counts = ", ".join(f"{len(items)} {kind}" for kind, items in problems.items()) or "no discrepancies"
        console.print(f"{report.n_ok} files ok, {counts} in {escape(str(out_dir))}", highlight=False)
        for kind, items in problems.items():
            for item in items:
                console.print(f"  {kind}: {escape(item)}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)


def _mount_commands() -> None:
    """`ncst build` and `ncst score` are the same commands as `build-dataset` and `run-protocol`."""
    from ncst.cli.build_dataset import build_dataset
    from ncst.cli.run_protocol import run_protocol

    app.command("build", epilog="Same as the `build-dataset` command.")(build_dataset)
    app.command("score", epilog="Same as the `run-protocol` command.")(run_protocol)
    _mount_model_commands()
    _mount_dataset_commands()


def _mount_dataset_commands() -> None:
    """`ncst download` and `ncst ingest` (one module each under ncst.cli)."""
    from ncst.cli.download import download
    from ncst.cli.ingest import ingest

    app.command("download")(download)
    app.command("ingest")(ingest)


def _mount_model_commands() -> None:
    """`ncst models`, `ncst train` and `ncst demo` (one module each under ncst.cli)."""
    from ncst.cli.demo import demo
    from ncst.cli.models import models
    from ncst.cli.train import train

    app.command("models")(models)
    app.command("train")(train)
    app.command("demo")(demo)


_mount_commands()


def main(argv: Optional[List[str]] = None) -> None:
    app(argv)
