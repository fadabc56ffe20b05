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
(old-style) weight normalisation: `weight` or `weight_g` + `weight_v`, and `bias`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvWeights", "Conv1x1", "CausalConv1d", "CausalConvTranspose1d", "CausalLayer"]


class ConvWeights(nn.Module):
    """The parameters of one 1-D (transposed) convolution.

    Args:
        weight_shape: `[out, in / groups, k]` for a convolution, `[in, out / groups, k]` for a
            transposed one (torch's layouts).
        bias_channels: Length of the bias, or 0 for none.
        weight_norm: Store the weight as magnitude `weight_g` `[shape[0], 1, 1]` and direction
            `weight_v` (torch's `weight_norm(module, dim=0)` parametrisation).
    """

    def __init__(self, weight_shape: tuple[int, int, int], bias_channels: int, *, weight_norm: bool = False) -> None:
        super().__init__()
        self.weight_norm = weight_norm
        direction = torch.empty(weight_shape)
        fan_in = weight_shape[1] * weight_shape[2]
        nn.init.kaiming_uniform_(direction, a=math.sqrt(5))  # torch's default conv initialisation
        if weight_norm:
            self.weight_g = nn.Parameter(torch.linalg.vector_norm(direction, dim=(1, 2), keepdim=True))
            self.weight_v = nn.Parameter(direction)
        else:
            self.weight = nn.Parameter(direction)
        if bias_channels:
            bound = 1.0 / math.sqrt(fan_in)
            self.bias: nn.Parameter | None = nn.Parameter(torch.empty(bias_channels).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def kernel(self) -> torch.Tensor:
        """The effective weight (`g * v / ||v||` per output slice under weight normalisation)."""
        if not self.weight_norm:
            return self.weight
        norm = torch.linalg.vector_norm(self.weight_v, dim=(1, 2), keepdim=True)
        return self.weight_v * (self.weight_g / norm)


class Conv1x1(ConvWeights):
    """Pointwise convolution `[B, C_in, T] -> [B, C_out, T]`."""

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True, weight_norm: bool = False) -> None:
        super().__init__((out_channels, in_channels, 1), out_channels if bias else 0, weight_norm=weight_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.kernel(), self.bias)


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
        self.conv = ConvWeights(
            (out_channels, in_channels // groups, kernel_size), out_channels if bias else 0, weight_norm=weight_norm
        )

    def _left_default(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], x.shape[1], self.pad_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self._with_context(x)
        return F.conv1d(padded, self.conv.kernel(), self.conv.bias, self.stride, 0, self.dilation, self.groups)


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
        self.deconv = ConvWeights(
            (in_channels, out_channels, kernel_size), out_channels if bias else 0, weight_norm=weight_norm
        )

    def _left_default(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :1].expand(-1, -1, self.pad_length)  # upstream's ReplicationPad1d((P, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self._with_context(x)
        y = F.conv_transpose1d(padded, self.deconv.kernel(), self.deconv.bias, self.stride)
        return y[:, :, self.stride : y.shape[-1] - self.stride]
