"""The dilated residual unit of the SoundStream encoder and decoder (SEANet style, unpadded).

Zeghidour et al., "SoundStream: An End-to-End Neural Audio Codec", arXiv 2107.03312, Fig. 2: a dilated
convolution (kernel 7), ELU, a 1x1 convolution, a skip connection and ELU. The kaiidams port this
checkpoint comes from runs every convolution with `padding="valid"`, so each unit shortens its input by
`6 * dilation` samples and the skip path is cropped by half of that on each side.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ResidualUnit"]

KERNEL_SIZE = 7


class ResidualUnit(nn.Module):
    """`[B, C, T]` -> `[B, C, T - 6 * dilation]`.

    Submodule names `conv0` (dilated) and `conv1` (1x1) are those of the official checkpoint.
    """

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.trim = (KERNEL_SIZE // 2) * dilation
        self.conv0 = nn.Conv1d(channels, channels, KERNEL_SIZE, dilation=dilation)
        self.conv1 = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.elu(self.conv0(x)))
        skip = x[:, :, self.trim : x.shape[-1] - self.trim]
        return F.elu(h + skip)
