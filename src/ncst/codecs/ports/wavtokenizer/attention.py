"""The blocks in front of WavTokenizer's Vocos backbone: residual conv blocks and one self-attention block.

WavTokenizer (arXiv 2408.16532, section 3.3) adds attention to the Vocos backbone: before the ConvNeXt
stack the embedded tokens pass `ResnetBlock, ResnetBlock, AttnBlock, ResnetBlock, ResnetBlock,
GroupNorm` (the upstream `pos_net`). The blocks are the 1-D form of the diffusion-model (DDPM / latent
diffusion) residual and single-head attention blocks: GroupNorm(32 groups, eps 1e-6), swish, convolutions.
All of them keep the shape `[B, C, T]`; attention spans the whole utterance (not causal).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["group_norm32", "ResnetBlock", "AttentionBlock", "build_pos_net"]


def group_norm32(channels: int) -> nn.GroupNorm:
    """GroupNorm with 32 groups, eps 1e-6 and an affine transform."""
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    """`x + conv(swish(norm(conv(swish(norm(x))))))` with 3-tap convolutions and dropout before the second."""

    def __init__(self, channels: int, *, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm1 = group_norm32(channels)
        self.conv1 = nn.Conv1d(channels, channels, kernel_size=3, padding=1)
        self.norm2 = group_norm32(channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return x + h


class AttentionBlock(nn.Module):
    """Single-head self-attention over time with 1x1-conv projections and a residual connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = group_norm32(channels)
        self.q = nn.Conv1d(channels, channels, kernel_size=1)
        self.k = nn.Conv1d(channels, channels, kernel_size=1)
        self.v = nn.Conv1d(channels, channels, kernel_size=1)
        self.proj_out = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)  # [B, C, T] each
        scores = torch.bmm(q.transpose(1, 2), k) * (q.shape[1] ** -0.5)  # [B, T_query, T_key]
        weights = torch.softmax(scores, dim=-1)
        attended = torch.bmm(v, weights.transpose(1, 2))  # [B, C, T_query]
        return x + self.proj_out(attended)


def build_pos_net(channels: int, *, dropout: float = 0.1) -> nn.Sequential:
    """Two residual blocks, attention, two residual blocks, GroupNorm (indices 0-5 as upstream)."""
    return nn.Sequential(
        ResnetBlock(channels, dropout=dropout),
        ResnetBlock(channels, dropout=dropout),
        AttentionBlock(channels),
        ResnetBlock(channels, dropout=dropout),
        ResnetBlock(channels, dropout=dropout),
        group_norm32(channels),
    )
