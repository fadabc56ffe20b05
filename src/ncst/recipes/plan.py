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
from ncst.classes import prefix_labels
from ncst.codecs import CodecCard, get_card
from ncst.corpora.base import Utterance
from ncst.corpora.registry import corpus_entry
from ncst.errors import CorpusLayoutError, NcstError, UnknownCodecError
from ncst.io import read_text
from ncst.layout import LabelLine, read_label_file
from ncst.paths import check_file_name, show
from ncst.recipes.recipe import MAX_SEED, Recipe, RecipeError, SubsetEntry, check_prefix
from ncst.recipes.splits import draw, round_robin, split_pools

__all__ = ["PlannedFile", "RecipePlan", "SourcePool", "build_pools", "plan_recipe", "read_corpora"]

log = logging.getLogger(__name__)

#: The one group of a source without splits (NCSSD), and of an eval pool fixed by `eval_id.txt`. Group names
#: are part of a draw's seed keys (`ncst.recipes.splits.draw`), so these names fix the seeded plan.
_WHOLE_SOURCE = "all"
_FIXED_BY_LABELS = "labels"


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


@dataclass(frozen=True, slots=True)
class SourcePool:
    """The utterances one split of a recipe source offers its subsets.

    Attributes:
        groups: Group name (a corpus, or one group for a source without splits) -> utterances. A draw takes
            from every group in proportion and interleaves them (`ncst.recipes.splits.draw`).
        fixed_by: The label file that fixed these utterances and their order, or None for a seeded pool.
    """

    groups: Mapping[str, Sequence[Utterance]]
    fixed_by: str | None = None

    def take(self, count: int | None, *keys: int | str) -> list[Utterance]:
        """`count` utterances (all when None), seeded by `keys`."""
        return draw(self.groups, count, *keys)

    def every(self) -> list[Utterance]:
        """Every utterance, the groups interleaved."""
        return round_robin([list(v) for v in self.groups.values()])


#: Pools by (source name, split); the split is None for a source without splits.
PoolKey = tuple[str, "str | None"]


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


def _utt_from_name(file: str, prefix: str, by_id: Mapping[str, Utterance]) -> str:
    """The utterance id in a label file's name: after our prefix, else the longest `_`-suffix that is an id.

    The official OOD file names are not public, so a name with another prefix (`wt_p225_001.wav`) is
    matched by its utterance-id suffix.
    """
    stem = file.rsplit(".", 1)[0] if file.endswith((".wav", ".flac")) else file
    head = f"{prefix}_" if prefix else ""
    if stem.startswith(head) and stem[len(head) :] in by_id:
        return stem[len(head) :]
    parts = stem.split("_")
    for k in range(len(parts)):
        candidate = "_".join(parts[k:])
        if candidate in by_id:
            return candidate
    return stem[len(head) :] if stem.startswith(head) else stem


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
    by_id = _index_utterances(corpora)
    pools = build_pools(recipe, corpora, seed)
    labels = _read_labels(recipe, entries, Path(labels_dir)) if labels_dir is not None else {}
    eval_real = [ln for ln in labels.get("eval_id.txt", []) if ln.class_id == 0]
    if eval_real and ("main", "eval") in pools:
        fixed = [_lookup(by_id, _utt_from_name(ln.file, "", by_id), "eval_id.txt") for ln in eval_real]
        pools["main", "eval"] = SourcePool({_FIXED_BY_LABELS: fixed}, fixed_by="eval_id.txt")
    if labels_dir is not None:
        _fix_grouped_pools(recipe, pools, Path(labels_dir), by_id)
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


def build_pools(recipe: Recipe, corpora: Mapping[str, Sequence[Utterance]], seed: int) -> dict[PoolKey, SourcePool]:
    """The seeded pools of every recipe source whose corpora are given.

    A source with splits (`main`: VCTK and AISHELL-3) is cut into train/dev/eval per corpus
    (`split_pools`); a source without (NCSSD) draws its published count from each subset group and
    interleaves them into one group.
    """
    pools: dict[PoolKey, SourcePool] = {}
    for name, source in recipe.sources.items():
        present = {c: corpora[c] for c in source.readers if c in corpora}
        if not present:
            continue
        if all(set(v) <= {"all"} for v in source.sizes.values()):  # grouped source (NCSSD)
            groups = []
            for group, size in source.sizes.items():
                members = sorted(
                    (u for utts in present.values() for u in utts if u.extra.get("subset") == group),
                    key=lambda u: u.utt_id,
                )
                groups.append(draw({group: members}, size["all"], seed, group) if members else [])
            pools[name, None] = SourcePool({_WHOLE_SOURCE: round_robin(groups)})
        else:
            for split, by_corpus in split_pools(present, source.sizes, seed).items():
                pools[name, split] = SourcePool(by_corpus)
    return pools


#: Official result files (`<file> <pred> <score>`) of the sets made from the shared NCSSD recordings, each
#: name being an NCSSD id after an optional codec or ALM prefix (`mimi_R-ZH_0_0_d2289.wav`). Looked for in
#: `--labels` under these paths (the `alm` folder in either case) or directly in it.
NCSSD_RESULT_FILES = (
    "id_unseen_real/result_unseenreal_ncssd.txt",
    "id_diff_source/result_ncssd_mimi.txt",
    "id_diff_source/result_ncssd_snac.txt",
    "alm/moshi.txt",
    "alm/miniomni.txt",
)


def _fix_grouped_pools(
    recipe: Recipe, pools: dict[PoolKey, SourcePool], labels_dir: Path, by_id: Mapping[str, Utterance]
) -> None:
    """Replaces the seeded pool of each source without splits (NCSSD) by the utterances a given file names.

    Every set of such a source shares one pool, so the first file found fixes it for all of them: a label
    file of one of its sets (recipe order), else, for NCSSD, an official result file (`NCSSD_RESULT_FILES`).
    A set whose own label file is given still takes its lines from that file.

    Raises:
        CorpusLayoutError: The file is malformed or names an utterance the corpora do not have.
    """
    for name, split in list(pools):
        if split is not None:
            continue
        found = _grouped_source_names(recipe, name, labels_dir)
        if found is None:
            continue
        path, names = found
        utts = [_lookup(by_id, _utt_from_name(n, "", by_id), str(path)) for n in names]
        seen: set[str] = set()
        for utt in utts:
            if utt.utt_id in seen:
                raise CorpusLayoutError(f"{path}: utterance {utt.utt_id!r} is listed twice; list each recording once")
            seen.add(utt.utt_id)
        pools[name, None] = SourcePool({_FIXED_BY_LABELS: utts}, fixed_by=str(path))
        log.info("%s: the %d utterances of every %s set are taken from %s", name, len(utts), name, path)


def _grouped_source_names(recipe: Recipe, source: str, labels_dir: Path) -> tuple[Path, list[str]] | None:
    """(file, file names in file order) of the first label or result file that lists `source`'s utterances."""
    for entry in recipe.subsets:
        path = labels_dir / entry.label_file
        if entry.source == source and path.is_file():
            return path, [ln.file for ln in read_label_file(path, class_ids=entry.classes)]
    if "ncssd" not in recipe.sources[source].readers:
        return None
    for rel in NCSSD_RESULT_FILES:
        folder, file = rel.split("/")
        for path in (labels_dir / rel, labels_dir / folder.upper() / file, labels_dir / file):
            if path.is_file():
                return path, _result_names(path)
    return None


def _result_names(results: Path) -> list[str]:
    """The file names (first column) of an official result file, each checked as a plain file name."""
    names = []
    for lineno, text in enumerate(read_text(results, error=CorpusLayoutError).splitlines(), 1):
        if text.strip():
            names.append(check_file_name(text.split()[0], f"{results}:{lineno}", error=CorpusLayoutError))
    return names


def _index_utterances(corpora: Mapping[str, Sequence[Utterance]]) -> dict[str, Utterance]:
    """Utterances by id; an id held twice (two corpora, or two parts of one) is an error.

    Output names are `<prefix>_<utt id>.wav`, so two utterances with one id would write one file.

    Raises:
        CorpusLayoutError: Two utterances share an id (the message names both files).
    """
    by_id: dict[str, Utterance] = {}
    for utts in corpora.values():
        for utt in utts:
            other = by_id.setdefault(utt.utt_id, utt)
            if other is not utt:
                raise CorpusLayoutError(
                    f"utterance id {utt.utt_id!r} is held by two files, {other.path} and {utt.path} (two corpora, "
                    "or two parts of one corpus); their outputs would have one name. Remove one of them"
                )
    return by_id


def _read_labels(recipe: Recipe, entries: Sequence[SubsetEntry], labels_dir: Path) -> dict[str, list[LabelLine]]:
    """The label files of `labels_dir` that the selected entries use, plus `eval_id.txt` (or its results).

    Raises:
        CorpusLayoutError: `labels_dir` is not a folder, or a label file holds a bad line, a file twice, or a
            class its subsets do not have (the message names the file and line).
    """
    if not labels_dir.is_dir():
        raise CorpusLayoutError(f"--labels {labels_dir}: not a folder; give the folder that holds train.txt, ...")
    classes: dict[str, set[int]] = {}
    for entry in recipe.subsets:
        classes.setdefault(entry.label_file, set()).update(entry.classes)
    labels: dict[str, list[LabelLine]] = {}
    for entry in entries:
        path = labels_dir / entry.label_file
        if entry.label_file not in labels and path.is_file():
            labels[entry.label_file] = read_label_file(path, class_ids=classes[entry.label_file])
    if "eval_id.txt" not in labels:
        derived = eval_labels(labels_dir)
        if derived:
            path = labels_dir / ("eval_id.txt" if (labels_dir / "eval_id.txt").is_file() else "result_id.txt")
            labels["eval_id.txt"] = check_label_lines(derived, path, classes.get("eval_id.txt", set(recipe.classes)))
    return labels


def eval_labels(labels_dir: Path) -> list[LabelLine]:
    """`eval_id.txt` of `labels_dir`, or its lines rebuilt from an official `result_id.txt`.

    The official repository ships no label files, but its `pretrained_model/<model>/result/result_id.txt`
    lists every eval_id file in label-file order (`<file> <predicted id> <score>`); the true class is the
    file-name prefix (`ncst.classes`), real files having none.
    """
    path = labels_dir / "eval_id.txt"
    if path.is_file():
        return read_label_file(path)
    results = labels_dir / "result_id.txt"
    if not results.is_file():
        return []
    prefixes = prefix_labels(official_only=True)
    lines = []
    for lineno, text in enumerate(read_text(results, error=CorpusLayoutError).splitlines(), 1):
        if not text.strip():
            continue
        name = check_file_name(text.split()[0], f"{results}:{lineno}", error=CorpusLayoutError)
        class_id = next((c for p, c in prefixes.items() if name.startswith(p)), 0)
        lines.append(LabelLine(name, "real" if class_id == 0 else "fake", class_id, lineno))
    log.info("eval_id split taken from %s (%d files)", results, len(lines))
    return lines


def check_label_lines(lines: list[LabelLine], path: Path, classes: set[int]) -> list[LabelLine]:
    """Returns `lines` after checking that each names a class of the subsets that use the label file.

    A line of another class would be dropped without a word (each class picks its own lines), so it is an
    error, as is a file listed twice.

    Raises:
        CorpusLayoutError: A class outside `classes`, or a file listed twice (the message names file and line).
    """
    first: dict[str, int] = {}
    for ln in lines:
        if ln.class_id not in classes:
            raise CorpusLayoutError(
                f"{path}:{ln.line}: class {ln.class_id} is not a class of the subsets this file feeds {sorted(classes)}"
            )
        if first.setdefault(ln.file, ln.line) != ln.line:
            raise CorpusLayoutError(
                f"{path}:{ln.line}: {show(ln.file)} is listed twice (first on line {first[ln.file]})"
            )
    return lines


def _lookup(by_id: Mapping[str, Utterance], utt_id: str, label_file: str) -> Utterance:
    utt = by_id.get(utt_id)
    if utt is None:
        raise CorpusLayoutError(
            f"{label_file} lists utterance {utt_id!r}, which the corpora given do not have; pass the full "
            "VCTK 0.92 / AISHELL-3 / NCSSD folders, or drop --labels to make a seeded split"
        )
    return utt


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
            _lookup(by_id, _utt_from_name(ln.file, prefix, by_id), entry.label_file)
            for ln in labels[entry.label_file]
            if ln.class_id == class_id
        ]
    pool = pools[entry.source_name, entry.split]
    if entry.split in ("train", "dev") or entry.per_class is not None:
        if pairing == "independent":
            return pool.take(entry.per_class, seed, entry.split or entry.source, class_id)
        return pool.take(entry.per_class, seed, entry.split or entry.source)
    return pool.every()
