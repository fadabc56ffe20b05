"""`build-dataset`: resynthesise a corpus through one or more codecs (resumable, shardable).

`build-dataset --recipe NAME ...` is routed to `ncst build-recipe` (`routes_to_recipe`), so the old
spelling keeps working while each command has only its own options.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence

import typer

from ncst.cli import _build_options as opt
from ncst.cli._common import (
    build_progress,
    exit_on_failures,
    reports_errors,
    say,
    set_threads,
    setup_logging,
    write_card,
)

__all__ = ["build_dataset", "main", "routes_to_recipe"]

app = typer.Typer(add_completion=False)

EPILOG = (
    "Examples:\n\n"
    "  build-dataset --codec encodec --weights random --out demo_build   (offline smoke run on the demo corpus)\n\n"
    "  build-dataset --codec encodec --codec encodec@3kbps --corpus my_manifest.csv --out build --shard 0/4\n\n"
    "A whole dataset layout (ST-Codecfake) is `ncst build-recipe` (also spelled `build-dataset --recipe NAME`).\n\n"
    "Exit codes: 0 all files written or already present; 1 some inputs failed (see failures.csv); 2 bad arguments."
)


def routes_to_recipe(args: Sequence[str]) -> bool:
    """Whether `build-dataset` arguments ask for a recipe build (`--recipe NAME` or `--recipe=NAME`)."""
    return any(a == "--recipe" or a.startswith("--recipe=") for a in args)


@app.command(epilog=EPILOG)
@reports_errors
def build_dataset(
    codec: List[str] = typer.Option(
        [],
        "--codec",
        "-c",
        help="Codec spec, repeatable: encodec, encodec@3kbps, mimi, snac, ... (see `ncst codecs list`).",
    ),
    corpus: str = typer.Option("demo", help="'demo' (bundled real speech) or a manifest CSV with columns utt_id,path."),
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N utterances of the corpus."),
    out: Path = opt.OUT,
    weights: List[str] = opt.WEIGHTS,
    weights_dir: Optional[Path] = opt.WEIGHTS_DIR,
    device: str = opt.DEVICE,
    workers: int = opt.WORKERS,
    executor: str = opt.EXECUTOR,
    address: Optional[str] = opt.ADDRESS,
    batch_size: int = opt.BATCH_SIZE,
    shard: str = opt.SHARD,
    seed: Optional[int] = opt.SEED,
    trust_checkpoint: bool = opt.TRUST_CHECKPOINT,
    card: bool = opt.CARD,
    threads: int = opt.THREADS,
    verbose: bool = opt.VERBOSE,
) -> None:
    """Resynthesise real speech through neural codecs into OUT/wav/<prefix>_<utt>.wav.

    Writes label.txt (official `<file> fake <class id>` format), manifest.csv, provenance*.jsonl (one row
    per file) and failures*.csv. A rerun skips files whose provenance row and sha256 match, so a killed
    build resumes where it stopped.
    """
    from ncst.build_dataset import BuildConfig, build, parse_shard
    from ncst.codecs.weight_plan import parse_weights_options

    setup_logging(verbose)
    set_threads(threads)
    config = BuildConfig(
        codecs=tuple(codec),
        corpus=corpus,
        out_dir=out,
        weights=parse_weights_options(weights, weights_dir),
        device=device,
        workers=workers,
        shard=parse_shard(shard),
        limit=limit,
        seed=0 if seed is None else seed,
        trust_checkpoint=trust_checkpoint,
        executor=executor,
        address=address,
        batch_size=batch_size,
    )
    bar, on_progress = build_progress("build")
    try:
        result = build(config, progress=on_progress)
    finally:
        bar.stop()
    say(f"{result.done} written, {result.skipped} already present, {len(result.failures)} failed -> {result.out_dir}")
    write_card(result.out_dir, config.shard.suffix, card)
    exit_on_failures(result.out_dir, config.shard.suffix, len(result.failures))


def main() -> None:
    """The `build-dataset` console script; with `--recipe` it runs `build-recipe`."""
    if routes_to_recipe(sys.argv[1:]):
        from ncst.cli.build_recipe import app as recipe_app

        recipe_app()
    else:
        app()
