"""HiFi-Codec-24k-320d of AcademiCodec: encoder, group-residual quantizer and HiFi-GAN generator.

Yang et al., "HiFi-Codec: Group-residual Vector quantization for High Fidelity Audio Codec", arXiv
2305.02765 (2023). This is our own implementation of the architecture of github.com/yangdongchao/AcademiCodec
(`academicodec/models/hificodec/models.py`: `Encoder`, `Quantizer`, `Generator`, wired as in `vqvae.py`)
for `egs/HiFi-Codec-24k-320d/config_24k_320d.json`. The released checkpoint (Hugging Face
`Dongchao/AcademiCodec`, file `HiFi-Codec-24k-320d`, a dict with `encoder`, `quantizer` and `generator`
state dicts) loads into the three submodules unchanged. Upstream licence: MIT.

24 kHz mono, hop 320 (75 frames/s), 2 stages x 2 groups = 4 codebooks of 1024: 3 kbps. The model
expects peak-normalised input (upstream trains and tokenises at peak 0.95); that is the adapter's job.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .config import HiFiCodecConfig
from .encoder import Encoder
from .generator import Generator
from .quantizer import GroupResidualQuantizer

__all__ = ["HiFiCodec", "CHECKPOINT_PARTS"]

#: Top-level entries of the official checkpoint, one state dict per submodule.
CHECKPOINT_PARTS = ("encoder", "quantizer", "generator")


class HiFiCodec(nn.Module):
    """Waveform `[B, T]` (T >= hop) <-> codes `[B, T // hop, 4]`; decoding gives `hop * F` samples."""

    def __init__(self, config: HiFiCodecConfig | None = None) -> None:
        super().__init__()
        self.config = config or HiFiCodecConfig()
        self.encoder = Encoder(self.config)
        self.quantizer = GroupResidualQuantizer(self.config.n_code_groups, self.config.n_codes)
        self.generator = Generator(self.config)

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """`[B, T]` -> int64 codes `[B, T // hop, 4]` (upstream drops the last `T mod hop` samples too)."""
        if wav.ndim != 2:
            raise ValueError(f"expected a waveform batch [B, T], got shape {tuple(wav.shape)}")
        return self.quantizer.encode(self.encoder(wav.unsqueeze(1)))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """int64 codes `[B, F, 4]` -> waveform `[B, 1, hop * F]`."""
        return self.generator(self.quantizer.decode(codes))

    def load_parts(self, checkpoint: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        """Loads the official `{'encoder': ..., 'quantizer': ..., 'generator': ...}` dict, strictly."""
        for part in CHECKPOINT_PARTS:
            getattr(self, part).load_state_dict(checkpoint[part])

    def parts_state_dict(self) -> dict[str, dict[str, torch.Tensor]]:
        """The checkpoint layout upstream writes (one state dict per submodule)."""
        return {part: getattr(self, part).state_dict() for part in CHECKPOINT_PARTS}
