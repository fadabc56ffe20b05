"""The dilated residual unit shared by AudioDec's encoder and symmetric decoder.

`x + conv1x1(elu(causal_conv_k7_dilated(elu(x))))`, both convolutions without bias (SoundStream's
residual unit, Zeghidour et al. 2021, as AudioDec uses it).
"""

from __future__ import annotations

import torch
from torch import nn

from .conv import CausalConv1d, conv1x1

__all__ = ["ResidualUnit"]


class ResidualUnit(nn.Module):
    """`[B, C, T] -> [B, C, T]`; keys `conv1.conv.weight`, `conv1.pad_buffer`, `conv2.weight`."""

    def __init__(self, channels: int, dilation: int, *, kernel_size: int = 7) -> None:
        super().__init__()
        self.activation = nn.ELU()
        self.conv1 = CausalConv1d(channels, channels, kernel_size, dilation=dilation, bias=False)
        self.conv2 = conv1x1(channels, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(self.activation(x))
        return x + self.conv2(self.activation(y))
