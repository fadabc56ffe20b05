"""Mahalanobis distance to class means with a tied covariance (Lee et al., NeurIPS 2018), reference style.

As the ST-Codecfake reference does it (float64 throughout):

1. ``mu_raw``, ``sd_raw``: per-dimension mean and population std of the **raw** bank embeddings;
2. preprocessing ``p(x) = (x / ||x|| - mu_raw) / (sd_raw + 1e-8)`` (raw statistics applied to
   L2-normalised features, a quirk of the reference kept on purpose);
3. class means ``mu_c`` of ``p(x_j)`` for every class c in the bank;
4. ``Sigma`` = unweighted mean over classes of the biased per-class covariance; ``P = pinv(Sigma)``;
5. score ``exp(-min_c (p - mu_c)^T P (p - mu_c) / 4096)``, higher = ID (underflows to 0 only for a
   distance above about 3e6).

pytorch-ood's `Mahalanobis` fitted on the same preprocessed features ranks identically (it scales the
scatter matrix instead of averaging it, and adds a 1e-6 ridge), but computes in float32; we keep float64
to match the reference's numbers, and the tests check the rankings against pytorch-ood.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

import torch
from numpy.typing import ArrayLike
from torch import Tensor

from ncst.benchmark.detectors.base import Detector, as_tensor
from ncst.errors import ProtocolError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MahalanobisDetector"]

log = logging.getLogger(__name__)

_SCALE = 4096.0  # the reference writes exp(-(d / 2048) / 2)


class MahalanobisDetector(Detector):
    """Class-conditional Gaussian with tied covariance on reference-preprocessed features; higher = ID.

    Args:
        chunk_rows: Test rows scored at once (memory is ``chunk_rows x D`` float64).
    """

    name: ClassVar[str] = "mahalanobis"
    requires_fit: ClassVar[bool] = True

    def __init__(self, *, chunk_rows: int = 65536) -> None:
        self.chunk_rows = chunk_rows
        self.mu_raw: Tensor | None = None
        self.sd_raw: Tensor | None = None
        self.class_means: Tensor | None = None
        self.precision: Tensor | None = None

    def preprocess(self, x: Tensor) -> Tensor:
        """Applies the reference preprocessing ``(x/||x|| - mu_raw) / (sd_raw + 1e-8)`` in float64."""
        if self.mu_raw is None or self.sd_raw is None:
            raise self._not_fitted()
        x = x.to(torch.float64)
        return (x / x.norm(dim=1, keepdim=True) - self.mu_raw) / (self.sd_raw + 1e-8)

    def fit_features(
        self, x: ArrayLike | Tensor, y: ArrayLike | Tensor, *, logits: ArrayLike | Tensor | None = None
    ) -> Self:
        """Fits the raw statistics, class means and the tied precision matrix; logits are not used."""
        raw = as_tensor(x, "bank embeddings", dtype=torch.float64)
        labels = torch.as_tensor(y).long().reshape(-1)
        if labels.shape[0] != raw.shape[0]:
            raise ProtocolError(f"{labels.shape[0]} bank labels for {raw.shape[0]} bank embeddings")
        self.mu_raw = raw.mean(dim=0)
        self.sd_raw = raw.std(dim=0, correction=0)
        feats = self.preprocess(raw)
        classes = torch.unique(labels)
        means = []
        cov = torch.zeros(raw.shape[1], raw.shape[1], dtype=torch.float64)
        for c in classes:
            fc = feats[labels == c]
            mc = fc.mean(dim=0)
            centred = fc - mc
            cov += centred.T @ centred / fc.shape[0]
            means.append(mc)
        cov /= len(classes)
        self.class_means = torch.stack(means)
        self.precision = torch.linalg.pinv(cov)
        log.debug("Mahalanobis fitted on %d rows, classes %s", raw.shape[0], classes.tolist())
        return self

    def min_distance(self, x: ArrayLike | Tensor) -> Tensor:
        """Smallest squared Mahalanobis distance to a class mean `[N]`, float64."""
        if self.class_means is None or self.precision is None:
            raise self._not_fitted()
        feats_all = as_tensor(x, "embeddings", dtype=torch.float64)
        if feats_all.shape[1] != self.precision.shape[0]:
            raise ProtocolError(f"embeddings have {feats_all.shape[1]} dims, the bank has {self.precision.shape[0]}")
        # (p - m)^T P (p - m) = p^T P p - 2 p^T P m + m^T P m: one [n, D] x [D, D] product per chunk.
        mean_terms = ((self.class_means @ self.precision) * self.class_means).sum(dim=1)
        out = torch.empty(feats_all.shape[0], dtype=torch.float64)
        for start in range(0, feats_all.shape[0], self.chunk_rows):
            p = self.preprocess(feats_all[start : start + self.chunk_rows])
            pp = p @ self.precision
            dists = (pp * p).sum(dim=1, keepdim=True) - 2.0 * pp @ self.class_means.T + mean_terms
            out[start : start + self.chunk_rows] = dists.min(dim=1).values.clamp_min(0.0)
        return out

    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Returns ``exp(-min_c d_c / 4096)`` `[N]` (float64), higher = ID."""
        if x is None:
            raise ProtocolError("MahalanobisDetector needs embeddings")
        return torch.exp(-self.min_distance(x) / _SCALE)
