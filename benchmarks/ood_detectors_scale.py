"""Time the five OOD detectors at full ST-Codecfake scale on synthetic embeddings.

Scale: a 70 000-row training bank (7 classes x 10 000), 160 000 test rows (92 596 ID + 67 404 OOD from 5
unseen classes), 160-d embeddings and 7 logits: W2V2-AASIST's bank and the size of an open-set test.
Synthetic embeddings: a shared positive offset, one direction per class and low-rank within-class noise;
logits come from a fixed linear head. (Timings do not depend on the values: every detector is exact.)

Prints seconds per detector (fit + score of all test rows) and peak RSS, then, on a slice of the
queries scaled up to the full test, the KNN search done two other ways: a chunked matmul with a
full-width ``topk`` (the plain way), and pytorch-ood's ``KNN(k=7)`` (scikit-learn ``NearestNeighbors``),
with the speed ratios. Run: ``python benchmarks/ood_detectors_scale.py [--threads 2]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from ncst.benchmark.detectors import make_detector
from ncst.benchmark.detectors.knn import kth_largest_inner_product


def make_data(n_bank: int, n_id: int, n_ood: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    offset = np.abs(rng.standard_normal(dim)).astype(np.float32) * 2.0
    directions = rng.standard_normal((12, dim)).astype(np.float32)
    basis = rng.standard_normal((8, dim)).astype(np.float32) * 0.35

    def draw(labels: np.ndarray) -> np.ndarray:
        low = rng.standard_normal((labels.size, 8), dtype=np.float32) @ basis
        return offset + directions[labels] + low + 0.15 * rng.standard_normal((labels.size, dim), dtype=np.float32)

    yb = np.arange(n_bank) % 7
    yt = np.r_[np.arange(n_id) % 7, 7 + np.arange(n_ood) % 5]
    xb, xt = draw(yb), draw(yt)
    head = rng.standard_normal((7, dim)).astype(np.float32) * 0.3
    return xb, yb, xb @ head.T, xt, yt, xt @ head.T


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def plain_knn(q: torch.Tensor, bank: torch.Tensor, k: int, rows: int = 1917) -> torch.Tensor:
    out = torch.empty(q.shape[0])
    bank_t = bank.T.contiguous()
    for s in range(0, q.shape[0], rows):
        out[s : s + rows] = (q[s : s + rows] @ bank_t).topk(k, dim=1).values[:, k - 1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bank", type=int, default=70_000)
    parser.add_argument("--n-id", type=int, default=92_596)
    parser.add_argument("--n-ood", type=int, default=67_404)
    parser.add_argument("--dim", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slice", type=int, default=4096, help="queries used for the comparisons")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    xb, yb, lb, xt, yt, lt = make_data(args.bank, args.n_id, args.n_ood, args.dim)
    n_test = xt.shape[0]
    print(f"bank {xb.shape}, test {xt.shape}, torch threads {args.threads}")
    print(f"peak RSS after making the data: {peak_rss_mb():.0f} MB")
    total = 0.0
    ours = None
    for name in ("msp", "energy", "knn", "mahalanobis", "nsd"):
        det = make_detector(name)
        start = time.perf_counter()
        if det.requires_fit:
            det.fit_features(xb, yb, logits=lb)
        scores = det.score(xt, logits=lt)
        elapsed = time.perf_counter() - start
        total += elapsed
        if name == "knn":
            ours = scores
        print(f"{name:12s} {elapsed:7.2f} s   peak RSS {peak_rss_mb():6.0f} MB")
    print(f"all five     {total:7.2f} s")

    n = min(args.slice, n_test)
    sl = np.random.default_rng(1).choice(n_test, n, replace=False)
    bank = torch.from_numpy(xb)
    bank = bank / bank.norm(dim=1, keepdim=True) + 1e-10
    q = torch.from_numpy(xt[sl])
    q = q / q.norm(dim=1, keepdim=True)
    assert ours is not None
    start = time.perf_counter()
    ref = kth_largest_inner_product(q, bank, 7)
    grouped_s = (time.perf_counter() - start) * n_test / n
    start = time.perf_counter()
    plain = plain_knn(q, bank, 7)
    plain_s = (time.perf_counter() - start) * n_test / n
    print(
        f"KNN on {n} queries, scaled to {n_test}: ours {grouped_s:.1f} s, plain matmul+topk {plain_s:.1f} s "
        f"(ratio {plain_s / grouped_s:.2f}); max |diff| {float((plain - ref).abs().max()):.1e}, "
        f"vs full run {float((ours[torch.from_numpy(sl)] - ref).abs().max()):.1e}"
    )
    from pytorch_ood.detector import KNN

    m = min(n, 1024)
    po = KNN(None, k=7).fit_features(torch.from_numpy(xb), torch.from_numpy(yb))
    start = time.perf_counter()
    dist = po.predict_features(torch.from_numpy(xt[sl[:m]])).float()
    po_s = (time.perf_counter() - start) * n_test / m
    agree = float((dist - torch.sqrt((2 - 2 * ref[:m]).clamp_min(0))).abs().max())
    print(
        f"pytorch-ood KNN(k=7) on {m} queries, scaled: {po_s:.1f} s (ratio {po_s / grouped_s:.2f}); "
        f"max |distance - sqrt(2 - 2 cos)| {agree:.1e}"
    )
    print(f"memory of the full similarity matrix the reference's NSD builds: {n_test * args.bank * 4 / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
