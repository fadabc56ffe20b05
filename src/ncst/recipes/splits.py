"""Which utterances go where: the seeded split, per-class draws, and reading official label files.

Without official label files the split is made as follows (documented in `docs/dataset.md`):

1. Each corpus's utterance ids are sorted, then shuffled with `numpy.random.default_rng([seed, crc32(corpus)])`.
2. The shuffled list is cut into eval, dev and train pools in the published sizes (Codecfake: VCTK
   4,451 / 4,358 / 35,433 and AISHELL-3 8,777 / 8,870 / 70,388); a corpus of another size is cut in the
   same proportions, with at least one utterance per pool.
3. `per_class` utterances (10,000 train, 1,000 dev) are drawn from the pool without replacement, split
   over the corpora in proportion to their pool sizes. With the recipe's `pairing = "paired"` (the default)
   one draw, `default_rng([seed, crc32(split), crc32(corpus)])`, serves every class, so all classes of a
   set resynthesise the same utterances; with `pairing = "independent"` each class draws its own, with
   `default_rng([seed, crc32(split), class id, crc32(corpus)])`.
4. The eval pool (13,228) is used whole by every class, so all eval sets share their utterances.
5. NCSSD: per subset group (R-EN, R-ZH) `count` files are drawn with `default_rng([seed, crc32(group)])`,
   once, and every NCSSD set uses that draw whole.

Every list is ordered round-robin over corpora (VCTK, AISHELL-3, VCTK, ...), so the first N of any list
(`--per-class-limit N`) covers both languages.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError

__all__ = ["draw", "round_robin", "split_pools"]

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "eval")


def _rng(*keys: int | str) -> np.random.Generator:
    return np.random.default_rng([k if isinstance(k, int) else zlib.crc32(k.encode("utf-8")) for k in keys])


def round_robin(groups: Sequence[Sequence[Utterance]]) -> list[Utterance]:
    """Interleaves lists: first of each, then second of each, ... (longer lists run on alone)."""
    out: list[Utterance] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def _pool_sizes(n: int, published: Mapping[str, int], corpus: str) -> dict[str, int]:
    total = sum(published.get(s, 0) for s in SPLITS)
    if total <= 0:
        raise CorpusLayoutError(f"recipe gives no split sizes for corpus {corpus!r}")
    if n == total:
        return {s: int(published.get(s, 0)) for s in SPLITS}
    if n < 3:
        raise CorpusLayoutError(f"corpus {corpus!r} has {n} utterances; a train/dev/eval split needs at least 3")
    n_eval = max(1, round(n * published.get("eval", 0) / total))
    n_dev = max(1, round(n * published.get("dev", 0) / total))
    log.warning(
        "%s has %d utterances, not the published %d: split in proportion (eval %d, dev %d, train %d)",
        corpus, n, total, n_eval, n_dev, n - n_eval - n_dev,
    )  # fmt: skip
    return {"eval": n_eval, "dev": n_dev, "train": n - n_eval - n_dev}


def split_pools(
    by_corpus: Mapping[str, Sequence[Utterance]], sizes: Mapping[str, Mapping[str, int]], seed: int
) -> dict[str, dict[str, list[Utterance]]]:
    """Cuts each corpus into train/dev/eval pools: `{split: {corpus: [utterances]}}` (each pool sorted by id)."""
    pools: dict[str, dict[str, list[Utterance]]] = {s: {} for s in SPLITS}
    for corpus, utts in by_corpus.items():
        ordered = sorted(utts, key=lambda u: u.utt_id)
        counts = _pool_sizes(len(ordered), sizes.get(corpus, {}), corpus)
        perm = _rng(seed, corpus).permutation(len(ordered))
        start = 0
        for split in ("eval", "dev", "train"):
            chosen = perm[start : start + counts[split]]
            start += counts[split]
            pools[split][corpus] = sorted((ordered[i] for i in chosen), key=lambda u: u.utt_id)
    return pools


def draw(pool: Mapping[str, Sequence[Utterance]], count: int | None, *keys: int | str) -> list[Utterance]:
    """`count` utterances from a pool split over its corpora in proportion (all when None or too few).

    Returns them round-robin over corpora, each corpus's share in draw order.
    """
    total = sum(len(v) for v in pool.values())
    if count is None or count >= total:
        if count is not None and count > total:
            log.debug("asked for %d utterances from a pool of %d; using all of them", count, total)
        return round_robin([list(v) for v in pool.values()])
    names = list(pool)
    shares = [int(count * len(pool[n]) / total) for n in names]
    for i in np.argsort([-(count * len(pool[n]) / total - shares[k]) for k, n in enumerate(names)]):
        if sum(shares) >= count:
            break
        shares[i] += 1
    groups = []
    for name, share in zip(names, shares):
        idx = _rng(*keys, name).choice(len(pool[name]), size=share, replace=False)
        groups.append([pool[name][i] for i in idx])
    return round_robin(groups)
