"""Gated, non-autoregressive WaveNet stack (the prosody encoder of the 24 kHz FAcodec).

Each layer: dilated streamable conv to 2H channels, `tanh(a) * sigmoid(b)`, then a 1x1 conv that feeds
both the residual path (first H channels) and the skip sum (the rest; the last layer feeds only the
skip sum). After WaveNet (van den Oord et al., arXiv 1609.03499) as used in VITS/Glow-TTS; keys follow
the upstream checkpoints (`in_layers.N`, `res_skip_layers.N`). Written for ncst; no upstream code is
copied.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import StreamableConv1d

__all__ = ["GatedWaveNet"]


class GatedWaveNet(nn.Module):
    """`[B, H, T]` (and a mask `[B, 1, T]`) -> `[B, H, T]`, without global conditioning."""

    def __init__(
        self, hidden_channels: int, kernel_size: int, dilation_rate: int, n_layers: int, *, causal: bool
    ) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            self.in_layers.append(
                StreamableConv1d(
                    hidden_channels, 2 * hidden_channels, kernel_size, dilation=dilation_rate**i, causal=causal
                )
            )
            out = 2 * hidden_channels if i < n_layers - 1 else hidden_channels
            self.res_skip_layers.append(StreamableConv1d(hidden_channels, out, 1, causal=causal))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.hidden_channels
        skip = torch.zeros_like(x)
        last = len(self.in_layers) - 1
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            a = in_layer(x)
            acts = torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:])
            out = res_skip(acts)
            if i < last:
                x = (x + out[:, :h]) * mask
                skip = skip + out[:, h:]
            else:
                skip = skip + out
        return skip * mask
