"""`build-dataset`: resynthesise a corpus through one or more codecs (resumable, shardable)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ncst.cli._common import build_progress, exit_on_failures, print_error, say, set_threads, setup_logging

app = typer.Typer(add_completion=False)

EPILOG = (
    "Examples:\n\n"
    "  build-dataset --codec encodec --weights random --out demo_build   (offline smoke run on the demo corpus)\n\n"
    "  build-dataset --codec encodec --codec encodec@3kbps --corpus my_manifest.csv --out build --shard 0/4\n\n"
    "  build-dataset --recipe st-codecfake --vctk VCTK-Corpus-0.92 --aishell3 data_aishell3 --ncssd NCSSD --out st\n\n"
    "Exit codes: 0 all files written or already present; 1 some inputs failed (see failures.csv); 2 bad arguments."
)


@app.command(epilog=EPILOG)
def build_dataset(
    codec: List[str] = typer.Option(
        [],
        "--codec",
        "-c",
        help="Codec spec, repeatable: encodec, encodec@3kbps, mimi, snac, ... (see `ncst codecs list`).",
    ),
    corpus: str = typer.Option("demo", help="'demo' (bundled real speech) or a manifest CSV with columns utt_id,path."),
    out: Path = typer.Option(Path("ncst_build"), "--out", "-o", help="Build folder (created; reruns resume it)."),
    weights: str = typer.Option(
        "pretrained",
        help="'pretrained' (download on first use), 'random' (offline smoke runs; marked in provenance) "
        "or a local checkpoint path.",
    ),
    device: str = typer.Option("cpu", help="Torch device, e.g. cpu or cuda:0."),
    workers: int = typer.Option(
        0,
        min=0,
        help="Worker processes (0 = run in this process); each loads its own model. Ray: actors (0 = one per CPU/GPU).",
    ),
    executor: str = typer.Option(
        "local", help="'local' (this machine) or 'ray' (pip install ncst\\[ray], see docs/scaling.md)."
    ),
    address: Optional[str] = typer.Option(
        None, help="--executor ray: cluster address ('auto', 'ray://host:10001'); default starts a local Ray instance."
    ),
    batch_size: int = typer.Option(
        1, min=0, help="Files per codec call in this process (0 = as many as fit the GPU's memory); for GPUs."
    ),
    shard: str = typer.Option(
        "0/1", help="Do only shard I of N (0-based), e.g. 0/4; shards can run on different machines."
    ),
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N utterances of the corpus."),
    seed: Optional[int] = typer.Option(
        None,
        help="Seed of random weights and of decoder sampling (default 0); with --recipe also of the split "
        "(default: the recipe's seed; an explicit --seed 0 is used as given).",
    ),
    trust_checkpoint: bool = typer.Option(
        False,
        "--trust-checkpoint",
        help="Allow checkpoints that hold pickled Python objects (loading them can run code; only for files "
        "you trust). Without it such files are refused.",
    ),
    threads: int = typer.Option(0, min=0, help="Torch CPU threads in this process (0 = torch default)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
    recipe: Optional[str] = typer.Option(
        None, help="Build a whole dataset layout instead: 'st-codecfake' or a recipe .toml (see docs/dataset.md)."
    ),
    vctk: Optional[Path] = typer.Option(None, help="--recipe: VCTK 0.92 (or 0.80) folder."),
    aishell3: Optional[Path] = typer.Option(None, help="--recipe: AISHELL-3 folder."),
    ncssd: Optional[Path] = typer.Option(
        None, help="--recipe: NCSSD folder (R-EN, R-ZH); its subsets are skipped without it."
    ),
    labels: Optional[Path] = typer.Option(
        None, help="--recipe: folder of official label files; reproduces their split exactly (else a seeded split)."
    ),
    subsets: List[str] = typer.Option(
        [], "--subsets", help="--recipe: only these folders (repeatable or comma-separated), e.g. train,ID_diff_config."
    ),
    per_class_limit: Optional[int] = typer.Option(
        None, min=1, help="--recipe: N files per folder and class (a miniature of the whole layout)."
    ),
    add_codec: List[str] = typer.Option(
        [], "--add-codec", help="--recipe: add a registered codec as a new class, SPEC=ID or SPEC=OOD (repeatable)."
    ),
) -> None:
    """Resynthesise real speech through neural codecs into OUT/wav/<prefix>_<utt>.wav.

    Writes label.txt (official `<file> fake <class id>` format), manifest.csv, provenance*.jsonl (one row
    per file) and failures*.csv. A rerun skips files whose provenance row and sha256 match, so a killed
    build resumes where it stopped.
    """
    setup_logging(verbose)
    set_threads(threads)
    if recipe is not None:
        from ncst.cli.recipe_build import run_recipe_build

        if codec or corpus != "demo" or limit is not None:
            print_error("--recipe takes its codecs and corpora from the recipe; drop --codec/--corpus/--limit")
            raise typer.Exit(2)
        run_recipe_build(
            recipe=recipe, vctk=vctk, aishell3=aishell3, ncssd=ncssd, labels=labels, out=out, subsets=subsets,
            per_class_limit=per_class_limit, add_codec=add_codec, weights=weights, device=device, workers=workers,
            shard=shard, seed=seed, executor=executor, address=address, batch_size=batch_size,
            trust_checkpoint=trust_checkpoint,
        )  # fmt: skip
        return
    from ncst.build_dataset import BuildConfig, build, parse_shard
    from ncst.errors import NcstError

    try:
        config = BuildConfig(
            codecs=tuple(codec),
            corpus=corpus,
            out_dir=out,
            weights=weights,
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
    except NcstError as err:
        print_error(err)
        raise typer.Exit(2) from err
    say(f"{result.done} written, {result.skipped} already present, {len(result.failures)} failed -> {result.out_dir}")
    exit_on_failures(result.out_dir, config.shard.suffix, len(result.failures))


def main() -> None:
    app()
