"""The SoundStream decoder: latent frames `[B, 16 C, F]` -> waveform `[B, 1, T']` in [-1, 1].

Mirror of the encoder (arXiv 2107.03312, Fig. 2): a kernel-7 convolution, then four blocks (strides 8,
5, 4, 2) of a transposed convolution with kernel 2 x stride that halves the channels followed by three
residual units (dilations 1, 3, 9), then a kernel-7 convolution to one channel and tanh. Unpadded
(`valid`) throughout, like the encoder.
"""

from __future__ import annotations

import torch
from torch import nn

from .encoder import DILATIONS, STRIDES
from .residual_unit import ResidualUnit

__all__ = ["DecoderBlock", "Decoder"]


class DecoderBlock(nn.Module):
    """`[B, C, F]` -> `[B, C/2, (F + 1) * stride - 6 * 13]`: transposed convolution, ELU, residual units."""

    def __init__(self, in_channels: int, stride: int) -> None:
        super().__init__()
        out_channels = in_channels // 2
        up = nn.ConvTranspose1d(in_channels, out_channels, kernel_size=2 * stride, stride=stride)
        units = [ResidualUnit(out_channels, d) for d in DILATIONS]
        self.layers = nn.Sequential(up, nn.ELU(), *units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Decoder(nn.Module):
    """`[B, 16 * channels, F]` -> `[B, 1, T']`."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        n = len(STRIDES)
        width = channels * 2**n
        blocks = [DecoderBlock(channels * 2 ** (n - i), s) for i, s in enumerate(reversed(STRIDES))]
        self.layers = nn.Sequential(
            nn.Conv1d(width, width, kernel_size=7),
            nn.ELU(),
            *blocks,
            nn.Conv1d(channels, 1, kernel_size=7),
            nn.Tanh(),
        )

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.layers(latents)
