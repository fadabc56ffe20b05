"""The common interface of the OOD detectors used by the open-set protocol (paper Table 5).

Every detector follows pytorch-ood's shape (``fit``/``fit_features`` return the detector itself) but
returns **in-distribution scores**: higher means more in-distribution, as the ST-Codecfake reference does.
pytorch-ood's own detectors return outlier scores (higher = OOD); where we call them we negate.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from ncst.errors import NotFittedError, ProtocolError

if TYPE_CHECKING:
    from typing_extensions import Self

    from ncst.benchmark.dumps import Dump

__all__ = ["Detector", "as_tensor"]

log = logging.getLogger(__name__)


def as_tensor(x: ArrayLike | Tensor | None, name: str, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Converts `x` to a CPU tensor of `dtype`, raising ProtocolError when it is missing or not 2-D."""
    if x is None:
        raise ProtocolError(f"This detector needs {name}, but none were given")
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).to(dtype)
    if t.ndim != 2 or t.shape[0] == 0:
        raise ProtocolError(f"{name} must be a non-empty [N, D] array, got shape {tuple(t.shape)}")
    return t


class Detector(ABC):
    """An OOD detector: fit on the training bank, then score test utterances (higher = ID).

    Subclasses set `name` and `requires_fit`, and implement `score` (and `fit_features` if they fit).
    """

    name: ClassVar[str]
    requires_fit: ClassVar[bool] = False

    def fit(self, bank: Dump) -> Self:
        """Fits on a training-bank dump (embeddings, labels and logits)."""
        return self.fit_features(bank.embeddings, bank.labels, logits=bank.logits)

    def fit_features(
        self, x: ArrayLike | Tensor, y: ArrayLike | Tensor, *, logits: ArrayLike | Tensor | None = None
    ) -> Self:
        """Fits on bank embeddings `x` `[N, D]`, labels `y` `[N]` and, where needed, logits `[N, C]`."""
        return self

    @abstractmethod
    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Scores test embeddings `x` `[N, D]` and/or `logits` `[N, C]`; returns `[N]`, higher = ID."""

    def score_dump(self, dump: Dump) -> Tensor:
        """Scores every utterance of a dump; returns `[N]`, higher = ID."""
        return self.score(dump.embeddings, logits=dump.logits)

    def _not_fitted(self) -> NotFittedError:
        return NotFittedError(f"{type(self).__name__} is not fitted: call fit(bank) or fit_features(x, y) first")
