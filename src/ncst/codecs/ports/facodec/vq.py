"""Residual vector quantisation with factorised, L2-normalised codes (DAC / FAcodec).

Each level projects the residual to a low-dimensional space (1x1 weight-normalised conv, 1024 -> 8),
picks the codebook row with the largest cosine similarity, looks the (unnormalised) row up and
projects it back (8 -> 1024). From DAC (Kumar et al., arXiv 2306.06546, section 3.2, after Yu et al.'s
improved VQGAN); keys follow the upstream checkpoints (`quantizers.N.in_proj / out_proj / codebook`).
The NS3 FACodec release uses the same scheme with weight-normalised `Linear` projections and a
`_codebook` table under `layers.N` (`LinearFactorizedVQ`, `LinearResidualVQ`). Written for ncst; no
upstream code is copied.
"""

from __future__ import annotations

from typing import Protocol, Sequence, cast

import torch
import torch.nn.functional as F
from torch import nn

from .layers import WNConv1d, WNLinear

__all__ = ["FactorizedVQ", "ResidualVQ", "LinearFactorizedVQ", "LinearResidualVQ"]


class _Level(Protocol):
    def encode(self, z: torch.Tensor) -> torch.Tensor: ...
    def decode(self, codes: torch.Tensor) -> torch.Tensor: ...


def _nearest_rows(flat: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest L2-normalised `codebook` row `[K, d]` for each normalised row of `flat` `[N, d]`."""
    flat = F.normalize(flat)
    book = F.normalize(codebook)
    dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ book.t() + book.pow(2).sum(1, keepdim=True).t()
    return (-dist).max(1)[1]


def _quantize_residual(levels: Sequence[_Level], z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each level quantises what the previous ones left: (quantised `[B, D, T]`, codes `[B, n, T]`)."""
    residual = z
    quantized = torch.zeros_like(z)
    codes = []
    for level in levels:
        idx = level.encode(residual)
        q = level.decode(idx)
        quantized = quantized + q
        residual = residual - q
        codes.append(idx)
    return quantized, torch.stack(codes, dim=1)


def _sum_levels(levels: Sequence[_Level], codes: torch.Tensor) -> torch.Tensor:
    """Codes `[B, n, T]` (n <= len(levels)) -> the sum of the first n levels' vectors `[B, D, T]`."""
    out = torch.zeros((), device=codes.device)
    for i, level in zip(range(codes.shape[1]), levels):
        out = out + level.decode(codes[:, i])
    return out


class FactorizedVQ(nn.Module):
    """One quantiser level: `codebook_size` entries of `codebook_dim`, compared by cosine similarity."""

    def __init__(self, input_dim: int, codebook_size: int, codebook_dim: int) -> None:
        super().__init__()
        self.in_proj = WNConv1d(input_dim, codebook_dim, 1)
        self.out_proj = WNConv1d(codebook_dim, input_dim, 1)
        self.codebook = nn.Embedding(codebook_size, codebook_dim)

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """`[B, D, T]` -> codes `[B, T]` (nearest L2-normalised codebook row)."""
        latents = self.in_proj(z)
        b, d, t = latents.shape
        return _nearest_rows(latents.transpose(1, 2).reshape(b * t, d), self.codebook.weight).reshape(b, t)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, T]` -> quantised vectors `[B, D, T]` in the input space."""
        return self.out_proj(self.codebook(codes).transpose(1, 2))


class ResidualVQ(nn.Module):
    """`n_codebooks` levels, each quantising what the previous ones left."""

    def __init__(self, input_dim: int, n_codebooks: int, codebook_size: int = 1024, codebook_dim: int = 8) -> None:
        super().__init__()
        self.quantizers = nn.ModuleList(
            [FactorizedVQ(input_dim, codebook_size, codebook_dim) for _ in range(n_codebooks)]
        )

    @property
    def n_codebooks(self) -> int:
        return len(self.quantizers)

    def levels(self) -> list[FactorizedVQ]:
        return [cast(FactorizedVQ, q) for q in self.quantizers]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, D, T]` -> (quantised `[B, D, T]`, codes `[B, n_codebooks, T]`)."""
        return _quantize_residual(self.levels(), z)

    def from_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n, T]` (n <= n_codebooks) -> quantised `[B, D, T]`."""
        return _sum_levels(self.levels(), codes)


class LinearFactorizedVQ(nn.Module):
    """The NS3 FACodec's factorised VQ level: weight-normalised `Linear` projections, `_codebook` table."""

    def __init__(self, input_dim: int, codebook_size: int, codebook_dim: int) -> None:
        super().__init__()
        self.in_proj = WNLinear(input_dim, codebook_dim)
        self.out_proj = WNLinear(codebook_dim, input_dim)
        self._codebook = nn.Embedding(codebook_size, codebook_dim)

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """`[B, D, T]` -> codes `[B, T]` (nearest L2-normalised codebook row)."""
        latents = self.in_proj(z.transpose(1, 2))  # [B, T, d]
        b, t, d = latents.shape
        return _nearest_rows(latents.reshape(b * t, d), self._codebook.weight).reshape(b, t)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, T]` -> `[B, D, T]`."""
        return self.out_proj(self._codebook(codes)).transpose(1, 2)


class LinearResidualVQ(nn.Module):
    """Residual stack of `LinearFactorizedVQ` levels (`layers.N` keys)."""

    def __init__(self, input_dim: int, n_codebooks: int, codebook_size: int = 1024, codebook_dim: int = 8) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [LinearFactorizedVQ(input_dim, codebook_size, codebook_dim) for _ in range(n_codebooks)]
        )

    @property
    def n_codebooks(self) -> int:
        return len(self.layers)

    def levels(self) -> list[LinearFactorizedVQ]:
        return [cast(LinearFactorizedVQ, q) for q in self.layers]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, D, T]` -> (quantised `[B, D, T]`, codes `[B, n_codebooks, T]`)."""
        return _quantize_residual(self.levels(), z)

    def from_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n, T]` -> quantised `[B, D, T]`."""
        return _sum_levels(self.levels(), codes)
