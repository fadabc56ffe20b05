from __future__ import annotations

import numpy as np
import pytest

from ncst.benchmark.bootstrap import bootstrap_closed_set, bootstrap_ood, bootstrap_single_class
from ncst.benchmark.metrics import macro_f1, ood_metrics, per_class_f1


def test_bootstrap_closed_set_brackets_point_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(7), 200)
    p = np.where(rng.random(y.size) < 0.9, y, rng.integers(0, 7, y.size))
    per_class, macro = bootstrap_closed_set(y, p, range(7), n_resamples=300, seed=1)
    f1 = per_class_f1(y, p, range(7))
    for ci, v in zip(per_class, f1):
        assert ci.low <= v <= ci.high
        assert ci.high - ci.low < 0.15
    assert macro.low <= macro_f1(y, p, range(7)) <= macro.high
    again, _ = bootstrap_closed_set(y, p, range(7), n_resamples=300, seed=1)
    assert again == per_class


def test_bootstrap_closed_set_perfect_predictions_have_zero_width() -> None:
    y = np.repeat(np.arange(3), 10)
    per_class, macro = bootstrap_closed_set(y, y, range(3), n_resamples=50)
    assert all(ci.low == ci.high == 1.0 for ci in per_class)
    assert macro.low == 1.0


def test_bootstrap_single_class_width_matches_binomial() -> None:
    per_set, mean = bootstrap_single_class([500, 90], [1000, 100], n_resamples=2000, seed=0)
    # binomial standard error of 0.5 at n = 1000 is 0.0158; a 95% interval is about +-0.031
    assert per_set[0].low == pytest.approx(0.469, abs=0.01)
    assert per_set[0].high == pytest.approx(0.531, abs=0.01)
    assert mean.low < 0.7 < mean.high


def test_bootstrap_ood_brackets_point_estimates() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(400), np.zeros(300)].astype(int)
    s = np.r_[rng.normal(1.0, 1.0, 400), rng.normal(-0.5, 1.0, 300)].round(1)  # rounding makes ties
    cis = bootstrap_ood(y, s, n_resamples=200, seed=0)
    point = ood_metrics(y, s)
    for name, ci in cis.items():
        assert ci.low <= point[name] + 1e-9, name
        assert point[name] - 1e-9 <= ci.high, name
        assert ci.high - ci.low < 0.2, name
