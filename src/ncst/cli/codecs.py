"""`ncst codecs list` and `ncst codecs check`: inspect and check codec adapters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from ncst.cli._common import escape, print_table, reports_errors, set_threads

group = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and check codec adapters.")


@group.command("list")
@reports_errors
def codecs_list(
    as_json: bool = typer.Option(False, "--json", help="Print the cards as JSON instead of a table."),
    as_markdown: bool = typer.Option(False, "--markdown", help="Print the Markdown table the docs use."),
) -> None:
    """List every codec variant with its card (rate, quantizers, bitrates, class id, checkpoint, taxonomy).

    The taxonomy columns are the three axes of docs/codecs.md (quantiser, auxiliary objective, decoder
    domain); --json also gives each card's finer text (`quantizer`, `decoder_type`, `auxiliary_detail`)."""
    from ncst.codecs import list_cards

    cards = list_cards()
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in cards], indent=2))
        return
    if as_markdown:
        from ncst.codecs.tables import codec_table

        typer.echo(codec_table(cards), nl=False)
        return
    table = Table(title="ncst codecs")
    table.add_column("spec", no_wrap=True)
    columns = ("class", "prefix", "SR (Hz)", "n_q", "frames/s", "K", "nominal bps", "effective bps", "checkpoint")
    for col in (*columns, "quantizer", "auxiliary", "decoder"):
        table.add_column(col)
    for c in cards:
        table.add_row(
            escape(c.spec),
            "-" if c.class_id is None else str(c.class_id),
            escape(c.file_prefix),
            str(c.sample_rate_hz),
            str(c.n_quantizers),
            f"{c.frame_rate_hz:g}",
            str(c.codebook_size),
            f"{c.nominal_bitrate_bps:g}",
            f"{c.effective_bitrate_bps:g}",
            escape(c.checkpoint),
            *(escape(v) for v in c.taxonomy.values()),
        )
    print_table(table)


@group.command("check")
@reports_errors
def codecs_check(
    specs: List[str] = typer.Argument(..., help="Codec specs, e.g. encodec encodec@3kbps snac."),
    weights: List[str] = typer.Option(
        [],
        "--weights",
        help="'random' (the default; offline), 'pretrained' or a local checkpoint path; repeatable with "
        "per-codec overrides SPEC_OR_NAME=VALUE (docs/weights.md).",
    ),
    weights_dir: Optional[Path] = typer.Option(
        None, "--weights-dir", help="Folder with one DIR/<spec>/ or DIR/<name>/ checkpoint folder per codec."
    ),
    duration_s: float = typer.Option(0.5, "--duration", help="Test clip length in seconds."),
    seed: int = typer.Option(0, help="Seed of random weights and decoder sampling."),
    device: str = typer.Option("cpu", help="Torch device, e.g. cpu or cuda:0."),
    threads: int = typer.Option(0, min=0, help="Torch CPU threads (0 = torch default)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per codec."),
    trust_checkpoint: bool = typer.Option(
        False, "--trust-checkpoint", help="Allow checkpoints that hold pickled Python objects (can run code)."
    ),
    contract: bool = typer.Option(
        False,
        "--contract",
        help="Run the whole adapter contract instead (card, conformance, missing extra, local round trip, "
        "crafted checkpoint, mocked pretrained; offline, random weights; ncst.codecs.contract).",
    ),
) -> None:
    """Build each codec, run a short clip and report length, determinism and measured bitrate.

    Exit codes: 0 every codec passed; 1 some check failed (listed); 2 an unknown codec spec."""
    from ncst.codecs.conformance import check_codec
    from ncst.codecs.weight_plan import parse_weights_options

    set_threads(threads)
    if contract:
        _check_contract(specs, duration_s, as_json)
        return
    plan = parse_weights_options(weights, weights_dir, default="random")
    reports = [
        check_codec(
            s,
            weights=plan.resolve(s).spec,
            duration_s=duration_s,
            seed=seed,
            device=device,
            trust_checkpoint=trust_checkpoint,
        )
        for s in specs
    ]
    if as_json:
        payload = [r.to_dict() for r in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        table = Table(title=f"codec conformance ({escape(plan.label())} weights)")
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
        print_table(table)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _check_contract(specs: List[str], duration_s: float, as_json: bool) -> None:
    """`codecs check --contract`: every check of `ncst.codecs.contract` on each spec; exit 1 on any failure."""
    from ncst.codecs import get_card
    from ncst.codecs.contract import check_adapter_contract

    for spec in specs:  # every spec is known before the first check runs (exit 2 otherwise)
        get_card(spec)
    reports = [check_adapter_contract(s, duration_s=duration_s) for s in specs]
    if as_json:
        payload = [r.to_dict() for r in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        table = Table(title="adapter contract")
        for col in ("spec", "check", "result", "detail"):
            table.add_column(col, no_wrap=col != "detail")
        marks = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}
        for r in reports:
            for c in r.checks:
                table.add_row(escape(r.spec), c.name, marks[c.status], escape(c.detail))
        print_table(table)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"
