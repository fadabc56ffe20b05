"""Each detector against a brute-force numpy version of the spec's formula, and against pytorch-ood."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from ncst.benchmark.detectors import (
    DETECTORS,
    EnergyDetector,
    KNNDetector,
    MahalanobisDetector,
    MSPDetector,
    NSDDetector,
    make_detector,
)
from ncst.benchmark.metrics import ood_metrics
from ncst.errors import NotFittedError, ProtocolError


def _data(seed: int = 0, n_bank: int = 350, n_test: int = 120, dim: int = 12, n_classes: int = 7):
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, (n_classes + 2, dim))
    yb = np.arange(n_bank) % n_classes
    xb = (means[yb] + rng.normal(0, 1, (n_bank, dim))).astype(np.float32)
    yt = np.r_[np.arange(n_test // 2) % n_classes, n_classes + np.arange(n_test - n_test // 2) % 2]
    xt = (means[yt] + rng.normal(0, 1, (n_test, dim))).astype(np.float32)
    head = rng.normal(0, 0.5, (n_classes, dim)).astype(np.float32)
    return xb, yb, xb @ head.T, xt, yt, xt @ head.T, head


def test_msp_and_energy_hand_checked() -> None:
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]], np.float32)
    np.testing.assert_allclose(MSPDetector().score(logits=logits).numpy(), [0.5, 0.75], rtol=1e-6)
    np.testing.assert_allclose(EnergyDetector().score(logits=logits).numpy(), [np.log(2), np.log(4)], rtol=1e-6)


def test_msp_energy_need_logits() -> None:
    with pytest.raises(ProtocolError, match="logits"):
        MSPDetector().score(np.zeros((2, 3)))


def test_knn_matches_brute_force_numpy_k7() -> None:
    xb, yb, _, xt, _, _, _ = _data()
    bank = xb / np.linalg.norm(xb, axis=1, keepdims=True) + 1e-10
    z = xt / np.linalg.norm(xt, axis=1, keepdims=True)
    expected = np.sort(z @ bank.T, axis=1)[:, ::-1][:, 6]
    det = KNNDetector(k=7, chunk_bytes=4 * len(xb) * 16).fit_features(xb, yb)  # 16-row chunks
    np.testing.assert_allclose(det.score(xt).numpy(), expected, atol=1e-6)


def test_knn_ranks_like_pytorch_ood() -> None:
    from pytorch_ood.detector import KNN

    xb, yb, _, xt, yt, _, _ = _data(1)
    ours = KNNDetector(k=7).fit_features(xb, yb).score(xt).numpy()
    po = (
        -KNN(None, k=7)
        .fit_features(torch.from_numpy(xb), torch.from_numpy(yb))
        .predict_features(torch.from_numpy(xt))
        .numpy()
    )
    assert spearmanr(ours, po).statistic == pytest.approx(1.0)
    np.testing.assert_allclose(po, -np.sqrt(np.maximum(2 - 2 * ours, 0)), atol=1e-4)


def _mahalanobis_numpy(xb: np.ndarray, yb: np.ndarray, xt: np.ndarray) -> np.ndarray:
    xb = xb.astype(np.float64)
    xt = xt.astype(np.float64)
    mu, sd = xb.mean(0), xb.std(0)
    prep = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True) - mu) / (sd + 1e-8)  # noqa: E731
    pb, pt = prep(xb), prep(xt)
    classes = np.unique(yb)
    means = [pb[yb == c].mean(0) for c in classes]
    cov = sum(np.cov(pb[yb == c].T, bias=True) for c in classes) / len(classes)
    prec = np.linalg.pinv(cov)
    d = np.stack([np.einsum("nd,de,ne->n", pt - m, prec, pt - m) for m in means], 1).min(1)
    return np.exp(-(d / 2048) / 2)


def test_mahalanobis_matches_spec_formula() -> None:
    xb, yb, _, xt, _, _, _ = _data(2)
    det = MahalanobisDetector(chunk_rows=50).fit_features(xb, yb)
    np.testing.assert_allclose(det.score(xt).numpy(), _mahalanobis_numpy(xb, yb, xt), rtol=1e-10)


def test_mahalanobis_ranks_like_pytorch_ood_on_preprocessed_features() -> None:
    from pytorch_ood.detector import Mahalanobis

    xb, yb, _, xt, yt, _, _ = _data(3)
    det = MahalanobisDetector().fit_features(xb, yb)
    ours = det.score(xt).numpy()
    pb = det.preprocess(torch.from_numpy(xb)).float()
    pt = det.preprocess(torch.from_numpy(xt)).float()
    po = -Mahalanobis(None).fit_features(pb, torch.from_numpy(yb)).predict_features(pt).numpy()
    assert spearmanr(ours, po).statistic > 0.9999
    binary = (yt < 7).astype(int)
    for metric, value in ood_metrics(binary, ours).items():
        assert ood_metrics(binary, po)[metric] == pytest.approx(value, abs=1e-9), metric


def test_nsd_matches_full_matrix_formula() -> None:
    xb, yb, lb, xt, _, lt, _ = _data(4)
    energy_b = np.log(np.exp(lb.astype(np.float64)).sum(1))
    bank = xb / np.linalg.norm(xb, axis=1, keepdims=True) * energy_b[:, None]
    z = xt / np.linalg.norm(xt, axis=1, keepdims=True)
    expected = np.log(np.exp(lt.astype(np.float64)).sum(1)) * (z @ bank.T).mean(1)
    ours = NSDDetector().fit_features(xb, yb, logits=lb).score(xt, logits=lt).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_nsd_equals_pytorch_ood_nnguide_with_k_equal_bank_size() -> None:
    from pytorch_ood.detector import NNGuide

    xb, yb, lb, xt, _, lt, head = _data(5)
    linear = torch.nn.Linear(head.shape[1], head.shape[0], bias=False)
    linear.weight.data = torch.from_numpy(head)
    po = (
        -NNGuide(None, head=linear, k=len(xb))
        .fit_features(torch.from_numpy(xb), torch.from_numpy(yb))
        .predict_features(torch.from_numpy(xt))
        .numpy()
    )
    ours = NSDDetector().fit_features(xb, yb, logits=lb).score(xt, logits=lt).numpy()
    np.testing.assert_allclose(ours, po, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["knn", "mahalanobis", "nsd"])
def test_score_before_fit_raises(name: str) -> None:
    with pytest.raises(NotFittedError):
        make_detector(name).score(np.ones((2, 4), np.float32), logits=np.ones((2, 7), np.float32))


def test_make_detector_unknown_lists_choices() -> None:
    with pytest.raises(ProtocolError, match="mahalanobis"):
        make_detector("odin")
    assert list(DETECTORS) == ["msp", "energy", "knn", "mahalanobis", "nsd"]


def test_detectors_score_id_higher_than_far_ood() -> None:
    xb, yb, lb, xt, yt, lt, _ = _data(6)
    binary = (yt < 7).astype(int)
    for name in ("knn", "mahalanobis"):
        det = make_detector(name)
        det.fit_features(xb, yb, logits=lb)
        assert ood_metrics(binary, det.score(xt, logits=lt).numpy())["AUC"] > 0.8, name


@pytest.mark.parametrize("n_cols", [7 * 64 + 1, 1000, 64 * 20])
def test_grouped_kth_largest_equals_topk_with_ties(n_cols: int) -> None:
    from ncst.benchmark.detectors.knn import _kth_largest_rows

    gen = torch.Generator().manual_seed(n_cols)
    sims = torch.randint(-20, 20, (50, n_cols), generator=gen).float()  # many ties
    sims[0] = 3.0  # a row that is one big tie
    expected = sims.topk(7, dim=1).values[:, 6]
    assert torch.equal(_kth_largest_rows(sims, 7), expected)
    small = torch.randn(5, 100, generator=gen)
    assert torch.equal(_kth_largest_rows(small, 7, group_cols=8), small.topk(7, dim=1).values[:, 6])
