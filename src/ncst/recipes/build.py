"""`build_recipe()`: build a recipe's whole layout with the dataset builder's runner, resume and shards.

A recipe build folder::

    recipe.json                  the resolved plan: entries, counts, missing codecs, split origin, seed
    build.json                   weights and seed every run of the folder must share
    label/<name>.txt             `<file> <real|fake> <class id>` per planned file (official names for the
                                 official sets, `<folder with - for />.txt` for the folder sets)
    train/ dev/ eval_id/ eval_ood/ ID_diff_config/C3-1/ ... ID_unseen_real/NCSSD/
    provenance[.shard-I-of-N].jsonl, failures[...].csv, manifest.csv
    DATASET.md, DATASET_spectrograms.png

Label files list every planned file, so `ncst verify` reports the ones a partial or failed run left
missing. Resume and sharding are those of `ncst.build_dataset.runner.run_jobs`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ncst.build_dataset.executors import ExecutorSpec
from ncst.build_dataset.jobs import JobSettings
from ncst.build_dataset.plan import Shard
from ncst.build_dataset.records import ProvenanceRow
from ncst.build_dataset.runner import BuildResult, ProgressCallback, run_jobs
from ncst.codecs import parse_weights
from ncst.errors import CorpusLayoutError
from ncst.io import atomic_write_text
from ncst.recipes.plan import RecipePlan, plan_recipe, read_corpora
from ncst.recipes.recipe import Recipe, add_class, load_recipe
from ncst.recipes.splits import format_label_line

__all__ = ["RecipeBuildConfig", "RecipeBuildResult", "build_recipe", "RECIPE_FILE", "LABEL_DIR"]

log = logging.getLogger(__name__)

RECIPE_FILE = "recipe.json"
LABEL_DIR = "label"


@dataclass(frozen=True, slots=True)
class RecipeBuildConfig:
    """Everything `build-dataset --recipe` takes.

    Attributes:
        recipe: Built-in recipe name or a recipe TOML path.
        corpora: Corpus name -> root folder (`vctk`, `aishell3`, `ncssd`); None = not given.
        out_dir: Dataset root (created; reruns resume it).
        labels_dir: Official label files to reproduce the split exactly, or None for the seeded split.
        subsets: Folders (or folder prefixes) to build; empty = all.
        per_class_limit: N files per (folder, class): a miniature of the whole layout.
        add_codecs: `(spec, "ID"|"OOD")` pairs added as new classes (next free ids).
        weights, device, workers, shard, seed: As for `build-dataset`; `seed` None = the recipe's seed.
        executor: Where the jobs run (`--executor/--address/--batch-size`); None = `workers` local processes.
    """

    recipe: str = "st-codecfake"
    corpora: dict[str, Path | None] = field(default_factory=dict)
    out_dir: Path = Path("st-codecfake")
    labels_dir: Path | None = None
    subsets: tuple[str, ...] = ()
    per_class_limit: int | None = None
    add_codecs: tuple[tuple[str, str], ...] = ()
    weights: str = "pretrained"
    device: str = "cpu"
    workers: int = 0
    shard: Shard = field(default_factory=Shard)
    seed: int | None = None
    executor: ExecutorSpec | None = None


@dataclass(slots=True)
class RecipeBuildResult:
    """The runner's counts plus what the recipe had to leave out."""

    run: BuildResult
    plan: RecipePlan

    @property
    def ok(self) -> bool:
        return self.run.ok


def resolve_recipe(name: str, add_codecs: Sequence[tuple[str, str]] = ()) -> Recipe:
    """Loads a recipe and adds the extra codec classes."""
    recipe = load_recipe(name)
    for spec, set_name in add_codecs:
        recipe = add_class(recipe, spec, set_name)
    return recipe


def build_recipe(config: RecipeBuildConfig, *, progress: ProgressCallback | None = None) -> RecipeBuildResult:
    """Plans and runs (or resumes) a recipe build; see the module docstring for the layout.

    Raises:
        NcstError: Bad recipe, corpus layout or label files, other settings in the folder, or codecs
            whose files would collide.
    """
    recipe = resolve_recipe(config.recipe, config.add_codecs)
    corpora = read_corpora(config.corpora)
    seed = recipe.seed if config.seed is None else config.seed
    plan = plan_recipe(
        recipe,
        corpora,
        labels_dir=config.labels_dir,
        subsets=config.subsets,
        per_class_limit=config.per_class_limit,
        seed=seed,
    )
    for spec, folders in sorted(plan.missing_codecs.items()):
        log.warning("codec %s is not in the registry: skipping %s", spec, ", ".join(folders))
    for folder, reason in sorted(plan.skipped_subsets.items()):
        log.warning("skipping %s: %s", folder, reason)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for folder in plan.folders:  # the whole layout, also folders whose codec is not registered yet
        (out / folder).mkdir(parents=True, exist_ok=True)
    _write_recipe_json(out, plan, config, seed)
    write_label_files(out, plan)
    jobs = [j for j in plan.jobs if config.shard.owns(j.file_name)]
    settings = JobSettings(out_dir=out, weights=config.weights, device=config.device, seed=seed)

    def finish(rows: list[ProvenanceRow]) -> None:
        write_recipe_manifest(out, plan, rows)
        from ncst.recipes.card import write_dataset_card

        try:
            write_dataset_card(out, plan, rows, corpora_paths=config.corpora)
        except (OSError, ValueError, RuntimeError) as err:  # the card must never lose a build
            log.warning("could not write DATASET.md: %s", err)

    run = run_jobs(
        jobs,
        settings,
        workers=config.workers,
        executor=config.executor,
        shard=config.shard,
        progress=progress,
        finish=finish,
    )
    return RecipeBuildResult(run=run, plan=plan)


def _write_recipe_json(out: Path, plan: RecipePlan, config: RecipeBuildConfig, seed: int) -> None:
    counts: dict[str, dict[str, int]] = {}
    prefixes: dict[str, dict[str, str]] = {}
    for f in plan.files:  # one pass: a full build plans about 2.6 million files
        key = str(f.class_id)
        folder_counts = counts.setdefault(f.folder, {})
        folder_counts[key] = folder_counts.get(key, 0) + 1
        if key not in prefixes.setdefault(f.folder, {}):
            prefixes[f.folder][key] = f.job.prefix if f.job.prefix is not None else f.job.card.file_prefix
    recipe = plan.recipe
    used_labels = {f.label_file for f in plan.files}
    payload = {
        "recipe": recipe.name,
        "recipe_source": recipe.path,
        "seed": seed,
        "weights": parse_weights(config.weights).describe(),
        "split": plan.split_origin,
        "per_class_limit": config.per_class_limit,
        "subsets_requested": list(config.subsets),
        "classes": {str(c): {"codec": e.codec, "family": e.family, "set": e.set} for c, e in recipe.classes.items()},
        "label_files": {e.label_file: e.folder for e in recipe.subsets if e.label_file in used_labels},
        "prefixes": prefixes,
        "counts": counts,
        "planned_files": len(plan.files),
        "missing_codecs": plan.missing_codecs,
        "skipped_subsets": plan.skipped_subsets,
    }
    old = out / RECIPE_FILE
    if old.is_file():  # keep the sets `ncst ingest` added
        from ncst.recipes.verify import read_recipe_meta  # verify imports this module

        try:
            payload["ingested"] = read_recipe_meta(old).get("ingested", {})
        except CorpusLayoutError as err:
            log.warning("%s; rewriting it (ingested sets must be ingested again)", err)
    atomic_write_text(out / RECIPE_FILE, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def write_label_files(out: Path, plan: RecipePlan) -> None:
    """Writes `label/<name>.txt` for every planned file (sorted by class, then plan order)."""
    for label_file, files in plan.label_files().items():
        ordered = sorted(files, key=lambda f: f.class_id)  # stable: keeps the split order within a class
        text = "".join(format_label_line(f.file_name, f.class_id) for f in ordered)
        atomic_write_text(out / LABEL_DIR / label_file, text)


def write_recipe_manifest(out: Path, plan: RecipePlan, rows: Sequence[ProvenanceRow]) -> pd.DataFrame:
    """`manifest.csv`: one row per planned file, with `present` telling whether provenance has it."""
    by_file = {r.file: r for r in rows}
    columns: dict[str, list[object]] = {k: [] for k in (
        "folder", "file", "label_file", "class_id", "label", "codec_spec", "utt_id", "corpus", "speaker",
        "language", "present", "sample_rate_hz", "duration_s", "source_path",
    )}  # fmt: skip
    for f in plan.files:  # column lists, not a dict per row: a full build has about 2.6 million rows
        row = by_file.get(f.job.rel_path)
        utt = f.job.utterance
        values = (
            f.folder, f.file_name, f.label_file, f.class_id, "real" if f.class_id == 0 else "fake",
            f.job.card.spec, utt.utt_id, utt.corpus, utt.speaker, utt.language, row is not None,
            row.sample_rate_hz if row else None,
            round(row.output_samples / row.sample_rate_hz, 6) if row else None, str(utt.path),
        )  # fmt: skip
        for column, value in zip(columns.values(), values):
            column.append(value)
    frame = pd.DataFrame(columns)
    atomic_write_text(out / "manifest.csv", frame.to_csv(index=False))
    return frame
