"""AudioDec's symmetric causal decoder (the autoencoder's own waveform decoder).

The mirror of the encoder: a kernel-7 convolution from the code space to 32 x 16 channels, then one
block per stride (5, 5, 4, 3), each a causal transposed convolution (kernel 2 x stride) followed by
three residual units, then a kernel-7 convolution to audio. The `libritts_v1` codec decodes with the
HiFi-GAN vocoder instead; this decoder is kept because the autoencoder checkpoint holds it (so the
file loads unchanged) and because it gives the symmetric `libritts_sym` reconstruction.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .conv import CausalConv1d, CausalConvTranspose1d
from .residual_unit import ResidualUnit

__all__ = ["DecoderBlock", "Decoder"]


class DecoderBlock(nn.Module):
    """Transposed convolution then residual units: `[B, C_in, F] -> [B, C_out, F x stride]`."""

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
        self.conv = CausalConvTranspose1d(in_channels, out_channels, 2 * stride, stride, bias=bias)
        self.res_units = nn.ModuleList(ResidualUnit(out_channels, d) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        for unit in self.res_units:
            x = unit(x)
        return x


class Decoder(nn.Module):
    """Code-space vectors `[B, code_dim, F]` -> waveform `[B, C_audio, F x prod(strides)]`."""

    def __init__(
        self,
        code_dim: int,
        output_channels: int,
        channels: int,
        ratios: Sequence[int],
        strides: Sequence[int],
        *,
        kernel_size: int = 7,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if len(ratios) != len(strides):
            raise ValueError(f"dec_ratios {list(ratios)} and dec_strides {list(strides)} differ in length")
        widths = [channels * r for r in ratios] + [channels]
        self.conv1 = CausalConv1d(code_dim, widths[0], kernel_size, bias=False)
        self.conv_blocks = nn.ModuleList(
            DecoderBlock(widths[i], widths[i + 1], s, bias=bias) for i, s in enumerate(strides)
        )
        self.conv2 = CausalConv1d(channels, output_channels, kernel_size, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.conv1(z)
        for block in self.conv_blocks:
            x = block(x)
        return self.conv2(x)
