"""SoundStream 16 kHz as released by kaiidams/soundstream-pytorch (encoder, RVQ, decoder).

Zeghidour et al., "SoundStream: An End-to-End Neural Audio Codec", arXiv 2107.03312 (2021). This is our
own implementation of the architecture of github.com/kaiidams/soundstream-pytorch at commit 9c6086e
(`hubconf.EncoderDecoder(n_channels=32, num_quantizers=8, num_embeddings=1024, padding="valid")`),
whose v1.0 release `soundstream_16khz-20230425.ckpt` (LibriSpeech train-clean-100) loads into it
unchanged: the `encoder.*`, `decoder.*` and `quantizer.*` entries of its Lightning `state_dict` have
the keys and shapes of this module. Upstream licence: MIT (code and weights).

16 kHz mono, strides 2 x 4 x 5 x 8 = 320 (50 frames/s), 8 codebooks of 1024 entries: 4 kbps.
"""

from __future__ import annotations

import torch
from torch import nn

from .decoder import Decoder
from .encoder import Encoder
from .quantizer import ResidualVectorQuantizer

__all__ = ["SoundStream", "SAMPLE_RATE_HZ"]

SAMPLE_RATE_HZ = 16_000


class SoundStream(nn.Module):
    """Waveform `[B, T]` <-> codes `[B, F, n_quantizers]` with unpadded convolutions.

    `decode(encode(x))` is shorter than `x` (see `geometry`); `encode` needs at least 5314 samples.
    """

    def __init__(self, channels: int = 32, n_quantizers: int = 8, codebook_size: int = 1024) -> None:
        super().__init__()
        self.encoder = Encoder(channels)
        self.decoder = Decoder(channels)
        self.quantizer = ResidualVectorQuantizer(n_quantizers, codebook_size, channels * 16)

    def embed(self, wav: torch.Tensor) -> torch.Tensor:
        """Continuous latents before quantisation: `[B, T]` -> `[B, F, D]`."""
        if wav.ndim != 2:
            raise ValueError(f"expected a waveform batch [B, T], got shape {tuple(wav.shape)}")
        return self.encoder(wav.unsqueeze(1)).transpose(1, 2)

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """`[B, T]` -> int64 codes `[B, F, n_quantizers]`."""
        return self.quantizer.encode(self.embed(wav))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """int64 codes `[B, F, q]` -> waveform `[B, T']`."""
        latents = self.quantizer.decode(codes).transpose(1, 2)
        return self.decoder(latents).squeeze(1)
