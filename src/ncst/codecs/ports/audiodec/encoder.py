"""AudioDec's causal convolutional encoder and the projector onto the code space.

Encoder: a kernel-7 input convolution, then one block per stride (3, 4, 5, 5 for the 24 kHz libritts
model: hop 300), each three residual units (dilations 1, 3, 9) followed by a strided causal
convolution (kernel 2 x stride) that widens the channels (32 x [2, 4, 8, 16]). Projector: a kernel-3
causal convolution to the 64-dim code space. Wu et al., "AudioDec", ICASSP 2023 (arXiv 2305.16608),
section 2 and Fig. 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .conv import CausalConv1d
from .residual_unit import ResidualUnit

__all__ = ["EncoderBlock", "Encoder", "Projector"]


class EncoderBlock(nn.Module):
    """Residual units then a strided causal convolution: `[B, C_in, T] -> [B, C_out, ceil(T / stride)]`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        *,
        dilations: Sequence[int] = (1, 3, 9),
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.res_units = nn.ModuleList(ResidualUnit(in_channels, d) for d in dilations)
        self.conv = CausalConv1d(in_channels, out_channels, 2 * stride, stride=stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.res_units:
            x = unit(x)
        return self.conv(x)


class Encoder(nn.Module):
    """Waveform `[B, C_audio, T]` -> latent `[B, channels x ratios[-1], ceil(T / prod(strides))]`."""

    def __init__(
        self,
        input_channels: int,
        channels: int,
        ratios: Sequence[int],
        strides: Sequence[int],
        *,
        kernel_size: int = 7,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if len(ratios) != len(strides):
            raise ValueError(f"enc_ratios {list(ratios)} and enc_strides {list(strides)} differ in length")
        self.conv = CausalConv1d(input_channels, channels, kernel_size, bias=False)
        widths = [channels] + [channels * r for r in ratios]
        self.conv_blocks = nn.ModuleList(
            EncoderBlock(widths[i], widths[i + 1], s, bias=bias) for i, s in enumerate(strides)
        )
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        for block in self.conv_blocks:
            x = block(x)
        return x


class Projector(nn.Module):
    """Latent `[B, C, F]` -> code-space vectors `[B, code_dim, F]` (causal kernel-3 convolution, no bias)."""

    def __init__(self, in_channels: int, code_dim: int, *, kernel_size: int = 3) -> None:
        super().__init__()
        self.project = CausalConv1d(in_channels, code_dim, kernel_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x)
