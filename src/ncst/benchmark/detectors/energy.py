"""Energy score (Liu et al., NeurIPS 2020), via pytorch-ood's `EnergyBased`.

Score = ``logsumexp_c logits_c`` (the negative energy at temperature 1, no temperature scaling), as the
reference computes it. pytorch-ood returns the energy itself; we negate it.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from numpy.typing import ArrayLike
from torch import Tensor

from ncst.benchmark.detectors.base import Detector, as_tensor

__all__ = ["EnergyDetector"]

log = logging.getLogger(__name__)


class EnergyDetector(Detector):
    """Negative energy ``logsumexp(logits)``; needs logits only and no fitting."""

    name: ClassVar[str] = "energy"

    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Returns ``logsumexp(logits)`` `[N]`, higher = ID."""
        from pytorch_ood.detector import EnergyBased  # lazy: pytorch_ood takes seconds to import

        return -EnergyBased.score(as_tensor(logits, "logits"), t=1.0)
