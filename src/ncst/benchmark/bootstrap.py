"""Percentile-bootstrap 95% confidence intervals for the benchmark metrics (an extra, not in the paper).

Every bootstrap here is **stratified**: the number of utterances per true class (closed set), per set
(single-class tables) and of ID and OOD utterances (open set) is held at its observed value, because
those sizes are fixed by the protocol's design. Resampling utterances with replacement inside a stratum
is done exactly but cheaply:

* closed set: resampling the rows of true class c is a multinomial draw over row c of the confusion
  matrix, so F1 per class and macro F1 are computed from resampled confusion matrices;
* single-class sets: the number of correct predictions is a binomial draw; the AVG column resamples
  every set in the same replicate and takes the mean;
* open set: each replicate gives every utterance a multiplicity (how often it was drawn) and the ROC
  and DET curves are computed from weighted counts along one fixed sort order. For the reference EER,
  the cuts are taken between distinct utterances, not between copies of the same one (a difference of at
  most one copy, i.e. about 1/N).

A fixed seed makes the intervals reproducible. Intervals are the 2.5th and 97.5th percentiles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ncst.benchmark.metrics import _check_binary, _crossing
from ncst.errors import ProtocolError

__all__ = ["Interval", "bootstrap_closed_set", "bootstrap_single_class", "bootstrap_ood"]

log = logging.getLogger(__name__)

DEFAULT_SEED = 20250111


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided percentile interval, as fractions."""

    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """Returns ``{"low": ..., "high": ...}``."""
        return {"low": self.low, "high": self.high}


def _interval(samples: NDArray[np.float64], level: float) -> Interval:
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return Interval(float(low), float(high))


def _f1_from_confusion(cm: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-class F1 from confusion matrices `[..., C, C]` (rows true, columns predicted) -> `[..., C]`."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    denom = cm.sum(axis=-1) + cm.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2.0 * tp / denom, 0.0)
    return f1


def bootstrap_closed_set(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    labels: Sequence[int],
    *,
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[list[Interval], Interval]:
    """Bootstrap intervals of per-class F1 and macro F1, stratified by true class.

    Args:
        y_true: True class ids `[N]`.
        y_pred: Predicted class ids `[N]`.
        labels: Scored class ids (Table 3: 0..6).
        n_resamples: Number of bootstrap replicates.
        seed: Seed of the generator.
        level: Coverage of the interval.

    Returns:
        One interval per entry of `labels`, and the macro-F1 interval.
    """
    y = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if y.shape != p.shape or y.size == 0:
        raise ProtocolError(f"bootstrap_closed_set: {y.size} labels for {p.size} predictions")
    classes = np.union1d(np.union1d(y, p), np.asarray(labels))
    index = {int(c): i for i, c in enumerate(classes)}
    k = classes.size
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.searchsorted(classes, y), np.searchsorted(classes, p)), 1)
    rng = np.random.default_rng(seed)
    boot = np.zeros((n_resamples, k, k), np.float64)
    for r in range(k):
        n_r = int(cm[r].sum())
        if n_r:
            boot[:, r, :] = rng.multinomial(n_r, cm[r] / n_r, size=n_resamples)
    f1 = _f1_from_confusion(boot)[:, [index[int(c)] for c in labels]]
    per_class = [_interval(f1[:, j], level) for j in range(f1.shape[1])]
    return per_class, _interval(f1.mean(axis=1), level)


def bootstrap_single_class(
    n_correct: Sequence[int],
    n_total: Sequence[int],
    *,
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[list[Interval], Interval]:
    """Bootstrap intervals of per-set accuracy (= micro F1) and of their plain mean.

    Args:
        n_correct: Correct predictions per set.
        n_total: Utterances per set.
        n_resamples: Number of bootstrap replicates.
        seed: Seed of the generator.
        level: Coverage of the interval.

    Returns:
        One interval per set, and the interval of the mean over sets (the AVG column).
    """
    correct = np.asarray(n_correct, np.int64)
    total = np.asarray(n_total, np.int64)
    if correct.shape != total.shape or (total <= 0).any() or (correct > total).any():
        raise ProtocolError(f"bootstrap_single_class: bad counts {correct.tolist()} of {total.tolist()}")
    rng = np.random.default_rng(seed)
    acc = rng.binomial(total, correct / total, size=(n_resamples, total.size)) / total
    return [_interval(acc[:, j], level) for j in range(total.size)], _interval(acc.mean(axis=1), level)


def bootstrap_ood(
    binary: ArrayLike,
    scores: ArrayLike,
    *,
    n_resamples: int = 200,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Bootstrap intervals of AUC, FPR95, EER and EER_tie_robust, stratified into ID and OOD.

    Args:
        binary: 1 for ID, 0 for OOD `[N]`.
        scores: Detector scores, higher = ID `[N]`.
        n_resamples: Number of bootstrap replicates.
        seed: Seed of the generator; the same seed draws the same utterances for every detector.
        level: Coverage of the interval.

    Returns:
        ``{"AUC": Interval, "FPR95": ..., "EER": ..., "EER_tie_robust": ...}``.
    """
    y, s = _check_binary(binary, scores)
    id_idx = np.flatnonzero(y == 1)
    ood_idx = np.flatnonzero(y == 0)
    # ROC: descending scores, one vertex at the end of each block of equal scores.
    desc = np.argsort(-s, kind="mergesort")
    s_desc = s[desc]
    ends = np.flatnonzero(np.concatenate([s_desc[1:] != s_desc[:-1], [True]]))
    y_desc = y[desc]
    # DET (reference EER): ascending scores, ID before OOD inside a tie.
    asc = np.lexsort((1 - y, s))
    y_asc = y[asc]
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, 4), np.float64)
    weights = np.zeros(y.size, np.float64)
    for b in range(n_resamples):
        weights[id_idx] = np.bincount(rng.integers(0, id_idx.size, id_idx.size), minlength=id_idx.size)
        weights[ood_idx] = np.bincount(rng.integers(0, ood_idx.size, ood_idx.size), minlength=ood_idx.size)
        out[b] = _weighted_ood(weights, y_desc, desc, ends, y_asc, asc, id_idx.size, ood_idx.size)
    names = ("AUC", "FPR95", "EER", "EER_tie_robust")
    return {name: _interval(out[:, j], level) for j, name in enumerate(names)}


def _weighted_ood(
    weights: NDArray[np.float64],
    y_desc: NDArray[np.int64],
    desc: NDArray[np.intp],
    ends: NDArray[np.intp],
    y_asc: NDArray[np.int64],
    asc: NDArray[np.intp],
    n_id: int,
    n_ood: int,
) -> tuple[float, float, float, float]:
    w_desc = weights[desc]
    pos = np.cumsum(w_desc * y_desc)
    tpr = np.concatenate([[0.0], pos[ends] / n_id])
    fpr = np.concatenate([[0.0], (np.cumsum(w_desc) - pos)[ends] / n_ood])
    auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1])) / 2.0)
    fpr95 = _interp_sorted(0.95, tpr, fpr)
    w_asc = weights[asc]
    frr = np.concatenate([[0.0], np.cumsum(w_asc * y_asc) / n_id])
    far = np.concatenate([[1.0], 1.0 - np.cumsum(w_asc * (1 - y_asc)) / n_ood])
    i = int(np.argmin(np.abs(frr - far)))
    eer = float((frr[i] + far[i]) / 2.0)
    return auc, fpr95, eer, _crossing(fpr, tpr)


def _interp_sorted(x: float, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> float:
    """Linear interpolation at x on non-decreasing xs (binary search; O(log n) unlike np.interp)."""
    i = int(np.searchsorted(xs, x, side="left"))
    if i == 0:
        return float(ys[0])
    if i >= xs.size:
        return float(ys[-1])
    if xs[i] == xs[i - 1]:
        return float(ys[i])
    frac = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    return float(ys[i - 1] + frac * (ys[i] - ys[i - 1]))
