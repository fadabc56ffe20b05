"""The WavTokenizer model: acoustic tokenizer, Vocos backbone with attention, iSTFT head.

WavTokenizer: Ji et al., "WavTokenizer: an Efficient Acoustic Discrete Codec Tokenizer for Audio Language
Modeling", arXiv 2408.16532 (ICLR 2025). Upstream github.com/jishengpeng/WavTokenizer (MIT licence),
read at commit 5cf440d91ac420ca338f117b7003a77450d64730; this is our own implementation of the inference
path (`encode_infer`, `codes_to_features`, `decode`), checked against it in
`tests/codecs/test_wavtokenizer_upstream.py`.

One 4096-entry codebook at 75 (hop 320) or 40 (hop 600) tokens/s of 24 kHz audio: 900 or 480 bit/s.

State-dict layout: `feature_extractor.*`, `backbone.*`, `head.*` exactly as the `state_dict` of the
official Lightning checkpoints once their discriminator and loss entries are dropped
(`select_model_state`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .backbone import VocosBackbone
from .config import FRAME75, WavTokenizerConfig
from .head import ISTFTHead
from .tokenizer import AcousticTokenizer

__all__ = ["MODEL_PREFIXES", "WavTokenizer", "select_model_state"]

#: Top-level state-dict prefixes of the model inside a Lightning checkpoint (the rest is training-only).
MODEL_PREFIXES = ("feature_extractor.", "backbone.", "head.")


def select_model_state(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keeps the entries of a Lightning `state_dict` that belong to the model (as upstream's loader does)."""
    return {key: value for key, value in state_dict.items() if key.startswith(MODEL_PREFIXES)}


class WavTokenizer(nn.Module):
    """WavTokenizer for inference.

    Args:
        config: Hyperparameters; `FRAME75` and `FRAME40` are the published ones.
    """

    def __init__(self, config: WavTokenizerConfig = FRAME75) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.feature_extractor = AcousticTokenizer(config)
        self.backbone = VocosBackbone(
            config.latent_dim,
            config.dim,
            config.intermediate_dim,
            config.num_layers,
            adanorm_num_embeddings=config.adanorm_num_embeddings,
        )
        self.head = ISTFTHead(config.dim, config.n_fft, config.hop_length)

    def _condition(self, bandwidth_id: int, device: torch.device) -> torch.Tensor:
        n = self.config.adanorm_num_embeddings
        if n is not None and not 0 <= bandwidth_id < n:
            raise ValueError(f"bandwidth_id {bandwidth_id} out of range; this model has {n} (0 is the one used)")
        return torch.tensor([bandwidth_id], device=device)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """Audio `[B, T]` at 24 kHz -> codes `[1, B, ceil(T / hop)]` (upstream `encode_infer`)."""
        return self.feature_extractor.encode(audio)

    def codes_to_features(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[n_q, B, frames]` -> features `[B, 512, frames]` (codebook vectors)."""
        return self.feature_extractor.features(codes)

    def decode(self, features: torch.Tensor, bandwidth_id: int = 0) -> torch.Tensor:
        """Features `[B, 512, frames]` -> audio `[B, frames * hop]`."""
        hidden = self.backbone(features, self._condition(bandwidth_id, features.device))
        return self.head(hidden)

    def decode_codes(self, codes: torch.Tensor, bandwidth_id: int = 0) -> torch.Tensor:
        """Codes `[n_q, B, frames]` -> audio `[B, frames * hop]`."""
        return self.decode(self.codes_to_features(codes), bandwidth_id)

    def forward(self, audio: torch.Tensor, bandwidth_id: int = 0) -> torch.Tensor:
        """Resynthesis: `[B, T]` -> `[B, ceil(T / hop) * hop]`."""
        return self.decode_codes(self.encode(audio), bandwidth_id)
