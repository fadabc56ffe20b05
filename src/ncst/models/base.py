"""What every source-tracing model in ncst provides, and the fixed input length it is trained on.

A model is an `nn.Module` that maps a batch of 16 kHz waveforms `[B, 64600]` to `(embedding [B, D],
logits [B, 7])` (`docs/reference_system.md` §8). Its constructor takes keyword arguments only, and
`config()` returns those arguments as a JSON-able dict, so a checkpoint can record `(name, config)` and
rebuild the model without unpickling code.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from torch import Tensor, nn

__all__ = ["SAMPLE_RATE_HZ", "N_SAMPLES", "N_CLASSES", "SourceTracingModel"]

log = logging.getLogger(__name__)

#: Sample rate every model reads.
SAMPLE_RATE_HZ = 16_000
#: Fixed input length: head crop or repeat pad to 64 600 samples (4.0375 s).
N_SAMPLES = 64_600
#: The 7 in-distribution classes (real + six codecs).
N_CLASSES = 7


class SourceTracingModel(nn.Module):
    """Base class of the built-in models; third-party models may subclass it or only mirror its API.

    Class attributes:
        name: Registry name (``"mel-lcnn"``).
        input_description: What `forward` reads, for ``ncst models``.
        embedding_dim: Width D of the embedding.

    A model whose first stage is a frozen feature extractor may also define `extract_features(wave)`
    and `forward_features(features)`; the trainer then caches the features on disk once.
    """

    name: ClassVar[str] = ""
    input_description: ClassVar[str] = "waveform [B, 64600] at 16 kHz"
    embedding_dim: ClassVar[int] = 0

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self._config = dict(config)

    def config(self) -> dict[str, Any]:
        """Returns the constructor arguments as a JSON-able dict."""
        return dict(self._config)

    def forward(self, wave: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """Maps `[B, 64600]` waveforms to `(embedding [B, D], logits [B, 7])`."""
        raise NotImplementedError

    @property
    def n_samples(self) -> int:
        """Input length the data loader fixes waveforms to (64,600 unless configured otherwise)."""
        return int(self._config.get("n_samples", N_SAMPLES))

    @classmethod
    def loads_pretrained(cls, config: dict[str, Any]) -> bool:
        """Whether `config` makes the constructor load pretrained weights (then no dry build on ``meta``)."""
        return False

    def checkpoint_state(self) -> dict[str, Tensor]:
        """The tensors a checkpoint must hold to rebuild the model (all of them by default)."""
        return dict(self.state_dict())

    def trainable_parameters(self) -> int:
        """Number of parameters with `requires_grad`."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
