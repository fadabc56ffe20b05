"""`ncst demo`: the whole pipeline offline from the bundled demo corpus, with one report of the four protocols."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ncst.cli._common import console, escape, reports_errors, say, set_threads


@reports_errors
def demo(
    out: Path = typer.Option(Path("ncst_demo"), "--out", help="Output folder (rerun to resume)."),
    epochs: int = typer.Option(6, min=1, help="Mel-LCNN training epochs."),
    workers: int = typer.Option(2, min=0, help="Codec worker processes for the dataset build."),
    threads: int = typer.Option(1, min=0, help="Torch CPU threads (0 = torch default)."),
    add_codec: List[str] = typer.Option(
        [],
        "--add-codec",
        help="Add a registered codec (a plug-in too) as an extra OOD class: SPEC=OOD or SPEC=12:OOD "
        "(repeatable); label/eval_ood<id>.txt, audio in eval_ood/.",
    ),
    recipe: Optional[str] = typer.Option(
        None,
        "--recipe",
        help="A recipe extending st-codecfake (built-in name or .toml): its classes beyond 0-11 join the demo "
        "as extra OOD classes.",
    ),
) -> None:
    """Build a miniature ST-Codecfake (random-weight codecs), train Mel-LCNN, score the four protocols.

    Fully offline. The numbers show the pipeline working, not the paper's accuracy. The report names what
    the demo leaves out (classes 8-11 but one, codecs registered but not built, ...)."""
    import os
    import time

    # Codec worker processes are spawned: hide upstream weight_norm/jit deprecation noise there too.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::DeprecationWarning")
    from ncst.cli.build_recipe import parse_add_codec
    from ncst.models.demo import DemoConfig, run_demo

    set_threads(threads)
    start = time.perf_counter()

    def stage(name: str, message: str) -> None:
        elapsed = time.perf_counter() - start
        console.print(f"[bold]{escape(name)}[/] ({elapsed:.0f} s): {escape(message)}", highlight=False)

    added = tuple(parse_add_codec(a) for a in add_codec)
    config = DemoConfig(out_dir=out, epochs=epochs, workers=workers, add_codecs=added, recipe=recipe)
    result = run_demo(config, progress=stage)
    for item in result.missing:
        console.print(f"[yellow]not in the demo:[/] {escape(item)}", highlight=False)
    say(f"Demo finished in {result.timings_s['total']:.0f} s. Report: {result.report}")
