"""The source utterances a recipe's subsets draw from: seeded pools per (source, split), or pools a file fixes.

A source with splits (`main`: VCTK and AISHELL-3) is cut into train/dev/eval per corpus; a source without
(NCSSD) is one seeded draw per subset group, interleaved, shared by every set made from it, unless a label
or official result file given with `--labels` names its utterances (`fix_grouped_pools`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError
from ncst.recipes.official_labels import grouped_source_names
from ncst.recipes.recipe import Recipe
from ncst.recipes.splits import draw, round_robin, split_pools

__all__ = [
    "FIXED_BY_LABELS",
    "WHOLE_SOURCE",
    "PoolKey",
    "SourcePool",
    "build_pools",
    "fix_grouped_pools",
    "index_utterances",
    "lookup",
    "utt_from_name",
]

log = logging.getLogger(__name__)

#: The one group of a source without splits (NCSSD), and of an eval pool fixed by `eval_id.txt`. Group names
#: are part of a draw's seed keys (`ncst.recipes.splits.draw`), so these names fix the seeded plan.
WHOLE_SOURCE = "all"


FIXED_BY_LABELS = "labels"


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
            pools[name, None] = SourcePool({WHOLE_SOURCE: round_robin(groups)})
        else:
            for split, by_corpus in split_pools(present, source.sizes, seed).items():
                pools[name, split] = SourcePool(by_corpus)
    return pools


def fix_grouped_pools(
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
        found = grouped_source_names(recipe, name, labels_dir)
        if found is None:
            continue
        path, names = found
        utts = [lookup(by_id, utt_from_name(n, "", by_id), str(path)) for n in names]
        seen: set[str] = set()
        for utt in utts:
            if utt.utt_id in seen:
                raise CorpusLayoutError(f"{path}: utterance {utt.utt_id!r} is listed twice; list each recording once")
            seen.add(utt.utt_id)
        pools[name, None] = SourcePool({FIXED_BY_LABELS: utts}, fixed_by=str(path))
        log.info("%s: the %d utterances of every %s set are taken from %s", name, len(utts), name, path)


def index_utterances(corpora: Mapping[str, Sequence[Utterance]]) -> dict[str, Utterance]:
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


def lookup(by_id: Mapping[str, Utterance], utt_id: str, label_file: str) -> Utterance:
    utt = by_id.get(utt_id)
    if utt is None:
        raise CorpusLayoutError(
            f"{label_file} lists utterance {utt_id!r}, which the corpora given do not have; pass the full "
            "VCTK 0.92 / AISHELL-3 / NCSSD folders, or drop --labels to make a seeded split"
        )
    return utt


def utt_from_name(file: str, prefix: str, by_id: Mapping[str, Utterance]) -> str:
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
