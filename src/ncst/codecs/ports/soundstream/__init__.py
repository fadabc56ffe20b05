"""Our torch port of the kaiidams SoundStream 16 kHz codec (see `model`)."""

from __future__ import annotations

from .decoder import Decoder, DecoderBlock
from .encoder import Encoder, EncoderBlock
from .geometry import (
    ALIGNMENT_DELAY,
    HOP_SAMPLES,
    PaddingPlan,
    decoder_output_samples,
    encoder_frames,
    encoder_input_samples,
    plan_padding,
)
from .model import SAMPLE_RATE_HZ, SoundStream
from .quantizer import ResidualVectorQuantizer
from .residual_unit import ResidualUnit

__all__ = [
    "ALIGNMENT_DELAY",
    "HOP_SAMPLES",
    "SAMPLE_RATE_HZ",
    "Decoder",
    "DecoderBlock",
    "Encoder",
    "EncoderBlock",
    "PaddingPlan",
    "ResidualUnit",
    "ResidualVectorQuantizer",
    "SoundStream",
    "decoder_output_samples",
    "encoder_frames",
    "encoder_input_samples",
    "plan_padding",
]
