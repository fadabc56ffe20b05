"""Weight-normalised 1-D convolutions with the parameter names of `torch.nn.utils.weight_norm`.

Salimans & Kingma, "Weight Normalization", arXiv 1602.07868: `weight = g * v / ||v||`, the norm taken over
every axis but the first. The official HiFi-Codec checkpoint stores convolutions wrapped by the (now
deprecated) `torch.nn.utils.weight_norm`, i.e. as `weight_g` `[C0, 1, 1]` and `weight_v`; these modules
own exactly those parameters, so the state dict loads unchanged, and compute the weight with the same
kernel (`torch._weight_norm`) that upstream's hook and its `remove_weight_norm` use.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["WNConv1d", "WNConvTranspose1d"]


class _WeightNormed(nn.Module):
    """Holds `weight_g`, `weight_v` and `bias`; subclasses apply the convolution."""

    def __init__(self, shape: tuple[int, int, int], fan_in: int, bias_size: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        v = torch.empty(shape).uniform_(-bound, bound)
        self.bias = nn.Parameter(torch.empty(bias_size).uniform_(-bound, bound))  # key order as upstream's
        self.weight_g = nn.Parameter(torch.linalg.vector_norm(v, dim=(1, 2), keepdim=True))
        self.weight_v = nn.Parameter(v)

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight `g * v / ||v||`."""
        return torch._weight_norm(self.weight_v, self.weight_g, 0)


class WNConv1d(_WeightNormed):
    """`nn.Conv1d` under weight normalisation: `[B, C_in, T]` -> `[B, C_out, T']`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        *,
        dilation: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__((out_channels, in_channels, kernel_size), in_channels * kernel_size, out_channels)
        self.stride, self.dilation, self.padding = stride, dilation, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class WNConvTranspose1d(_WeightNormed):
    """`nn.ConvTranspose1d` under weight normalisation (norm over the output-channel and kernel axes)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, *, padding: int) -> None:
        super().__init__((in_channels, out_channels, kernel_size), out_channels * kernel_size, out_channels)
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding)
