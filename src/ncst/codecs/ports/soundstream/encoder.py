"""The SoundStream encoder: waveform `[B, 1, T]` -> latent frames `[B, 16 C, F]` at T / 320 frames per sample.

Four blocks (strides 2, 4, 5, 8) each run three residual units (dilations 1, 3, 9) and then a strided
convolution with kernel 2 x stride that doubles the channels; a kernel-7 convolution comes first and a
kernel-3 convolution last (arXiv 2107.03312, Fig. 2). Every convolution is unpadded (`valid`), so the
encoder needs context beyond the frames it emits; `ncst.codecs.ports.soundstream.geometry` gives the
arithmetic. Indices inside each `layers` sequence match the official checkpoint keys.
"""

from __future__ import annotations

import torch
from torch import nn

from .residual_unit import ResidualUnit

__all__ = ["EncoderBlock", "Encoder", "STRIDES", "DILATIONS"]

STRIDES = (2, 4, 5, 8)
DILATIONS = (1, 3, 9)


class EncoderBlock(nn.Module):
    """`[B, C/2, T]` -> `[B, C, F]`: three residual units, a strided convolution, ELU."""

    def __init__(self, out_channels: int, stride: int) -> None:
        super().__init__()
        in_channels = out_channels // 2
        units = [ResidualUnit(in_channels, d) for d in DILATIONS]
        down = nn.Conv1d(in_channels, out_channels, kernel_size=2 * stride, stride=stride)
        self.layers = nn.Sequential(*units, down, nn.ELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Encoder(nn.Module):
    """`[B, 1, T]` -> `[B, 16 * channels, F]`."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        blocks = [EncoderBlock(channels * 2 ** (i + 1), s) for i, s in enumerate(STRIDES)]
        width = channels * 2 ** len(STRIDES)
        self.layers = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size=7),
            nn.ELU(),
            *blocks,
            nn.Conv1d(width, width, kernel_size=3),
        )

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.layers(wav)
