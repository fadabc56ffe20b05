"""HiFi-Codec's weight-normalised 1-D convolutions (`weight_g`, `weight_v`, `bias`, torch's key order).

The official HiFi-Codec checkpoint stores every convolution as wrapped by torch's `weight_norm` hook;
`ncst.codecs.ports._weight_norm.WeightNormed` owns exactly those parameters. These two classes only keep
the constructor signatures the HiFi-Codec modules use (stride positional, padding by keyword).
"""

from __future__ import annotations

from torch import nn

from .._weight_norm import WeightNormed

__all__ = ["WNConv1d", "WNConvTranspose1d"]


class WNConv1d(WeightNormed):
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
        super().__init__(nn.Conv1d(in_channels, out_channels, kernel_size, stride, padding=padding, dilation=dilation))


class WNConvTranspose1d(WeightNormed):
    """`nn.ConvTranspose1d` under weight normalisation (norm over the output-channel and kernel axes)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, *, padding: int) -> None:
        super().__init__(nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride, padding=padding))
