"""Timbre (speaker) encoder of the NS3 FACodec: a 4-layer pre-norm Transformer over the encoder latent.

Input `[B, T, 256]` -> sinusoidal position table added -> 4 x (LayerNorm, 4-head self-attention,
residual; LayerNorm, conv(k=5) 256 -> 1024, ReLU, Linear 1024 -> 256, residual) -> LayerNorm; the
speaker embedding is its mean over time. Keys follow `amphion/naturalspeech3_facodec`
(`timbre_encoder.position_emb.pe`, `layers.N.{ln_1, self_attn, ln_2, ffn.ffn_1, ffn.ffn_2}`, `last_ln`).

Upstream quirk kept in a batch-independent form: upstream's position table is laid out `[T, 1, d]`
but added to a batch-first tensor, so item `b` of a batch gets row `b` added at every frame. ncst adds
row 0 to every item, which is exactly upstream's single-utterance call (the README's usage), and keeps
an utterance's output independent of its position in a batch. Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TimbreTransformer"]


class _PositionTable(nn.Module):
    pe: torch.Tensor

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        freqs = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * freqs)
        pe[:, 0, 1::2] = torch.cos(position * freqs)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[0]  # row 0 for every item: see the module docstring


class _FeedForward(nn.Module):
    def __init__(self, hidden: int, filter_size: int, kernel_size: int) -> None:
        super().__init__()
        self.ffn_1 = nn.Conv1d(hidden, filter_size, kernel_size, padding=kernel_size // 2)
        self.ffn_2 = nn.Linear(filter_size, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ffn_2(F.relu(self.ffn_1(x.transpose(1, 2)).transpose(1, 2)))


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, filter_size: int, kernel_size: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden)
        self.self_attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(hidden)
        self.ffn = _FeedForward(hidden, filter_size, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.self_attn(h, h, h, need_weights=False)[0]
        return x + self.ffn(self.ln_2(x))


class TimbreTransformer(nn.Module):
    """`[B, T, hidden]` -> `[B, T, hidden]`; `embed` gives the time-averaged speaker embedding `[B, hidden]`."""

    def __init__(
        self, n_layers: int = 4, hidden: int = 256, heads: int = 4, filter_size: int = 1024, kernel_size: int = 5
    ) -> None:
        super().__init__()
        self.position_emb = _PositionTable(hidden)
        self.layers = nn.ModuleList([_Layer(hidden, heads, filter_size, kernel_size) for _ in range(n_layers)])
        self.last_ln = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.position_emb(x)
        for layer in self.layers:
            x = layer(x)
        return self.last_ln(x)

    def embed(self, latent: torch.Tensor) -> torch.Tensor:
        """Encoder latent `[B, hidden, T]` -> speaker embedding `[B, hidden]`."""
        return self.forward(latent.transpose(1, 2)).mean(dim=1)
