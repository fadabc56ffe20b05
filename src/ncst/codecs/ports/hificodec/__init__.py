"""Our torch port of AcademiCodec's HiFi-Codec-24k-320d (see `model`)."""

from __future__ import annotations

from .config import LATENT_DIM, HiFiCodecConfig
from .encoder import Encoder
from .generator import Generator
from .model import CHECKPOINT_PARTS, HiFiCodec
from .quantizer import N_STAGES, Codebook, GroupResidualQuantizer
from .resblock import ResBlock
from .weight_norm import WNConv1d, WNConvTranspose1d

__all__ = [
    "CHECKPOINT_PARTS",
    "LATENT_DIM",
    "N_STAGES",
    "Codebook",
    "Encoder",
    "Generator",
    "GroupResidualQuantizer",
    "HiFiCodec",
    "HiFiCodecConfig",
    "ResBlock",
    "WNConv1d",
    "WNConvTranspose1d",
]
