"""`run-protocol`: score predictions or dumps on one of the paper's four protocols and write a report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from rich.table import Table

from ncst.cli._common import console, print_error, reports_errors, say, setup_logging

if TYPE_CHECKING:
    from ncst.benchmark.results import ProtocolResult

app = typer.Typer(add_completion=False, help="Score a source-tracing model on an ST-Codecfake protocol.")

_PROTOCOLS = (
    "id_closed_set (Table 3), id_robustness (Table 4), ood_open_set (Table 5), alm_backend (Table 6), "
    "taxonomy (per-axis scores of a --task taxonomy model)"
)


@app.command()
@reports_errors
def run_protocol(
    name: str = typer.Argument(..., help=f"Protocol: {_PROTOCOLS}, or a protocol .toml file."),
    predictions: Optional[Path] = typer.Option(
        None,
        "--predictions",
        help="Official result folder: the published layout (result_id.txt, id_unseen_real/, alm/, ...) or the "
        "flat one the official scripts write (result_unseenreal_19.txt, alm/speechgpt.txt, ...).",
    ),
    dumps: Optional[Path] = typer.Option(None, "--dumps", help="Folder of <set>.npz logits+embeddings dumps."),
    model: Optional[str] = typer.Option(
        None, "--model", help="With --checkpoint: model name to use instead of the one the checkpoint records."
    ),
    checkpoint: Optional[Path] = typer.Option(
        None, "--checkpoint", help="Model checkpoint (ncst train): run it on --data, write dumps, then score."
    ),
    data: Optional[Path] = typer.Option(
        None, "--data", help="Dataset root: label files (Table 3: label/eval_id.txt); with --checkpoint also the audio."
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: ./protocol_out/NAME)."),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates for ID 95% intervals (0 = none)."),
    ood_bootstrap: int = typer.Option(100, help="Bootstrap replicates per OOD cell (0 = none)."),
    seed: int = typer.Option(20250111, help="Bootstrap seed."),
    skip_missing: bool = typer.Option(
        False,
        "--skip-missing",
        help="Skip sets whose files are missing; Table 3: score only the label-file entries that have predictions.",
    ),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write the PNG plots."),
    device: str = typer.Option(
        "cpu", help="Torch device of the model (--checkpoint) and the KNN detector, e.g. cuda:0."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
) -> None:
    """Score NAME from --predictions, --dumps, or --checkpoint with --data; write report.md, report.json
    and PNG plots. Scores are higher = in-distribution; report values are percentages.

    ood_open_set also scores every OOD class beyond the paper's five conditions that the dumps (or, with
    --checkpoint, the sets of --data) hold, each as its own condition in a separate block; label files and
    dumps that no protocol scores are listed in the report as "not scored".

    With --checkpoint the model runs on every set of --data the protocol reads and writes its dumps to
    --dumps (default: CHECKPOINT_DIR/dumps); dumps the same checkpoint already wrote from the same root are
    reused."""
    from ncst.benchmark.scoring import run_protocol as run

    setup_logging(verbose)
    if model is not None and checkpoint is None:
        print_error("--model only names the model of a --checkpoint; give --checkpoint CKPT too")
        raise typer.Exit(2)
    if checkpoint is not None:
        if data is None or predictions is not None:
            print_error("--checkpoint needs --data ROOT (and no --predictions)")
            raise typer.Exit(2)
        dumps = _checkpoint_dumps(name, checkpoint, data, dumps, model, device)
    if (predictions is None) == (dumps is None):
        print_error("give exactly one of --predictions DIR and --dumps DIR")
        raise typer.Exit(2)
    out_dir = out if out is not None else Path("protocol_out") / Path(name).stem
    result = run(
        name,
        out_dir,
        plots=not no_plots,
        predictions_dir=predictions,
        dumps_dir=dumps,
        data_dir=data,
        n_bootstrap=bootstrap,
        n_bootstrap_ood=ood_bootstrap,
        seed=seed,
        skip_missing=skip_missing,
        device=device,
    )
    if "predictions_layout" in result.settings:
        say(f"Read the {result.settings['predictions_layout']} result layout from {predictions}")
    _print_summary(result)
    say(f"Report written to {out_dir}/report.md")


def _checkpoint_dumps(
    name: str, checkpoint: Path, data: Path, dumps: Optional[Path], model: Optional[str], device: str
) -> Path:
    """Runs the checkpoint on the sets the protocol reads (dumps reused when already written)."""
    from ncst.models.infer import protocol_sets, write_dumps
    from ncst.models.taxonomy import taxonomy_sets
    from ncst.protocols import load_protocol

    dumps_dir = dumps if dumps is not None else checkpoint.parent / "dumps"
    sets = protocol_sets([name], data) if load_protocol(name).kind != "taxonomy" else taxonomy_sets(data)
    write_dumps(checkpoint, data, dumps_dir, sets=sets, model_name=model, device=device)
    return dumps_dir


def _print_summary(result: ProtocolResult) -> None:
    proto = result.protocol
    if proto.kind != "open_set":
        metric = proto.metrics[0]
        cells = ", ".join(f"{col} {cell[metric]:.2f}" for col, cell in result.cells.items() if metric in cell)
        say(f"{proto.paper_table} {metric} (%): {cells}")
        return
    table = Table(title=f"{proto.paper_table} AUC (%); FPR95 and EER are in the report")
    conditions = list(dict.fromkeys(key.split("/")[0] for key in result.cells))
    for col in ["detector", *conditions]:
        table.add_column(col)
    for det in dict.fromkeys(key.split("/")[1] for key in result.cells):
        row = [result.cells.get(f"{cond}/{det}") for cond in conditions]
        table.add_row(det, *("-" if c is None else f"{c['AUC']:.2f}" for c in row))
    console.print(table)


def main(argv: Optional[List[str]] = None) -> None:
    app(argv)
