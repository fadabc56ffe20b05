"""Convolutions of AudioDec: causal, with an explicit left context instead of streaming buffers.

Every causal layer of AudioDec pads on the left only, so output frame `t` sees inputs up to `t`. Upstream
keeps a per-layer `pad_buffer` that its streaming calls fill with the tail of the previous chunk. Here
the same buffer name and shape is kept (so checkpoints load unchanged), and the left padding a layer
uses is chosen by its `context` buffer:

* `context is None` ("forward" padding, upstream's non-streaming `forward`): a causal convolution pads
  with zeros, a causal transposed convolution repeats its first input frame;
* `context` set (`[1, C, P]`): that context is put in front of every batch item, which equals
  upstream's streaming call on one chunk whose buffers hold `context`.

While `recording` is on (batch 1), each call stores the last `P` frames it saw as the new context,
which is how `ncst.codecs.ports.audiodec.streaming.prime` replays upstream's warm-up.

Parameters are named as torch's `nn.Conv1d`/`nn.ConvTranspose1d` name them, with or without the
(old-style) weight normalisation: `weight` or `weight_g` + `weight_v` (`ncst.codecs.ports._weight_norm`),
and `bias`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._weight_norm import AUDIODEC_ORDER, WeightNormed

__all__ = ["conv_weights", "conv1x1", "CausalConv1d", "CausalConvTranspose1d", "CausalLayer"]


def conv_weights(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    groups: int = 1,
    bias: bool = True,
    weight_norm: bool = False,
    transposed: bool = False,
) -> nn.Conv1d | nn.ConvTranspose1d | WeightNormed:
    """The parameters of one 1-D (transposed) convolution, as a torch layer with torch's default init.

    With `weight_norm` the weight is stored as magnitude `weight_g` `[shape[0], 1, 1]` and direction
    `weight_v` (in this port's key order, see `ncst.codecs.ports._weight_norm`). Callers that pad by
    themselves read `.weight` and `.bias`; a 1x1 convolution is used as it is.
    """
    cls = nn.ConvTranspose1d if transposed else nn.Conv1d
    layer = cls(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
    return WeightNormed(layer, order=AUDIODEC_ORDER) if weight_norm else layer


def conv1x1(
    in_channels: int, out_channels: int, *, bias: bool = True, weight_norm: bool = False
) -> nn.Conv1d | nn.ConvTranspose1d | WeightNormed:
    """Pointwise convolution `[B, C_in, T] -> [B, C_out, T]`."""
    return conv_weights(in_channels, out_channels, 1, bias=bias, weight_norm=weight_norm)


class CausalLayer(nn.Module):
    """Shared left-context handling; subclasses define `pad_length` and `_left_default`."""

    pad_length: int
    pad_buffer: torch.Tensor

    def __init__(self, in_channels: int, pad_length: int) -> None:
        super().__init__()
        self.pad_length = pad_length
        self.recording = False
        # Upstream's streaming buffer; part of the checkpoint, used as the state before any warm-up.
        self.register_buffer("pad_buffer", torch.zeros(1, in_channels, pad_length))
        self.context: torch.Tensor | None
        self.register_buffer("context", None, persistent=False)

    def _left_default(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _with_context(self, x: torch.Tensor) -> torch.Tensor:
        """`[B, C, T]` -> `[B, C, P + T]` with the left padding the current mode asks for."""
        if self.context is None:
            left = self._left_default(x)
        else:
            left = self.context.to(x.dtype).expand(x.shape[0], -1, -1)
        padded = torch.cat((left, x), dim=-1)
        if self.recording:
            if x.shape[0] != 1:
                raise ValueError(f"recording a context needs batch 1, got {x.shape[0]}")
            self.context = padded[:, :, padded.shape[-1] - self.pad_length :].detach().clone()
        return padded


class CausalConv1d(CausalLayer):
    """Causal (left-padded) convolution `[B, C_in, T] -> [B, C_out, ceil(T / stride)]`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        weight_norm: bool = False,
    ) -> None:
        super().__init__(in_channels, (kernel_size - 1) * dilation)
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.conv = conv_weights(
            in_channels, out_channels, kernel_size, groups=groups, bias=bias, weight_norm=weight_norm
        )

    def _left_default(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], x.shape[1], self.pad_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self._with_context(x)
        return F.conv1d(padded, self.conv.weight, self.conv.bias, self.stride, 0, self.dilation, self.groups)


class CausalConvTranspose1d(CausalLayer):
    """Causal transposed convolution `[B, C_in, T] -> [B, C_out, T * stride]` (kernel = 2 x stride).

    It looks back `ceil(k / stride) - 1` input frames and drops `stride` output samples at each end.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        *,
        bias: bool = True,
        weight_norm: bool = False,
    ) -> None:
        super().__init__(in_channels, math.ceil(kernel_size / stride) - 1)
        self.stride = stride
        self.deconv = conv_weights(
            in_channels, out_channels, kernel_size, bias=bias, weight_norm=weight_norm, transposed=True
        )

    def _left_default(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :1].expand(-1, -1, self.pad_length)  # upstream's ReplicationPad1d((P, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self._with_context(x)
        y = F.conv_transpose1d(padded, self.deconv.weight, self.deconv.bias, self.stride)
        return y[:, :, self.stride : y.shape[-1] - self.stride]
