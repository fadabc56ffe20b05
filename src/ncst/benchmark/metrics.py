"""Benchmark metrics, computed exactly as the ST-Codecfake reference does (arXiv 2501.06514).

Library split: scikit-learn computes F1 (`f1_score`), AUC (`roc_auc_score`) and the ROC curve
(`roc_curve`); scipy's `interp1d` reads FPR95 off the ROC vertices. The reference EER (the ASVspoof DET
code with its stable-sort tie order) and the tie-robust EER are our own code, written from the
description in ``docs/reference_system.md`` §10.

Conventions: OOD metrics take a binary target with ID = 1 (positive) and OOD = 0, and scores where higher
means more in-distribution. All functions return fractions in [0, 1]; reports multiply by 100.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import interp1d
from sklearn.metrics import f1_score, roc_auc_score, roc_curve

from ncst.errors import ProtocolError

__all__ = [
    "per_class_f1",
    "macro_f1",
    "single_class_f1",
    "auc",
    "fpr_at_95_tpr",
    "eer_reference",
    "eer_tie_robust",
    "roc_vertices",
    "ood_metrics",
]

log = logging.getLogger(__name__)


def per_class_f1(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[int]) -> NDArray[np.float64]:
    """Per-class F1 (sklearn ``average=None``), one value per entry of `labels`.

    Args:
        y_true: True class ids `[N]`.
        y_pred: Predicted class ids `[N]`.
        labels: Class ids to report, in order (Table 3: 0..6).

    Returns:
        F1 per class `[len(labels)]`, fractions.
    """
    return np.asarray(f1_score(y_true, y_pred, labels=list(labels), average=None, zero_division=0), np.float64)


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[int]) -> float:
    """Macro F1 over `labels` (sklearn ``average='macro'``): Table 3's AVG."""
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def single_class_f1(y_pred: ArrayLike, true_label: int) -> float:
    """Micro F1 of predictions against one constant true label, as Tables 4 and 6 compute it.

    ``f1_score([t] * n, y_pred, average='micro')``; with one true label this equals accuracy, the fraction
    of predictions equal to `true_label`.
    """
    pred = np.asarray(y_pred)
    if pred.size == 0:
        raise ProtocolError("single_class_f1: no predictions")
    return float(f1_score(np.full(pred.shape, true_label), pred, average="micro"))


def _check_binary(binary: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    y = np.asarray(binary).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ProtocolError(f"binary target has {y.size} entries but scores have {s.size}")
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size or not np.isin(y, (0, 1)).all():
        raise ProtocolError("OOD metrics need a binary target with both ID (1) and OOD (0) entries")
    if not np.isfinite(s).all():
        raise ProtocolError("OOD scores contain NaN or Inf")
    return y, s


def auc(binary: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve with ID as the positive class (ties count one half)."""
    y, s = _check_binary(binary, scores)
    return float(roc_auc_score(y, s))


def fpr_at_95_tpr(binary: ArrayLike, scores: ArrayLike, tpr_level: float = 0.95) -> float:
    """FPR at 95% TPR, ID positive, linearly interpolated on the ROC vertices (the reference's FPR95).

    ``fpr, tpr, _ = roc_curve(binary, scores)`` (``drop_intermediate=True``), then
    ``interp1d(tpr, fpr)(0.95)``: the fraction of OOD accepted when 95% of ID is accepted.
    """
    y, s = _check_binary(binary, scores)
    fpr, tpr, _ = roc_curve(y, s)
    return float(interp1d(tpr, fpr)(tpr_level))


def eer_reference(target_scores: ArrayLike, nontarget_scores: ArrayLike) -> float:
    """Equal error rate with the reference's tie order (the ASVspoof DET-curve computation).

    Scores of targets (ID) and non-targets (OOD) are concatenated in that order and sorted ascending with a
    stable sort, so within a block of tied scores every ID entry comes before every OOD entry. At cut k
    (k lowest scores rejected), FRR_k is the fraction of ID among them and FAR_k the fraction of OOD above;
    FRR_0 = 0 and FAR_0 = 1. The EER is (FRR_i + FAR_i) / 2 at the first i minimising |FRR_i - FAR_i|.

    Args:
        target_scores: Scores of ID samples `[N_id]`.
        nontarget_scores: Scores of OOD samples `[N_ood]`.

    Returns:
        The EER as a fraction.
    """
    tar = np.asarray(target_scores, dtype=np.float64).ravel()
    non = np.asarray(nontarget_scores, dtype=np.float64).ravel()
    if tar.size == 0 or non.size == 0:
        raise ProtocolError(f"eer_reference needs both ID and OOD scores (got {tar.size} and {non.size})")
    scores = np.concatenate([tar, non])
    is_target = np.concatenate([np.ones(tar.size), np.zeros(non.size)])
    order = np.argsort(scores, kind="mergesort")
    tar_below = np.cumsum(is_target[order])
    frr = np.concatenate([[0.0], tar_below / tar.size])
    non_below = np.arange(1, scores.size + 1) - tar_below
    far = np.concatenate([[1.0], (non.size - non_below) / non.size])
    i = int(np.argmin(np.abs(frr - far)))
    return float((frr[i] + far[i]) / 2.0)


def roc_vertices(binary: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ROC vertices (fpr, tpr) from (0, 0) to (1, 1), one vertex per distinct score (no vertex dropped)."""
    y, s = _check_binary(binary, scores)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return fpr, tpr


def eer_tie_robust(binary: ArrayLike, scores: ArrayLike) -> float:
    """Tie-robust EER: where FPR = FNR on the ROC curve, a tied block being one straight segment.

    Unlike `eer_reference`, the result does not depend on how tied ID and OOD scores are ordered: on
    saturated scores (most ID and OOD exactly 1.0) the reference gives an EER near 1 or near 0 depending on
    the tie order, this gives the value in between that the ROC curve implies.
    """
    fpr, tpr = roc_vertices(binary, scores)
    return _crossing(fpr, tpr)


def _crossing(fpr: NDArray[np.float64], tpr: NDArray[np.float64]) -> float:
    gap = fpr - (1.0 - tpr)  # non-decreasing from -1 at (0, 0) to +1 at (1, 1)
    i = int(np.argmax(gap >= 0.0))
    if i == 0:
        return float(fpr[0])
    frac = -gap[i - 1] / (gap[i] - gap[i - 1])
    return float(fpr[i - 1] + frac * (fpr[i] - fpr[i - 1]))


def ood_metrics(binary: ArrayLike, scores: ArrayLike) -> dict[str, float]:
    """All OOD metrics of one detector on one condition, as fractions.

    Returns:
        ``{"AUC", "FPR95", "EER", "EER_tie_robust"}``.
    """
    y, s = _check_binary(binary, scores)
    return {
        "AUC": auc(y, s),
        "FPR95": fpr_at_95_tpr(y, s),
        "EER": eer_reference(s[y == 1], s[y == 0]),
        "EER_tie_robust": eer_tie_robust(y, s),
    }
