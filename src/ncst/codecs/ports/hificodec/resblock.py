"""HiFi-GAN's multi-receptive-field residual block (type "1"), shared by HiFi-Codec's encoder and generator.

Kong et al., "HiFi-GAN", arXiv 2010.05646, Fig. 1 / ResBlock1: three stages, each a dilated convolution and
an undilated one (both weight-normalised, "same" padding), with leaky ReLU (slope 0.1) before each and a
skip around the pair. Parameter names `convs1.{0,1,2}` / `convs2.{0,1,2}` follow the checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .weight_norm import WNConv1d

__all__ = ["ResBlock", "LRELU_SLOPE"]

LRELU_SLOPE = 0.1


def _same_padding(kernel_size: int, dilation: int) -> int:
    return (kernel_size * dilation - dilation) // 2


class ResBlock(nn.Module):
    """`[B, C, T]` -> `[B, C, T]`."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, dilation=d, padding=_same_padding(kernel_size, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, padding=_same_padding(kernel_size, 1)) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.convs1, self.convs2):
            h = dilated(F.leaky_relu(x, LRELU_SLOPE))
            h = plain(F.leaky_relu(h, LRELU_SLOPE))
            x = h + x
        return x
