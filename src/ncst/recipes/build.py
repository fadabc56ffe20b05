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

Decide first, write after: the recipe, the corpora, the label files and the plan are checked, every folder
and file the build writes is resolved inside `--out` (no symlink leads out), the seed, split and weights are
compared with what the folder recorded, and the shard's lock is taken, all before the first folder or file
is created. A refused build leaves the disk as it was.
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
from ncst.build_dataset.lock import BuildLock, lock_path
from ncst.build_dataset.plan import Shard
from ncst.build_dataset.provenance import plugin_record
from ncst.build_dataset.records import ProvenanceRow
from ncst.build_dataset.runner import BuildResult, ProgressCallback, run_jobs
from ncst.codecs import WeightsPlan, get_card, parse_spec, weights_label
from ncst.codecs.taxonomy import write_taxonomy_csv
from ncst.errors import CorpusLayoutError, NcstError, UnknownCodecError
from ncst.io import atomic_write_text, read_json
from ncst.layout import LABEL_DIR, RECIPE_FILE, format_label_line, read_recipe_meta
from ncst.paths import resolve_inside, show
from ncst.recipes.class_ids import AddedCodec, add_codecs_stably, check_recorded_classes, read_recorded_classes
from ncst.recipes.plan import RecipePlan, plan_recipe, read_corpora
from ncst.recipes.recipe import MAX_SEED, ClassEntry, Recipe, RecipeError, load_recipe

__all__ = ["AddedCodec", "RecipeBuildConfig", "RecipeBuildResult", "build_recipe", "RECIPE_FILE", "LABEL_DIR"]

log = logging.getLogger(__name__)


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
        add_codecs: Codecs added as new classes: `AddedCodec`s or `(spec, "ID"|"OOD"[, class id])` tuples
            (no id: the id `recipe.json` records for the spec, else the next free one; `ncst.recipes.class_ids`).
        weights, device, workers, shard: As for `build-dataset`.
        seed: Seed of the split, of random weights and of decoder sampling; None = the recipe's `seed`
            (an explicit 0 is a seed like any other).
        executor: Where the jobs run (`--executor/--address/--batch-size`); None = `workers` local processes.
        trust_checkpoint: Allow full unpickling of local checkpoints that hold more than tensors (can run
            code; `--trust-checkpoint`).
    """

    recipe: str = "st-codecfake"
    corpora: dict[str, Path | None] = field(default_factory=dict)
    out_dir: Path = Path("st-codecfake")
    labels_dir: Path | None = None
    subsets: tuple[str, ...] = ()
    per_class_limit: int | None = None
    add_codecs: tuple[AddedCodec | tuple[str, str] | tuple[str, str, int | None], ...] = ()
    weights: str | WeightsPlan = "pretrained"
    device: str = "cpu"
    workers: int = 0
    shard: Shard = field(default_factory=Shard)
    seed: int | None = None
    executor: ExecutorSpec | None = None
    trust_checkpoint: bool = False


@dataclass(slots=True)
class RecipeBuildResult:
    """The runner's counts plus what the recipe had to leave out."""

    run: BuildResult
    plan: RecipePlan

    @property
    def ok(self) -> bool:
        return self.run.ok


def resolve_recipe(
    name: str,
    add_codecs: Sequence[AddedCodec | tuple[str, str] | tuple[str, str, int | None]] = (),
    *,
    out_dir: Path | None = None,
) -> Recipe:
    """Loads a recipe and adds the extra codec classes, with the ids `out_dir/recipe.json` records.

    Raises:
        RecipeError: The recipe is bad, an added codec is not registered or its set is not ID/OOD, or a
            class id disagrees with what `out_dir` records (`ncst.recipes.class_ids`).
    """
    recipe = load_recipe(name)
    added = [a if isinstance(a, AddedCodec) else AddedCodec(*a) for a in add_codecs]
    for item in added:
        try:
            get_card(item.spec)
        except (UnknownCodecError, ImportError) as err:
            raise RecipeError(f"--add-codec {show(item.spec)}: {err}") from err
    meta_path, recorded = read_recorded_classes(out_dir) if out_dir is not None else (None, {})
    if not added:
        check_recorded_classes(recipe, recorded, str(meta_path))
        return recipe
    return add_codecs_stably(recipe, added, recorded, meta_path)


def build_recipe(config: RecipeBuildConfig, *, progress: ProgressCallback | None = None) -> RecipeBuildResult:
    """Plans and runs (or resumes) a recipe build; see the module docstring for the layout.

    Raises:
        NcstError: Bad recipe, corpus layout or label files, a name that leads outside `out_dir`, other
            seed, split or weights in the folder, another live run of this shard, or codecs whose files
            would collide. Nothing is written then.
    """
    if config.seed is not None and (
        isinstance(config.seed, bool) or not isinstance(config.seed, int) or not 0 <= config.seed <= MAX_SEED
    ):
        raise RecipeError(f"--seed {show(config.seed)}: expected an integer 0..{MAX_SEED}")
    weights_text = weights_label(config.weights)
    out = Path(config.out_dir)
    recipe = resolve_recipe(config.recipe, config.add_codecs, out_dir=out)
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
    targets = _check_targets(out, plan, config.shard)
    _check_recorded(out, plan, seed, weights_text)
    for spec, folders in sorted(plan.missing_codecs.items()):
        log.warning("codec %s is not in the registry: skipping %s", spec, ", ".join(folders))
    for folder, reason in sorted(plan.skipped_subsets.items()):
        log.warning("skipping %s: %s", folder, reason)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NcstError(f"cannot create the build folder {out}: {err}") from err
    with BuildLock(out, config.shard.suffix, str(config.shard)):
        _check_recorded(out, plan, seed, weights_text)  # again, now that no other run of this shard can write
        for target in targets:  # the whole layout, also folders whose codec is not registered yet
            target.mkdir(parents=True, exist_ok=True)
        _write_recipe_json(out, plan, config, seed)
        write_taxonomy_csv(out, {c: e.codec for c, e in plan.recipe.classes.items()})
        write_label_files(out, plan)
        jobs = [j for j in plan.jobs if config.shard.owns(j.file_name)]
        settings = JobSettings(
            out_dir=out,
            weights=config.weights,
            device=config.device,
            seed=seed,
            trust_checkpoint=config.trust_checkpoint,
        )

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
            lock_held=True,
        )
    return RecipeBuildResult(run=run, plan=plan)


#: Files a recipe build writes at the top of its folder (besides the per-shard ones named in `_check_targets`).
_TOP_FILES = (RECIPE_FILE, "build.json", "manifest.csv", "DATASET.md", "DATASET_spectrograms.png", "taxonomy.csv")


def _check_targets(out: Path, plan: RecipePlan, shard: Shard) -> list[Path]:
    """Checks that `out` can be a build folder and that nothing the build writes leads outside it.

    Returns the folders of the layout (`out / folder`). Names were checked as text when the recipe was
    loaded; here every folder, label file and top-level file is resolved through the symlinks on disk.

    Raises:
        NcstError: `out` or a parent is a file, or a path the build writes leads outside `out`.
    """
    for folder in (out, *out.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                where = "is a file" if folder == out else f"is inside {folder}, which is not a folder"
                raise NcstError(f"--out {out} {where}; give a folder path")
            break
    source = plan.recipe.path or plan.recipe.name
    folders = [resolve_inside(out, f, f"{source}: subset folder") for f in plan.folders]
    resolve_inside(out, LABEL_DIR, f"{out}: label folder")
    for label_file in plan.label_files():
        resolve_inside(out, f"{LABEL_DIR}/{label_file}", f"{source}: label_file")
    per_shard = (f"provenance{shard.suffix}.jsonl", f"failures{shard.suffix}.csv", lock_path(out, shard.suffix).name)
    for name in (*_TOP_FILES, *per_shard):
        resolve_inside(out, name, f"{out}: {name}")
    return folders


def _check_recorded(out: Path, plan: RecipePlan, seed: int, weights_label: str) -> None:
    """Refuses a folder that was built with another seed, split or weights (read only; writes nothing).

    Raises:
        NcstError: `recipe.json` or `build.json` records other settings, or `build.json` is unreadable.
    """
    wanted = {"seed": seed, "weights": weights_label}
    build_json = out / "build.json"
    if build_json.is_file():
        recorded = read_json(build_json, error=NcstError)
        if not isinstance(recorded, dict):
            raise NcstError(f"{build_json}: not a JSON object; fix or delete it")
        for key, value in wanted.items():
            if recorded.get(key) != value:
                raise NcstError(
                    f"{out} was built with {key} {show(recorded.get(key))}, this run asks {show(value)}; "
                    f"pass --{key} {show(recorded.get(key))} or use another --out folder"
                )
    meta_path = out / RECIPE_FILE
    if not meta_path.is_file():
        return
    try:
        meta = read_json(meta_path, error=CorpusLayoutError)
    except CorpusLayoutError as err:
        log.warning("%s; it will be rewritten", err)
        return
    if not isinstance(meta, dict):
        log.warning("%s: not a JSON object; it will be rewritten", meta_path)
        return
    if "seed" in meta and meta["seed"] != seed:
        raise NcstError(
            f"{out} was built with seed {show(meta['seed'])} ({meta_path}), this run asks {seed}; "
            f"pass --seed {show(meta['seed'])} or use another --out folder"
        )
    recorded_pairing = meta.get("pairing", "independent" if "split" in meta else None)  # older builds drew per class
    if recorded_pairing is not None and recorded_pairing != plan.pairing:
        raise NcstError(
            f"{out} was built with pairing {show(recorded_pairing)} ({meta_path}), this recipe asks "
            f"{show(plan.pairing)}; set pairing = {show(recorded_pairing)} in a recipe file or use another --out folder"
        )
    if "split" in meta and not _same_split(meta["split"], plan.split_origin):
        raise NcstError(
            f"{out} was built with split {show(meta['split'])} ({meta_path}), this run asks "
            f"{show(plan.split_origin)}; use the same --labels (or none) or another --out folder"
        )


def _same_split(recorded: object, wanted: str) -> bool:
    """Whether two split origins (`seeded`, `labels:<folder>`) are the same; label folders compare resolved."""
    if not isinstance(recorded, str):
        return False
    kind, _, folder = recorded.partition(":")
    wanted_kind, _, wanted_folder = wanted.partition(":")
    if kind != wanted_kind:
        return False
    try:
        return kind != "labels" or Path(folder).resolve() == Path(wanted_folder).resolve()
    except (OSError, RuntimeError, ValueError):
        return False


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
        "weights": weights_label(config.weights),
        "split": plan.split_origin,
        "pairing": plan.pairing,
        "fixed_by": plan.fixed_by,
        "per_class_limit": config.per_class_limit,
        "subsets_requested": list(config.subsets),
        "classes": {str(c): _class_record(e) for c, e in recipe.classes.items()},
        "label_files": {e.label_file: e.folder for e in recipe.subsets if e.label_file in used_labels},
        "prefixes": prefixes,
        "counts": counts,
        "planned_files": len(plan.files),
        "missing_codecs": plan.missing_codecs,
        "skipped_subsets": plan.skipped_subsets,
    }
    old = out / RECIPE_FILE
    if old.is_file():  # keep the sets `ncst ingest` added
        try:
            payload["ingested"] = read_recipe_meta(old).get("ingested", {})
        except CorpusLayoutError as err:
            log.warning("%s; rewriting it (ingested sets must be ingested again)", err)
    atomic_write_text(out / RECIPE_FILE, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def _class_record(entry: ClassEntry) -> dict[str, object]:
    """A class as `recipe.json` records it; a plug-in codec adds its distribution and version."""
    record: dict[str, object] = {"codec": entry.codec, "family": entry.family, "set": entry.set}
    try:
        plugin = plugin_record(parse_spec(entry.codec).name)
    except UnknownCodecError:
        plugin = {}
    if plugin:
        record["plugin"] = plugin
    return record


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
