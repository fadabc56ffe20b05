from __future__ import annotations

import numpy as np
import pytest

from ncst.benchmark.metrics import (
    auc,
    eer_reference,
    eer_tie_robust,
    fpr_at_95_tpr,
    macro_f1,
    ood_metrics,
    per_class_f1,
    single_class_f1,
)
from ncst.errors import ProtocolError


def _eer_loop(target: list[float], nontarget: list[float]) -> float:
    """The spec's EER written as a plain loop (independent of the vectorised code)."""
    items = [(s, 1) for s in target] + [(s, 0) for s in nontarget]
    items.sort(key=lambda t: t[0])  # Python's sort is stable: targets first inside a tie
    best, best_gap = None, None
    n_t, n_n = len(target), len(nontarget)
    for k in range(len(items) + 1):
        frr = sum(lab for _, lab in items[:k]) / n_t
        far = sum(1 - lab for _, lab in items[k:]) / n_n
        if best_gap is None or abs(frr - far) < best_gap:
            best_gap, best = abs(frr - far), (frr + far) / 2
    return float(best)


def test_per_class_and_macro_f1_hand_checked() -> None:
    y = [0, 0, 1, 1, 2]
    p = [0, 1, 1, 1, 2]
    f1 = per_class_f1(y, p, [0, 1, 2])
    np.testing.assert_allclose(f1, [2 / 3, 0.8, 1.0])
    assert macro_f1(y, p, [0, 1, 2]) == pytest.approx((2 / 3 + 0.8 + 1.0) / 3)


def test_per_class_f1_absent_class_is_zero() -> None:
    np.testing.assert_allclose(per_class_f1([0, 0], [0, 0], [0, 1]), [1.0, 0.0])


def test_single_class_f1_equals_accuracy() -> None:
    assert single_class_f1([1, 1, 2, 0], 1) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 7, 1000)
    assert single_class_f1(pred, 3) == pytest.approx(np.mean(pred == 3))


def test_auc_hand_checked() -> None:
    assert auc([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1]) == pytest.approx(0.75)
    assert auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)  # a tie counts one half


def test_fpr95_interpolates_inside_a_tie_block() -> None:
    # ID 0.1..1.0; OOD 0.0, 0.1, 0.1, 0.55. ROC: (tpr .9, fpr .25) -> tie block at 0.1 -> (1.0, .75).
    ids = np.arange(1, 11) / 10
    ood = np.array([0.0, 0.1, 0.1, 0.55])
    y = np.r_[np.ones(10), np.zeros(4)]
    assert fpr_at_95_tpr(y, np.r_[ids, ood]) == pytest.approx(0.5)


def test_fpr95_id_is_positive_class() -> None:
    # Perfect separation with ID high: no OOD accepted at 95% TPR.
    y = np.r_[np.ones(50), np.zeros(50)]
    s = np.r_[np.linspace(1, 2, 50), np.linspace(-2, -1, 50)]
    assert fpr_at_95_tpr(y, s) == pytest.approx(0.0)
    assert fpr_at_95_tpr(y, -s) == pytest.approx(1.0)


def test_eer_reference_tie_order_saturated_example() -> None:
    # The spec's saturated case: 99% of ID and 96% of OOD exactly 1.0.
    target = [1.0] * 99 + [0.5]
    nontarget = [1.0] * 96 + [0.0] * 4
    assert eer_reference(target, nontarget) == pytest.approx(0.96)
    assert eer_reference(target, nontarget) == pytest.approx(_eer_loop(target, nontarget))
    y = np.r_[np.ones(100), np.zeros(100)]
    assert eer_tie_robust(y, np.r_[target, nontarget]) == pytest.approx(0.96 / 1.95)


def test_eer_reference_matches_loop_on_random_ties() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        target = rng.integers(0, 6, rng.integers(3, 30)).astype(float).tolist()
        nontarget = rng.integers(-2, 4, rng.integers(3, 30)).astype(float).tolist()
        assert eer_reference(target, nontarget) == pytest.approx(_eer_loop(target, nontarget))


def test_eer_without_ties_reference_equals_tie_robust_at_crossing() -> None:
    # ID 1..10, OOD -4.5..4.5: rejecting ID 1, 2 and OOD up to 1.5 gives FRR = FAR = 0.2.
    target = np.arange(1, 11, dtype=float)
    nontarget = np.arange(1, 11, dtype=float) - 5.5
    y = np.r_[np.ones(10), np.zeros(10)]
    ref = eer_reference(target, nontarget)
    assert ref == pytest.approx(0.2)
    assert eer_tie_robust(y, np.r_[target, nontarget]) == pytest.approx(0.2)


def test_all_equal_scores_edge_case() -> None:
    y = np.r_[np.ones(10), np.zeros(10)]
    s = np.zeros(20)
    m = ood_metrics(y, s)
    assert m["AUC"] == pytest.approx(0.5)
    assert m["FPR95"] == pytest.approx(0.95)
    assert m["EER"] == pytest.approx(1.0)
    assert m["EER_tie_robust"] == pytest.approx(0.5)


def test_ood_metrics_reject_one_class_target() -> None:
    with pytest.raises(ProtocolError, match="both ID"):
        ood_metrics([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ProtocolError, match="NaN"):
        ood_metrics([1, 0], [np.nan, 0.2])
