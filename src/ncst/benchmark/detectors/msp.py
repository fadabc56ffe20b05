"""Maximum softmax probability (Hendrycks and Gimpel, ICLR 2017), via pytorch-ood's `MaxSoftmax`.

Score = ``max_c softmax(logits)_c`` at temperature 1, in float32 like the reference. pytorch-ood returns
the negated value (an outlier score); we flip it back.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from numpy.typing import ArrayLike
from torch import Tensor

from ncst.benchmark.detectors.base import Detector, as_tensor

__all__ = ["MSPDetector"]

log = logging.getLogger(__name__)


class MSPDetector(Detector):
    """Max softmax probability; needs logits only and no fitting."""

    name: ClassVar[str] = "msp"

    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Returns ``max softmax(logits)`` `[N]` (float32), higher = ID."""
        from pytorch_ood.detector import MaxSoftmax  # lazy: pytorch_ood takes seconds to import

        return -MaxSoftmax.score(as_tensor(logits, "logits"), t=1.0)
