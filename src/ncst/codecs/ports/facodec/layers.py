"""Convolution building blocks shared by the FAcodec networks: weight-normalised and streamable convs.

The 24 kHz FAcodec (github Plachtaa/FAcodec, Amphion `models/codec/facodec`) builds its DAC-style encoder
and decoder from EnCodec's "streamable" convolutions: a weight-normalised `Conv1d` wrapped twice
(`<name>.conv.conv.weight_g`), padded on the left (causal) or on both sides, with reflect padding and
the extra right padding that makes the last window full. The parameter names here are the names in the
official checkpoints, so their state dicts load unchanged; the weight normalisation itself is
`ncst.codecs.ports._weight_norm.WeightNormed`, shared with the other ports.

Written for ncst from the EnCodec paper (Défossez et al., arXiv 2210.13438, section 3.1) and a reading
of the upstream layout; no upstream code is copied.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._weight_norm import FACODEC_ORDER, WeightNormed

__all__ = [
    "WNConv1d",
    "WNConvTranspose1d",
    "WNLinear",
    "StreamableConv1d",
    "StreamableConvTranspose1d",
    "Snake1d",
    "SkipLSTM",
]


class WNConv1d(WeightNormed):
    """`Conv1d` with weight normalisation, stored as `weight_v`, `weight_g` `[out, 1, 1]` and `bias`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=bias
        )
        super().__init__(conv, order=FACODEC_ORDER)


class WNConvTranspose1d(WeightNormed):
    """`ConvTranspose1d` with weight normalisation over axis 0 (`weight_g` `[in, 1, 1]`)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        output_padding: int = 0,
    ) -> None:
        convtr = nn.ConvTranspose1d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, output_padding=output_padding
        )
        super().__init__(convtr, order=FACODEC_ORDER)


class WNLinear(WeightNormed):
    """`Linear` with weight normalisation over the output axis (`weight_g` `[out, 1]`, `weight_v`)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(nn.Linear(in_features, out_features), order=FACODEC_ORDER)


class _Inner(nn.Module):
    """Holds the convolution as `.conv` (EnCodec's NormConv1d level, which adds no parameters)."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class _InnerTranspose(nn.Module):
    def __init__(self, convtr: nn.Module) -> None:
        super().__init__()
        self.convtr = convtr

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convtr(x)


def _reflect_pad(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Reflect padding that also works when the input is not longer than the padding (zeros first)."""
    length = x.shape[-1]
    widest = max(left, right)
    extra = widest - length + 1 if length <= widest else 0
    if extra:
        x = F.pad(x, (0, extra))
    padded = F.pad(x, (left, right), mode="reflect")
    return padded[..., : padded.shape[-1] - extra]


class StreamableConv1d(nn.Module):
    """A conv that keeps `ceil(T / stride)` frames: causal (all padding on the left) or centred.

    Args:
        weight_norm: Weight-normalised kernel (`conv.conv.weight_g/_v`) or a plain `Conv1d`
            (`conv.conv.weight`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        causal: bool = False,
        weight_norm: bool = True,
    ) -> None:
        super().__init__()
        conv: nn.Module
        if weight_norm:
            conv = WNConv1d(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation)
        else:
            conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation)
        self.conv = _Inner(conv)
        self.causal = causal
        self.stride = stride
        self.effective_kernel = (kernel_size - 1) * dilation + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[B, C_in, T]` -> `[B, C_out, ceil(T / stride)]`."""
        k, s = self.effective_kernel, self.stride
        total = k - s
        length = x.shape[-1]
        frames = math.ceil((length - k + total) / s + 1)
        extra = (frames - 1) * s + k - total - length
        if self.causal:
            x = _reflect_pad(x, total, extra)
        else:
            right = total // 2
            x = _reflect_pad(x, total - right, right + extra)
        return self.conv(x)


class StreamableConvTranspose1d(nn.Module):
    """Weight-normalised transposed conv that returns exactly `stride` samples per input frame."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1, causal: bool = False
    ) -> None:
        super().__init__()
        self.convtr = _InnerTranspose(WNConvTranspose1d(in_channels, out_channels, kernel_size, stride=stride))
        self.causal = causal
        self.trim = kernel_size - stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[B, C_in, T]` -> `[B, C_out, T * stride]`."""
        y = self.convtr(x)
        if self.causal:
            left, right = 0, self.trim
        else:
            right = self.trim // 2
            left = self.trim - right
        return y[..., left : y.shape[-1] - right]


class Snake1d(nn.Module):
    """Snake activation `x + sin^2(alpha x) / alpha` with one `alpha` per channel (`[1, C, 1]`)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(shape[0], shape[1], -1)
        x = x + (self.alpha + 1e-9).reciprocal() * torch.sin(self.alpha * x).pow(2)
        return x.reshape(shape)


class SkipLSTM(nn.Module):
    """A unidirectional LSTM over time on `[B, C, T]` with a residual connection (`lstm.*` keys)."""

    def __init__(self, channels: int, num_layers: int = 2) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, channels, num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.permute(2, 0, 1)  # [T, B, C]
        y, _ = self.lstm(seq)
        return (y + seq).permute(1, 2, 0)
