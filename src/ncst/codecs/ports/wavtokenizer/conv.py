"""Weight-normalised 1-D convolutions with SEANet's non-causal "same" padding.

WavTokenizer reuses the EnCodec SEANet layers (Défossez et al., arXiv 2210.13438): every convolution is
weight-normalised (Salimans & Kingma 2016, `w = g * v / ||v||`, the norm taken over all axes but the
first) and padded so that a stride-`s` convolution turns `T` samples into `ceil(T / s)` frames.

State-dict layout: a padded convolution keeps its weights two modules deep (`<name>.conv.conv.weight_g`,
`.weight_v`, `.bias`; `.convtr.convtr.*` for the transposed one), the layout of the checkpoints trained
with `torch.nn.utils.weight_norm`, so those checkpoints load unchanged (weight normalisation:
`ncst.codecs.ports._weight_norm`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._weight_norm import WeightNormed

__all__ = ["WeightNormConv1d", "WeightNormConvTranspose1d", "PaddedConv1d", "TrimmedConvTranspose1d", "reflect_pad"]


class WeightNormConv1d(WeightNormed):
    """`nn.Conv1d` whose kernel is `weight_g * weight_v / ||weight_v||` (`weight_g`: `[C_out, 1, 1]`)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1, dilation: int = 1
    ) -> None:
        super().__init__(nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation))


class WeightNormConvTranspose1d(WeightNormed):
    """`nn.ConvTranspose1d` with the same weight normalisation (magnitude per input channel, axis 0)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1) -> None:
        super().__init__(nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=stride))


def reflect_pad(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Reflect-pads the last axis; inputs shorter than the padding are first zero-extended on the right.

    `F.pad(mode="reflect")` needs more samples than the padding; for very short clips the signal is
    extended with zeros until it is long enough, reflected, and the zeros are cut off again.
    """
    length = x.shape[-1]
    zeros = max(0, max(left, right) - length + 1)
    if zeros:
        x = F.pad(x, (0, zeros))
    y = F.pad(x, (left, right), mode="reflect")
    return y[..., : y.shape[-1] - zeros] if zeros else y


class _Normed(nn.Module):
    """Holds a convolution under the attribute name the checkpoints use (the norm slot is empty)."""

    def __init__(self, name: str, conv: nn.Module) -> None:
        super().__init__()
        self.add_module(name, conv)
        self._name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv: nn.Module = getattr(self, self._name)
        return conv(x)


class PaddedConv1d(nn.Module):
    """Non-causal SEANet convolution: `[B, C_in, T]` -> `[B, C_out, ceil(T / stride)]`.

    The input is reflect-padded by `k_eff - stride` samples (one more on the left when odd) plus the
    samples that complete the last stride, where `k_eff = (kernel_size - 1) * dilation + 1`.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1, dilation: int = 1
    ) -> None:
        super().__init__()
        self.conv = _Normed(
            "conv", WeightNormConv1d(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation)
        )
        self.stride = stride
        self.effective_kernel = (kernel_size - 1) * dilation + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.effective_kernel - self.stride
        right = total // 2
        completion = -x.shape[-1] % self.stride  # pads T up to a multiple of the stride
        return self.conv(reflect_pad(x, total - right, right + completion))


class TrimmedConvTranspose1d(nn.Module):
    """Non-causal SEANet transposed convolution: `[B, C_in, T]` -> `[B, C_out, T * stride]`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int) -> None:
        super().__init__()
        self.convtr = _Normed(
            "convtr", WeightNormConvTranspose1d(in_channels, out_channels, kernel_size, stride=stride)
        )
        self.trim = kernel_size - stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.convtr(x)
        right = self.trim // 2
        return y[..., self.trim - right : y.shape[-1] - right]
