"""`Codes`: the discrete codes a codec emits for a batch, with the measured bitrate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch

__all__ = ["Codes"]


@dataclass(frozen=True, slots=True)
class Codes:
    """Discrete codes of a batch.

    Attributes:
        levels: One LongTensor `[B, n_q, T_level]` per temporal level (one level for plain RVQ codecs,
            several for multi-scale codecs such as SNAC).
        codebook_size: Entries per codebook (bits per code = log2 of it).
        covered_samples: Input samples (at the codec rate, after the codec's own padding) the codes
            stand for; the measured bitrate divides by this duration.
        sample_rate_hz: Codec rate.
        extra: Side information a decoder needs besides the codes (scales, speaker embeddings, the
            original length), never used for the bitrate.
    """

    levels: tuple[torch.Tensor, ...]
    codebook_size: int
    covered_samples: int
    sample_rate_hz: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def tokens_per_item(self) -> int:
        """Codes per batch item, summed over levels and quantizers."""
        return sum(int(level.shape[1] * level.shape[2]) for level in self.levels)

    @property
    def n_quantizers(self) -> int:
        return sum(int(level.shape[1]) for level in self.levels)

    def bitrate_bps(self) -> float:
        """Measured bitrate: tokens/s x log2(codebook_size), from the actual codes."""
        duration_s = self.covered_samples / self.sample_rate_hz
        return self.tokens_per_item * math.log2(self.codebook_size) / duration_s

    def distinct_codes(self) -> int:
        """Number of distinct code values over the whole batch (a degenerate quantiser gives 1)."""
        return int(torch.unique(torch.cat([lv.reshape(-1) for lv in self.levels])).numel())
