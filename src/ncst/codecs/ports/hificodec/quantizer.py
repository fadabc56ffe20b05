"""Group-residual vector quantisation (GRVQ) of HiFi-Codec: 2 stages x 2 groups of 1024 x 256 codebooks.

Yang et al., arXiv 2305.02765, Sec. 3: each 512-dim frame is split into groups (2 x 256); each group is
quantised by a residual VQ of 2 stages, the nearest codebook row by squared Euclidean distance. Codes
are ordered `[stage 0 group 0, stage 0 group 1, stage 1 group 0, stage 1 group 1]`, as upstream's.
Parameter names (`quantizer_modules.{g}.embedding.weight` for stage 0, `quantizer_modules2` for stage 1)
follow the checkpoint; the number of stages (2) is fixed upstream.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from .config import LATENT_DIM

__all__ = ["Codebook", "GroupResidualQuantizer", "N_STAGES"]

N_STAGES = 2


class Codebook(nn.Module):
    """One codebook `embedding.weight` `[K, D]`; `nearest` picks the closest row per input row."""

    def __init__(self, codebook_size: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(codebook_size, dim)
        nn.init.uniform_(self.embedding.weight, -1.0 / codebook_size, 1.0 / codebook_size)

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, D]` -> int64 `[N]`, by `|x|^2 + |e|^2 - 2 x.e` (upstream's expression, for identical ties)."""
        book = self.embedding.weight
        distance = torch.sum(x**2, 1, keepdim=True) + torch.sum(book**2, 1) - 2 * torch.matmul(x, book.T)
        return torch.argmin(distance, 1)


class GroupResidualQuantizer(nn.Module):
    """Latents `[B, 512, F]` <-> codes `[B, F, stages * groups]` (upstream's layout)."""

    def __init__(self, n_groups: int = 2, codebook_size: int = 1024) -> None:
        super().__init__()
        self.n_groups = n_groups
        self.group_dim = LATENT_DIM // n_groups
        self.quantizer_modules = nn.ModuleList(Codebook(codebook_size, self.group_dim) for _ in range(n_groups))
        self.quantizer_modules2 = nn.ModuleList(Codebook(codebook_size, self.group_dim) for _ in range(n_groups))

    def stages(self) -> list[list[Codebook]]:
        """Codebooks per residual stage, each a list over groups."""
        return [[cast(Codebook, m) for m in stage] for stage in (self.quantizer_modules, self.quantizer_modules2)]

    def encode(self, latents: torch.Tensor) -> torch.Tensor:
        """`[B, 512, F]` -> int64 `[B, F, 4]`."""
        batch, _, frames = latents.shape
        residual = latents
        codes: list[torch.Tensor] = []
        for books in self.stages():
            x = residual.transpose(1, 2)  # [B, F, 512]
            groups = torch.split(x.reshape(-1, LATENT_DIM), self.group_dim, dim=-1)
            indices = [book.nearest(g) for g, book in zip(groups, books)]
            picked = torch.cat([book.embedding(i) for i, book in zip(indices, books)], -1).reshape(x.shape)
            quantized = (x + (picked - x)).transpose(1, 2)  # upstream's straight-through value, bit for bit
            residual = residual - quantized
            codes.extend(i.reshape(batch, frames) for i in indices)
        return torch.stack(codes, -1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """int64 `[B, F, 4]` -> `[B, 512, F]`: per stage, the groups' rows side by side, summed over stages."""
        expected = N_STAGES * self.n_groups
        if codes.shape[-1] != expected:
            raise ValueError(f"expected {expected} codes per frame, got {codes.shape[-1]}")
        out = torch.tensor(0.0, device=codes.device)
        for s, books in enumerate(self.stages()):
            columns = codes[..., s * self.n_groups : (s + 1) * self.n_groups].unbind(-1)
            out = out + torch.cat([book.embedding(c) for c, book in zip(columns, books)], -1)
        return out.transpose(1, 2)
