"""`build-dataset --recipe NAME ...`: build a whole dataset layout (ST-Codecfake) from its source corpora."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import typer

from ncst.cli._common import build_progress, console, escape, exit_on_failures, print_error, say

__all__ = ["run_recipe_build", "parse_add_codec"]


def parse_add_codec(text: str) -> tuple[str, str]:
    """`mycodec=OOD` / `mycodec@v2=ID` -> (spec, set); a bare `mycodec` is OOD.

    Raises:
        RecipeError: Not `SPEC`, `SPEC=ID` or `SPEC=OOD` (whether SPEC is registered is checked by the build).
    """
    from ncst.recipes import RecipeError

    spec, sep, set_name = (part.strip() for part in text.partition("="))
    set_name = set_name.upper() if sep else "OOD"
    if not spec or any(ch.isspace() for ch in spec) or set_name not in ("ID", "OOD"):
        raise RecipeError(f"--add-codec {text[:80]!r}: expected SPEC=ID or SPEC=OOD, e.g. mycodec@v2=OOD")
    return spec, set_name


def run_recipe_build(
    *,
    recipe: str,
    vctk: Optional[Path],
    aishell3: Optional[Path],
    ncssd: Optional[Path],
    labels: Optional[Path],
    out: Path,
    subsets: Sequence[str],
    per_class_limit: Optional[int],
    add_codec: Sequence[str],
    weights: str,
    device: str,
    workers: int,
    shard: str,
    seed: Optional[int],
    executor: str = "local",
    address: Optional[str] = None,
    batch_size: int = 1,
    trust_checkpoint: bool = False,
) -> None:
    """Parses the recipe options, runs `ncst.recipes.build_recipe` with a progress bar, prints a summary."""
    from ncst.build_dataset import parse_shard
    from ncst.build_dataset.executors import ExecutorSpec
    from ncst.errors import NcstError
    from ncst.recipes import RecipeBuildConfig, build_recipe

    try:
        config = RecipeBuildConfig(
            recipe=recipe,
            corpora={"vctk": vctk, "aishell3": aishell3, "ncssd": ncssd},
            out_dir=out,
            labels_dir=labels,
            subsets=tuple(s for item in subsets for s in item.split(",") if s.strip()),
            per_class_limit=per_class_limit,
            add_codecs=tuple(parse_add_codec(a) for a in add_codec),
            weights=weights,
            device=device,
            workers=workers,
            shard=parse_shard(shard),
            seed=seed,
            executor=ExecutorSpec(kind=executor, workers=workers, address=address, batch_size=batch_size),
            trust_checkpoint=trust_checkpoint,
        )
        bar, on_progress = build_progress(recipe)
        try:
            result = build_recipe(config, progress=on_progress)
        finally:
            bar.stop()
    except NcstError as err:
        print_error(err)
        raise typer.Exit(2) from err
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
    exit_on_failures(run.out_dir, config.shard.suffix, len(run.failures))
