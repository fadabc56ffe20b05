"""WavTokenizer's acoustic tokenizer: SEANet encoder + single-codebook VQ (+ the unused SEANet decoder).

Upstream calls this part the feature extractor (`EncodecFeatures`): an EnCodec-shaped model (`encodec`)
whose encoder strides come from the config and whose quantiser has one 4096-entry codebook of 512-dim
vectors. Its output "features" are the codebook vectors of the codes, which the Vocos backbone decodes.

State-dict layout: `encodec.encoder.*`, `encodec.quantizer.*`, `encodec.decoder.*` as upstream.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import WavTokenizerConfig
from .quantizer import VectorQuantizer
from .seanet import SeanetDecoder, SeanetEncoder

__all__ = ["SeanetVQ", "AcousticTokenizer"]


class SeanetVQ(nn.Module):
    """Container of the encoder, quantiser and (training-only) decoder, named as upstream."""

    def __init__(self, config: WavTokenizerConfig) -> None:
        super().__init__()
        kwargs = {"dimension": config.latent_dim, "n_filters": config.n_filters, "lstm_layers": config.lstm_layers}
        self.encoder = SeanetEncoder(config.downsamples, **kwargs)
        self.quantizer = VectorQuantizer(config.latent_dim, config.codebook_size, config.num_quantizers)
        self.decoder = SeanetDecoder(config.decoder_ratios, **kwargs)


class AcousticTokenizer(nn.Module):
    """Audio `[B, T]` -> codes `[1, B, ceil(T / hop)]`, and codes -> features `[B, 512, frames]`."""

    def __init__(self, config: WavTokenizerConfig) -> None:
        super().__init__()
        self.hop_samples = config.hop_samples
        self.encodec = SeanetVQ(config)

    @property
    def quantizer(self) -> VectorQuantizer:
        return self.encodec.quantizer

    def latents(self, audio: torch.Tensor) -> torch.Tensor:
        """Encoder output before quantisation: `[B, T]` -> `[B, 512, ceil(T / hop)]`."""
        if audio.ndim != 2:
            raise ValueError(f"expected mono audio [B, T], got shape {tuple(audio.shape)}")
        return self.encodec.encoder(audio.unsqueeze(1))

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """`[B, T]` -> codes `[1, B, ceil(T / hop)]` (inference uses the first codebook only)."""
        return self.quantizer.encode(self.latents(audio), n_q=1)

    def features(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[n_q, B, frames]` (or `[n_q, frames]`) -> summed codebook vectors `[B, 512, frames]`."""
        if codes.ndim == 2:
            codes = codes.unsqueeze(1)
        return self.quantizer.decode(codes)
