"""`ncst build-recipe`: build a whole dataset layout (ST-Codecfake) from its source corpora.

`build-dataset --recipe NAME ...` is the same command (the `ncst` group and the `build-dataset` script
route it here).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from ncst.cli import _build_options as opt
from ncst.cli._common import (
    build_progress,
    console,
    escape,
    exit_on_failures,
    reports_errors,
    say,
    set_threads,
    setup_logging,
    write_card,
)

if TYPE_CHECKING:
    from ncst.recipes.class_ids import AddedCodec

__all__ = ["build_recipe", "main", "parse_add_codec"]

app = typer.Typer(add_completion=False)

EPILOG = (
    "Examples:\n\n"
    "  ncst build-recipe --vctk VCTK-Corpus-0.92 --aishell3 data_aishell3 --ncssd NCSSD --out st\n\n"
    "  ncst build-recipe --recipe mine.toml --vctk V --aishell3 A --out st --per-class-limit 2 --weights random\n\n"
    "Exit codes: 0 all files written or already present; 1 some inputs failed (see failures*.csv); 2 bad arguments."
)


def parse_add_codec(text: str, option: str = "--add-codec") -> AddedCodec:
    """`mycodec=OOD`, `mycodec@v2=12:OOD` (class id 12) or a bare `mycodec` (OOD) -> `AddedCodec`.

    Raises:
        RecipeError: Not `SPEC`, `SPEC=SET` or `SPEC=ID:SET` with SET one of ID/OOD and ID a class id
            (whether SPEC is registered, and whether the id is free in the dataset root, the build checks).
    """
    from ncst.recipes import RecipeError
    from ncst.recipes.class_ids import AddedCodec
    from ncst.recipes.recipe import MAX_CLASS_ID

    spec, sep, rest = (part.strip() for part in text.partition("="))
    number, colon, set_name = rest.rpartition(":")
    set_name = set_name.strip().upper() if sep else "OOD"
    number = number.strip()
    class_id = int(number) if number.isascii() and number.isdigit() and len(number) <= 6 else None
    bad_id = bool(colon) and (class_id is None or not 1 <= class_id <= MAX_CLASS_ID)
    if not spec or any(ch.isspace() for ch in spec) or set_name not in ("ID", "OOD") or bad_id:
        raise RecipeError(
            f"{option} {text[:80]!r}: expected SPEC=OOD, SPEC=ID or SPEC=<class id>:OOD "
            f"(id 1..{MAX_CLASS_ID}), e.g. mycodec@v2=12:OOD"
        )
    return AddedCodec(spec, set_name, class_id)


@app.command(epilog=EPILOG)
@reports_errors
def build_recipe(
    recipe: str = typer.Option(
        "st-codecfake",
        help="'st-codecfake', 'st-codecfake-plus' (4 extension OOD classes) or a recipe .toml (see docs/dataset.md).",
    ),
    vctk: Optional[Path] = typer.Option(None, help="VCTK 0.92 (or 0.80) folder."),
    aishell3: Optional[Path] = typer.Option(None, help="AISHELL-3 folder."),
    ncssd: Optional[Path] = typer.Option(None, help="NCSSD folder (R-EN, R-ZH); its subsets are skipped without it."),
    labels: Optional[Path] = typer.Option(
        None, help="Folder of official label files; reproduces their split exactly (else a seeded split)."
    ),
    subsets: List[str] = typer.Option(
        [], "--subsets", help="Only these folders (repeatable or comma-separated), e.g. train,ID_diff_config."
    ),
    per_class_limit: Optional[int] = typer.Option(
        None, min=1, help="N files per folder and class (a miniature of the whole layout)."
    ),
    add_codec: List[str] = typer.Option(
        [],
        "--add-codec",
        help="Add a registered codec as a new class: SPEC=OOD, SPEC=ID, or SPEC=12:OOD to name its class id "
        "(repeatable). The id is recorded in recipe.json and kept on every rerun of --out.",
    ),
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
    """Rebuild a dataset layout (default ST-Codecfake): official folders, label files, every variant, a card.

    Resumable and shardable like build-dataset; see docs/dataset.md.
    """
    from ncst.build_dataset import parse_shard
    from ncst.build_dataset.executors import ExecutorSpec
    from ncst.codecs.weight_plan import parse_weights_options
    from ncst.recipes import RecipeBuildConfig
    from ncst.recipes import build_recipe as run_build

    setup_logging(verbose)
    set_threads(threads)
    config = RecipeBuildConfig(
        recipe=recipe,
        corpora={"vctk": vctk, "aishell3": aishell3, "ncssd": ncssd},
        out_dir=out,
        labels_dir=labels,
        subsets=tuple(s for item in subsets for s in item.split(",") if s.strip()),
        per_class_limit=per_class_limit,
        add_codecs=tuple(parse_add_codec(a) for a in add_codec),
        weights=parse_weights_options(weights, weights_dir),
        device=device,
        workers=workers,
        shard=parse_shard(shard),
        seed=seed,
        executor=ExecutorSpec(kind=executor, workers=workers, address=address, batch_size=batch_size),
        trust_checkpoint=trust_checkpoint,
    )
    bar, on_progress = build_progress(recipe)
    try:
        result = run_build(config, progress=on_progress)
    finally:
        bar.stop()
    run, plan = result.run, result.plan
    for spec, folders in sorted(plan.missing_codecs.items()):
        folder_list = ", ".join(sorted(set(folders)))
        console.print(f"[yellow]not built[/]: codec {escape(spec)} is not in the registry ({escape(folder_list)})")
    for folder, reason in sorted(plan.skipped_subsets.items()):
        console.print(f"[yellow]not built[/]: {escape(folder)} ({escape(reason)})")
    say(
        f"{run.done} written, {run.skipped} already present, {len(run.failures)} failed of {run.planned} planned "
        f"-> {run.out_dir} (see DATASET.md)"
    )
    write_card(run.out_dir, config.shard.suffix, card)
    exit_on_failures(run.out_dir, config.shard.suffix, len(run.failures))


def main() -> None:
    app()
