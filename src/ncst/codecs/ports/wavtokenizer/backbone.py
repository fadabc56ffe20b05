"""The Vocos backbone of WavTokenizer: embedding conv, attention front (`pos_net`), ConvNeXt blocks.

Vocos (Siuzdak, "Vocos: closing the gap between time-domain and Fourier-based neural vocoders", arXiv
2306.00581) keeps the token rate through the whole decoder: a 7-tap embedding convolution, then ConvNeXt
blocks (depthwise 7-tap conv, LayerNorm, pointwise MLP with GELU, learnable per-channel scale, residual).
Its LayerNorms are adaptive (AdaLayerNorm): scale and shift come from an embedding of a condition id, the
`bandwidth_id` that WavTokenizer always sets to 0 at inference. WavTokenizer inserts the attention front
of `attention.py` between the embedding and the first norm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import build_pos_net

__all__ = ["AdaLayerNorm", "ConvNeXtBlock", "VocosBackbone"]


class AdaLayerNorm(nn.Module):
    """LayerNorm without own affine, scaled and shifted by embeddings of a condition id.

    `scale` starts at ones and `shift` at zeros, so an untrained condition is a plain LayerNorm.
    """

    def __init__(self, num_embeddings: int, dim: int, *, eps: float = 1e-6) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.scale = nn.Embedding(num_embeddings, dim)
        self.shift = nn.Embedding(num_embeddings, dim)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """`x` `[B, T, dim]`; `condition` LongTensor `[1]` (shared) or `[B, 1]`."""
        normed = F.layer_norm(x, (self.dim,), eps=self.eps)
        return normed * self.scale(condition) + self.shift(condition)


class ConvNeXtBlock(nn.Module):
    """One ConvNeXt block over `[B, dim, T]`; `norm` is adaptive when `adanorm_num_embeddings` is set."""

    def __init__(self, dim: int, intermediate_dim: int, layer_scale: float, adanorm_num_embeddings: int | None) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm: nn.Module = (
            AdaLayerNorm(adanorm_num_embeddings, dim) if adanorm_num_embeddings else nn.LayerNorm(dim, eps=1e-6)
        )
        self.adaptive = bool(adanorm_num_embeddings)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        h = self.dwconv(x).transpose(1, 2)  # [B, T, dim]
        h = self.norm(h, condition) if self.adaptive else self.norm(h)
        h = self.gamma * self.pwconv2(self.act(self.pwconv1(h)))
        return x + h.transpose(1, 2)


class VocosBackbone(nn.Module):
    """Token features `[B, input_channels, T]` -> hidden frames `[B, T, dim]`.

    Args:
        input_channels: Feature channels (the codebook dimension, 512).
        dim: Model width.
        intermediate_dim: ConvNeXt MLP width.
        num_layers: ConvNeXt blocks.
        adanorm_num_embeddings: Condition ids of the adaptive norms (None: plain LayerNorm).
    """

    def __init__(
        self,
        input_channels: int,
        dim: int,
        intermediate_dim: int,
        num_layers: int,
        adanorm_num_embeddings: int | None = None,
    ) -> None:
        super().__init__()
        self.embed = nn.Conv1d(input_channels, dim, kernel_size=7, padding=3)
        self.adaptive = bool(adanorm_num_embeddings)
        self.norm: nn.Module = (
            AdaLayerNorm(adanorm_num_embeddings, dim) if adanorm_num_embeddings else nn.LayerNorm(dim, eps=1e-6)
        )
        self.convnext = nn.ModuleList(
            [ConvNeXtBlock(dim, intermediate_dim, 1.0 / num_layers, adanorm_num_embeddings) for _ in range(num_layers)]
        )
        self.final_layer_norm = nn.LayerNorm(dim, eps=1e-6)
        for module in [self.embed, self.convnext]:
            module.apply(_init_vocos)
        self.pos_net = build_pos_net(dim)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if self.adaptive and condition is None:
            raise ValueError("this backbone has adaptive norms: pass the condition id (bandwidth_id)")
        h = self.pos_net(self.embed(x)).transpose(1, 2)  # [B, T, dim]
        h = self.norm(h, condition) if self.adaptive else self.norm(h)
        h = h.transpose(1, 2)
        for block in self.convnext:
            h = block(h, condition)
        return self.final_layer_norm(h.transpose(1, 2))


def _init_vocos(module: nn.Module) -> None:
    """Vocos' initialisation of convolutions and linear layers: truncated normal (std 0.02), zero bias."""
    if isinstance(module, (nn.Conv1d, nn.Linear)):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
