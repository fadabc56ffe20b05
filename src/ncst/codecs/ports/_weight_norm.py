"""Weight normalisation with the parameter names of `torch.nn.utils.weight_norm`, shared by every port.

Salimans & Kingma, "Weight Normalization", arXiv 1602.07868: a layer's weight is `g * v / ||v||`, the
norm taken over every axis but the first (`weight_g` is `[out, 1, 1]` for a convolution, `[in, 1, 1]` for
a transposed one, `[out, 1]` for a linear layer). The released FAcodec, HiFi-Codec and AudioDec
checkpoints were trained with torch's (now deprecated) `weight_norm` hook, so their state dicts hold
`weight_g`, `weight_v` and `bias` where a plain layer holds `weight` and `bias`. `WeightNormed` owns
exactly those parameters, so the checkpoints load unchanged, and computes the weight with the kernel the
hook itself uses (`torch._weight_norm`), so results match upstream bit for bit.

One calling convention: wrap a freshly built torch layer (`WeightNormed(nn.Conv1d(...))`). Its random
initialisation (torch's default) becomes the direction, its norm the magnitude, and its stride, padding,
dilation, groups and output padding are kept for `forward`. A port that pads by itself reads `.weight`
and `.bias` as it would from the plain layer.

The only option is `order`, the order in which the parameters are registered (and so listed by
`state_dict()`); names and shapes never differ. torch's hook gives `bias, weight_g, weight_v` (HiFi-Codec
and every upstream); the FAcodec port lists `weight_v, weight_g, bias` and the AudioDec port
`weight_g, weight_v, bias`, orders they had before this module existed and keep so that their state
dicts stay exactly as they were. Loading is by name, so the order never matters for a checkpoint.

Only torch is imported here, never ncst.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["WeightNormed", "TORCH_ORDER", "FACODEC_ORDER", "AUDIODEC_ORDER"]

#: Registration order of torch's `weight_norm` hook (it removes `weight` and appends `_g`, then `_v`).
TORCH_ORDER = ("bias", "weight_g", "weight_v")
#: The FAcodec port's order (`ncst.codecs.ports.facodec.layers`).
FACODEC_ORDER = ("weight_v", "weight_g", "bias")
#: The AudioDec port's order (`ncst.codecs.ports.audiodec.conv`).
AUDIODEC_ORDER = ("weight_g", "weight_v", "bias")


class WeightNormed(nn.Module):
    """A `Conv1d`, `ConvTranspose1d` or `Linear` whose weight is `weight_g * weight_v / ||weight_v||`.

    Args:
        layer: A freshly initialised torch layer; its weight and bias are copied, the layer is not kept.
        order: Registration order of `weight_g`, `weight_v` and `bias` (see the module docstring).

    Shapes: `[B, C_in, T] -> [B, C_out, T']` for the convolutions, `[..., in] -> [..., out]` for `Linear`.
    """

    weight_g: nn.Parameter
    weight_v: nn.Parameter
    bias: nn.Parameter | None

    def __init__(
        self, layer: nn.Conv1d | nn.ConvTranspose1d | nn.Linear, *, order: tuple[str, ...] = TORCH_ORDER
    ) -> None:
        super().__init__()
        if sorted(order) != sorted(TORCH_ORDER):
            raise ValueError(f"order must list {TORCH_ORDER} once each, got {order}")
        weight = layer.weight.detach()
        tensors = {
            "weight_v": weight.clone(),
            "weight_g": torch.linalg.vector_norm(weight, dim=tuple(range(1, weight.ndim)), keepdim=True),
            "bias": None if layer.bias is None else layer.bias.detach().clone(),
        }
        for name in order:
            value = tensors[name]
            self.register_parameter(name, None if value is None else nn.Parameter(value))
        self.transposed = isinstance(layer, nn.ConvTranspose1d)
        self.linear = isinstance(layer, nn.Linear)
        if not self.linear:
            conv: nn.Conv1d | nn.ConvTranspose1d = layer  # type: ignore[assignment]
            self.stride = conv.stride[0]
            self.padding = int(conv.padding[0])  # type: ignore[arg-type]
            self.dilation = conv.dilation[0]
            self.groups = conv.groups
            self.output_padding = conv.output_padding[0]

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight, in the wrapped layer's shape."""
        return torch._weight_norm(self.weight_v, self.weight_g, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.linear:
            return F.linear(x, self.weight, self.bias)
        if self.transposed:
            return F.conv_transpose1d(
                x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups, self.dilation
            )
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
