"""NSD as the ST-Codecfake reference computes it: NNGuide (Park et al., ICCV 2023) with k = N.

Bank: ``b_j = E_j * z_j`` with ``E_j = logsumexp(logits_j)`` and ``z_j = x_j / max(||x_j||, 1e-12)``.
Score: ``E(x) * mean_j <z, b_j>``, i.e. the energy-scaled cosine to the **mean** energy-scaled bank
vector ``b_mean``. The reference multiplies the full ``N_test x N_bank`` matrix and averages (tens of GB
at full scale); the closed form ``E(x) * <z, b_mean>`` is the same number (up to float rounding) in
O(N D) memory. pytorch-ood's `NNGuide(None, head, k=N_bank)` computes the same quantity (negated) and is
used in the tests as the cross-check. The reference's own ``nnguide.py`` (top-7 mean) is not what its
tables use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from torch import Tensor

from ncst.benchmark.detectors.base import Detector, as_tensor
from ncst.errors import ProtocolError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["NSDDetector"]

log = logging.getLogger(__name__)


class NSDDetector(Detector):
    """Energy-scaled cosine similarity to the mean energy-scaled bank vector; higher = ID."""

    name: ClassVar[str] = "nsd"
    requires_fit: ClassVar[bool] = True

    def __init__(self) -> None:
        self.bank_mean: Tensor | None = None

    def fit_features(
        self, x: ArrayLike | Tensor, y: ArrayLike | Tensor, *, logits: ArrayLike | Tensor | None = None
    ) -> Self:
        """Builds ``b_mean = mean_j logsumexp(l_j) * z_j`` `[D]` (float64) from the bank; labels unused."""
        feats = as_tensor(x, "bank embeddings")
        bank_logits = as_tensor(logits, "bank logits")
        if bank_logits.shape[0] != feats.shape[0]:
            raise ProtocolError(f"{bank_logits.shape[0]} bank logits for {feats.shape[0]} bank embeddings")
        energy = torch.logsumexp(bank_logits, dim=1)
        scaled = F.normalize(feats, dim=1) * energy[:, None]
        self.bank_mean = scaled.to(torch.float64).mean(dim=0)
        return self

    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Returns ``logsumexp(logits) * <x/||x||, b_mean>`` `[N]` (float64), higher = ID."""
        if self.bank_mean is None:
            raise self._not_fitted()
        feats = as_tensor(x, "embeddings")
        test_logits = as_tensor(logits, "logits")
        if feats.shape[1] != self.bank_mean.shape[0]:
            raise ProtocolError(f"embeddings have {feats.shape[1]} dims, the bank has {self.bank_mean.shape[0]}")
        if test_logits.shape[0] != feats.shape[0]:
            raise ProtocolError(f"{test_logits.shape[0]} logits for {feats.shape[0]} embeddings")
        energy = torch.logsumexp(test_logits, dim=1).to(torch.float64)
        return energy * (F.normalize(feats, dim=1).to(torch.float64) @ self.bank_mean)
