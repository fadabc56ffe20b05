"""Planning a recipe build: corpora x subsets x classes -> jobs with official folders, names and labels.

The plan is a pure function of the recipe, the corpora, the label files (if any), the seed and the
per-class limit, so every shard and every rerun computes the same one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ncst.build_dataset.plan import Job
from ncst.codecs import CodecCard, get_card
from ncst.corpora.base import Utterance
from ncst.corpora.registry import corpus_entry
from ncst.errors import NcstError, UnknownCodecError
from ncst.layout import LabelLine
from ncst.paths import show
from ncst.recipes.official_labels import read_labels
from ncst.recipes.pools import (
    FIXED_BY_LABELS,
    PoolKey,
    SourcePool,
    build_pools,
    fix_grouped_pools,
    index_utterances,
    lookup,
    utt_from_name,
)
from ncst.recipes.recipe import MAX_SEED, Recipe, RecipeError, SubsetEntry, check_prefix

__all__ = ["PlannedFile", "RecipePlan", "plan_recipe", "read_corpora"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One file of the layout: where it goes, its label, and the job that makes it."""

    job: Job
    class_id: int
    label_file: str

    @property
    def folder(self) -> str:
        return self.job.folder

    @property
    def file_name(self) -> str:
        return self.job.file_name


@dataclass(slots=True)
class RecipePlan:
    """Everything a build of a recipe writes, plus what had to be left out and why."""

    recipe: Recipe
    files: list[PlannedFile] = field(default_factory=list)
    missing_codecs: dict[str, list[str]] = field(default_factory=dict)  # spec -> folders it would have filled
    skipped_subsets: dict[str, str] = field(default_factory=dict)  # folder -> reason
    split_origin: str = "seeded"
    folders: list[str] = field(default_factory=list)  # every folder of the selected entries, built or not
    pairing: str = "paired"  # the recipe's: how the classes of a drawn subset share utterances
    fixed_by: dict[str, str] = field(default_factory=dict)  # pool (`main:eval`, `ncssd`) -> file that fixed it

    @property
    def jobs(self) -> list[Job]:
        return [f.job for f in self.files]

    def label_files(self) -> dict[str, list[PlannedFile]]:
        out: dict[str, list[PlannedFile]] = {}
        for f in self.files:
            out.setdefault(f.label_file, []).append(f)
        return out


def read_corpora(paths: Mapping[str, Path | None]) -> dict[str, list[Utterance]]:
    """Reads each corpus whose path is given (`{"vctk": P, "aishell3": P, "ncssd": None}`).

    Raises:
        CorpusLayoutError: A corpus name is not in `ncst.corpora.registry`, or its folder is malformed.
    """
    return {name: list(corpus_entry(name).read(Path(path))) for name, path in paths.items() if path is not None}


def _card_or_none(spec: str) -> CodecCard | None:
    try:
        return get_card(spec)
    except (UnknownCodecError, ImportError) as err:
        log.debug("codec %s unavailable: %s", spec, err)
        return None


def plan_recipe(
    recipe: Recipe,
    corpora: Mapping[str, Sequence[Utterance]],
    *,
    labels_dir: Path | None = None,
    subsets: Sequence[str] = (),
    per_class_limit: int | None = None,
    seed: int | None = None,
) -> RecipePlan:
    """Plans every file of the layout.

    Args:
        recipe: The recipe.
        corpora: Utterances per corpus name (`vctk`, `aishell3`, `ncssd`); a source whose corpora are all
            absent is skipped and named in `skipped_subsets`.
        labels_dir: Folder of official label files; a subset whose label file is there is reproduced
            exactly from it, `eval_id.txt`'s real lines (or `result_id.txt`'s) fix the eval utterances of
            every eval set, and an NCSSD label or result file fixes the recordings of every NCSSD set.
        subsets: Keep only entries whose folder equals or lies under one of these (`train`, `ID_diff_config`).
        per_class_limit: Keep the first N files of every (folder, class): a miniature of the whole layout.
        seed: Overrides the recipe's seed.

    Raises:
        CorpusLayoutError: A label file lists an utterance that the corpora do not have.
        NcstError: Two entries would write the same file, or `subsets` matches nothing.
    """
    seed = recipe.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise RecipeError(f"seed {show(seed)}: expected an integer 0..{MAX_SEED}")
    if per_class_limit is not None and (isinstance(per_class_limit, bool) or per_class_limit < 0):
        raise NcstError(f"per-class limit {show(per_class_limit)}: expected a non-negative integer")
    plan = RecipePlan(
        recipe, split_origin="seeded" if labels_dir is None else f"labels:{labels_dir}", pairing=recipe.pairing
    )
    wanted = [s.strip("/") for s in subsets]
    entries = [
        e for e in recipe.subsets if not wanted or any(e.folder == s or e.folder.startswith(s + "/") for s in wanted)
    ]
    if not entries:
        raise NcstError(
            f"--subsets {list(subsets)} match no folder of {recipe.name}: {[e.folder for e in recipe.subsets]}"
        )
    plan.folders = list(dict.fromkeys(e.folder for e in entries))
    by_id = index_utterances(corpora)
    pools = build_pools(recipe, corpora, seed)
    labels = read_labels(recipe, entries, Path(labels_dir)) if labels_dir is not None else {}
    eval_real = [ln for ln in labels.get("eval_id.txt", []) if ln.class_id == 0]
    if eval_real and ("main", "eval") in pools:
        fixed = [lookup(by_id, utt_from_name(ln.file, "", by_id), "eval_id.txt") for ln in eval_real]
        pools["main", "eval"] = SourcePool({FIXED_BY_LABELS: fixed}, fixed_by="eval_id.txt")
    if labels_dir is not None:
        fix_grouped_pools(recipe, pools, Path(labels_dir), by_id)
    plan.fixed_by = {
        f"{name}:{split}" if split else name: pool.fixed_by for (name, split), pool in pools.items() if pool.fixed_by
    }

    seen: dict[str, str] = {}
    for entry in entries:
        if (entry.source_name, entry.split) not in pools:
            missing = [c for c in recipe.sources[entry.source_name].readers if c not in corpora]
            plan.skipped_subsets[entry.folder] = f"corpus {', '.join(missing)} not given"
            continue
        for class_id in entry.classes:
            spec = recipe.codec_for(entry, class_id)
            card = _card_or_none(spec)
            if card is None:
                plan.missing_codecs.setdefault(spec, []).append(entry.folder)
                continue
            # checked here too: a plug-in codec's card is as much input as the recipe, and a Recipe may be
            # built in Python without the loader's checks
            prefix = check_prefix(
                card.file_prefix if entry.prefix is None else entry.prefix,
                f"codec {spec} (class {class_id} in {entry.folder}) file prefix",
            )
            utts = _utterances_for(entry, class_id, prefix, pools, labels, by_id, seed, recipe.pairing)
            if per_class_limit is not None:
                utts = utts[:per_class_limit]
            for utt in utts:
                job = Job(utt, card, folder=entry.folder, label_class=class_id, prefix=prefix)
                if job.rel_path in seen:
                    raise NcstError(
                        f"{job.rel_path} is planned twice ({seen[job.rel_path]}, {entry.label_file}); fix the recipe"
                    )
                seen[job.rel_path] = entry.label_file
                plan.files.append(PlannedFile(job, class_id, entry.label_file))
    return plan


def _utterances_for(
    entry: SubsetEntry,
    class_id: int,
    prefix: str,
    pools: Mapping[PoolKey, SourcePool],
    labels: Mapping[str, list[LabelLine]],
    by_id: Mapping[str, Utterance],
    seed: int,
    pairing: str,
) -> list[Utterance]:
    """The utterances class `class_id` of `entry` resynthesises: its label file's, else drawn from the pool.

    A draw (train, dev, or any entry with `per_class`) is keyed by the seed and the split; with
    `pairing = "independent"` the class id joins the keys, so each class draws its own utterances.
    """
    if entry.label_file in labels:
        return [
            lookup(by_id, utt_from_name(ln.file, prefix, by_id), entry.label_file)
            for ln in labels[entry.label_file]
            if ln.class_id == class_id
        ]
    pool = pools[entry.source_name, entry.split]
    if entry.split in ("train", "dev") or entry.per_class is not None:
        if pairing == "independent":
            return pool.take(entry.per_class, seed, entry.split or entry.source, class_id)
        return pool.take(entry.per_class, seed, entry.split or entry.source)
    return pool.every()
