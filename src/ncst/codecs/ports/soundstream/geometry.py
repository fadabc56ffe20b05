"""Length arithmetic of the unpadded (`valid`) SoundStream encoder and decoder.

With no padding anywhere, F frames need `320 F + 4994` input samples and decode to `320 F - 5534`
samples, and decoded sample j lines up with input sample `j + 5264` (the receptive-field centres of
encoder and decoder, composed layer by layer). So upstream's `decode(encode(x))` is 10,000-odd
samples shorter than `x` and starts about a third of a second late. `plan_padding` gives the zero
padding that makes the decoded output cover every input sample, aligned: pad `ALIGNMENT_DELAY`
samples on the left and enough on the right, then keep the first `T` output samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .encoder import DILATIONS, STRIDES
from .residual_unit import KERNEL_SIZE

__all__ = [
    "HOP_SAMPLES",
    "ALIGNMENT_DELAY",
    "PaddingPlan",
    "encoder_frames",
    "encoder_input_samples",
    "decoder_output_samples",
    "plan_padding",
]

HOP_SAMPLES = math.prod(STRIDES)  # 320
_UNIT_LOSS = (KERNEL_SIZE - 1) * sum(DILATIONS)  # 78 samples lost by three residual units
_IN_KERNEL, _LATENT_KERNEL, _OUT_KERNEL = 7, 3, 7  # first/last encoder conv, first/last decoder conv


def _encoder_centre_offset() -> float:
    """Input sample at the centre of frame 0's receptive field (frame f: this + 320 f)."""
    offset = (_LATENT_KERNEL - 1) / 2
    for stride in reversed(STRIDES):
        offset = offset * stride + (2 * stride - 1) / 2 + _UNIT_LOSS / 2
    return offset + (_IN_KERNEL - 1) / 2


def _decoder_centre_offset() -> float:
    """Latent frame position (times the hop) that output sample 0 is centred on, negated."""
    pos = (_OUT_KERNEL - 1) / 2  # output j -> j + pos in the last block's output
    scale = 1
    for stride in STRIDES:  # the last decoder block has the first encoder stride
        pos = pos + (_UNIT_LOSS / 2 - (2 * stride - 1) / 2) * scale
        scale *= stride
    return pos + (_IN_KERNEL - 1) / 2 * scale


ALIGNMENT_DELAY = int(_encoder_centre_offset() + _decoder_centre_offset())  # 5264


def encoder_frames(n_samples: int) -> int:
    """Frames the encoder emits for `n_samples` input samples (0 if too short)."""
    n = n_samples - (_IN_KERNEL - 1)
    for stride in STRIDES:
        n = n - _UNIT_LOSS
        n = (n - 2 * stride) // stride + 1 if n >= 2 * stride else 0
    return max(0, n - (_LATENT_KERNEL - 1))


def encoder_input_samples(n_frames: int) -> int:
    """Fewest input samples that give `n_frames` frames (`320 F + 4994`)."""
    n = n_frames + (_LATENT_KERNEL - 1)
    for stride in reversed(STRIDES):
        n = (n - 1) * stride + 2 * stride + _UNIT_LOSS
    return n + (_IN_KERNEL - 1)


def decoder_output_samples(n_frames: int) -> int:
    """Samples the decoder emits for `n_frames` frames (`320 F - 5534`)."""
    n = n_frames - (_OUT_KERNEL - 1)
    for stride in reversed(STRIDES):
        n = (n + 1) * stride - _UNIT_LOSS
    return n - (_OUT_KERNEL - 1)


@dataclass(frozen=True)
class PaddingPlan:
    """Zero padding around a `T`-sample input so the decoded output covers all of it, aligned."""

    left: int
    right: int
    n_frames: int


def plan_padding(n_samples: int) -> PaddingPlan:
    """Pads `ALIGNMENT_DELAY` on the left and as little as possible on the right.

    After `decode(encode(pad(x)))`, output sample j reconstructs input sample j for all j < T.
    """
    if n_samples < 1:
        raise ValueError(f"need at least one sample, got {n_samples}")
    n_frames = math.ceil((n_samples - decoder_output_samples(0)) / HOP_SAMPLES)
    total = encoder_input_samples(n_frames)
    return PaddingPlan(left=ALIGNMENT_DELAY, right=total - ALIGNMENT_DELAY - n_samples, n_frames=n_frames)
