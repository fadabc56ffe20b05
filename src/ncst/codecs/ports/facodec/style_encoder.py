"""Global style (timbre) encoder of the timbre-norm FAcodec: 80-band log-mel `[B, 80, T]` -> `[B, D]`.

Two 1x1 convs with Mish, two gated (GLU) convs with residuals, one multi-head self-attention block
with a residual, a 1x1 output conv and masked average pooling over time. The design is the Meta-StyleSpeech
mel-style encoder (Min et al., arXiv 2106.03153) as used by FAcodec's timbre-norm configuration
(github Plachtaa/FAcodec `modules/style_encoder.py`); keys follow the upstream checkpoints
(`spectral.{0,3}`, `temporal.{0,1}.conv1`, `slf_attn.conv_{q,k,v,o}`, `fc`). Dropout is inactive at
inference and left out. Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["StyleEncoder"]


class _GLUConv(nn.Module):
    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv1d(channels, 2 * channels, kernel_size, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.conv1(x).split(self.channels, dim=1)
        return x + a * torch.sigmoid(b)


class _SelfAttention(nn.Module):
    """Multi-head attention with 1x1-conv projections on `[B, C, T]` (no relative positions)."""

    def __init__(self, channels: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        d = c // self.n_heads

        def heads(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, self.n_heads, d, t).transpose(2, 3)  # [B, H, T, d]

        q, k, v = heads(self.conv_q(x)), heads(self.conv_k(x)), heads(self.conv_v(x))
        scores = torch.matmul(q / math.sqrt(d), k.transpose(-2, -1))
        scores = scores.masked_fill(mask == 0, -1e4)
        out = torch.matmul(F.softmax(scores, dim=-1), v)  # [B, H, T, d]
        return self.conv_o(out.transpose(2, 3).contiguous().view(b, c, t))


class StyleEncoder(nn.Module):
    """Mel `[B, in_dim, T]` + frame mask `[B, 1, T]` -> global style vector `[B, out_dim]`."""

    def __init__(self, in_dim: int = 80, hidden_dim: int = 512, out_dim: int = 1024, n_heads: int = 2) -> None:
        super().__init__()
        self.spectral = nn.Sequential(
            nn.Conv1d(in_dim, hidden_dim, 1), nn.Mish(), nn.Identity(),
            nn.Conv1d(hidden_dim, hidden_dim, 1), nn.Mish(), nn.Identity(),
        )  # fmt: skip
        self.temporal = nn.Sequential(_GLUConv(hidden_dim, 5), _GLUConv(hidden_dim, 5))
        self.slf_attn = _SelfAttention(hidden_dim, n_heads)
        self.fc = nn.Conv1d(hidden_dim, out_dim, 1)

    def forward(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.to(mel.dtype)
        x = self.spectral(mel) * mask
        x = self.temporal(x) * mask
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)  # [B, 1, T, T]
        x = x + self.slf_attn(x, attn_mask)
        x = self.fc(x)
        return x.sum(dim=2) / mask.sum(dim=2)
