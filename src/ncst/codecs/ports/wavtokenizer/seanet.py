"""SEANet encoder (and the decoder the checkpoints carry), as configured by WavTokenizer.

WavTokenizer (Ji et al., "WavTokenizer: an Efficient Acoustic Discrete Codec Tokenizer for Audio Language
Modeling", arXiv 2408.16532) encodes with EnCodec's SEANet (arXiv 2210.13438) widened to a 512-dim latent:
a 7-tap convolution with 32 channels, then per stride one residual unit, ELU and a strided convolution that
doubles the channels, then a 2-layer LSTM with a skip connection, ELU and a 7-tap convolution to 512.

The checkpoints also hold the matching SEANet decoder (8.8 M parameters), left over from training;
inference decodes with the Vocos backbone and iSTFT head instead. It is built here only so that the
state dict is the upstream one, key for key.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .conv import PaddedConv1d, TrimmedConvTranspose1d

__all__ = ["SeanetResidualUnit", "SkipLSTM", "SeanetEncoder", "SeanetDecoder"]


class SeanetResidualUnit(nn.Module):
    """ELU -> conv(k, dilation) to `dim // 2` -> ELU -> 1x1 conv back to `dim`, plus a 1x1 conv skip."""

    def __init__(self, dim: int, *, kernel_size: int = 3, dilation: int = 1, compress: int = 2) -> None:
        super().__init__()
        hidden = dim // compress
        self.block = nn.Sequential(
            nn.ELU(),
            PaddedConv1d(dim, hidden, kernel_size, dilation=dilation),
            nn.ELU(),
            PaddedConv1d(hidden, dim, 1),
        )
        self.shortcut = PaddedConv1d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.block(x)


class SkipLSTM(nn.Module):
    """A unidirectional LSTM over `[B, C, T]` (time-major inside) whose output is added to its input."""

    def __init__(self, dim: int, num_layers: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x.permute(2, 0, 1))  # [T, B, C]
        return y.permute(1, 2, 0) + x


class SeanetEncoder(nn.Module):
    """`[B, 1, T]` audio -> `[B, dimension, ceil(T / prod(ratios))]` latents.

    Args:
        ratios: Strides in decoder order; the encoder applies them from last to first.
        dimension: Latent channels.
        n_filters: Channels after the first convolution.
        lstm_layers: LSTM layers before the last convolution.
    """

    def __init__(
        self, ratios: Sequence[int], *, dimension: int = 512, n_filters: int = 32, lstm_layers: int = 2
    ) -> None:
        super().__init__()
        channels = n_filters
        layers: list[nn.Module] = [PaddedConv1d(1, channels, 7)]
        for stride in reversed(list(ratios)):
            layers += [
                SeanetResidualUnit(channels),
                nn.ELU(),
                PaddedConv1d(channels, 2 * channels, 2 * stride, stride=stride),
            ]
            channels *= 2
        layers += [SkipLSTM(channels, lstm_layers), nn.ELU(), PaddedConv1d(channels, dimension, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class SeanetDecoder(nn.Module):
    """`[B, dimension, T']` latents -> `[B, 1, T' * prod(ratios)]` audio (unused at inference)."""

    def __init__(
        self, ratios: Sequence[int], *, dimension: int = 512, n_filters: int = 32, lstm_layers: int = 2
    ) -> None:
        super().__init__()
        channels = n_filters * 2 ** len(ratios)
        layers: list[nn.Module] = [PaddedConv1d(dimension, channels, 7), SkipLSTM(channels, lstm_layers)]
        for stride in ratios:
            layers += [
                nn.ELU(),
                TrimmedConvTranspose1d(channels, channels // 2, 2 * stride, stride=stride),
                SeanetResidualUnit(channels // 2),
            ]
            channels //= 2
        layers += [nn.ELU(), PaddedConv1d(channels, 1, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z)
