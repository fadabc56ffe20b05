"""AudioDec's residual vector quantiser: 8 codebooks of 1024 x 64, nearest neighbour by Euclidean distance.

The codebooks were trained with EMA updates (van den Oord et al. 2017; residual VQ as in SoundStream,
Zeghidour et al. 2021); at inference only `embed` matters. The buffers keep upstream's names and
layout (`embed` and `embed_avg` `[dim, K]`, `cluster_size` `[K]`) so checkpoints load unchanged.

Codes are per-level indices `[B, n_q, F]` in `[0, K)`. (Upstream's streaming API offsets level `i`
by `i x K` into one stacked table; `flatten_codes` gives that form.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VectorQuantizer", "ResidualVQ", "Quantizer", "flatten_codes"]


class VectorQuantizer(nn.Module):
    """One codebook `embed` `[dim, K]`."""

    embed: torch.Tensor
    cluster_size: torch.Tensor
    embed_avg: torch.Tensor

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        embed = torch.randn(dim, codebook_size)
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed_avg", embed.clone())

    @property
    def codebook(self) -> torch.Tensor:
        """`[K, dim]`."""
        return self.embed.t()

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codeword for each row of `x` `[N, dim]` -> `[N]`.

        ||x||^2 - 2 x.e + ||e||^2 in this order, as upstream computes it, so ties break the same way.
        """
        dist = x.pow(2).sum(1, keepdim=True) - 2 * x @ self.embed + self.embed.pow(2).sum(0, keepdim=True)
        return (-dist).max(1).indices

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[...]` -> codewords `[..., dim]`."""
        return F.embedding(codes, self.codebook)


class ResidualVQ(nn.Module):
    """`layers.{i}` quantise what the previous levels left over."""

    def __init__(self, dim: int, num_quantizers: int, codebook_size: int) -> None:
        super().__init__()
        self.dim, self.codebook_size = dim, codebook_size
        self.layers = nn.ModuleList(VectorQuantizer(dim, codebook_size) for _ in range(num_quantizers))

    @property
    def levels(self) -> list[VectorQuantizer]:
        """`layers` with their type, level 0 first."""
        return [layer for layer in self.layers if isinstance(layer, VectorQuantizer)]

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """Vectors `[B, F, dim]` -> codes `[B, n_q, F]`."""
        batch, frames, _ = z.shape
        residual = z.reshape(-1, self.dim)
        codes = []
        for layer in self.levels:
            idx = layer.nearest(residual)
            # Upstream subtracts the straight-through value r + (q - r), not q itself; keep its rounding.
            quantized = residual + (layer.lookup(idx) - residual)
            residual = residual - quantized
            codes.append(idx.view(batch, frames))
        return torch.stack(codes, dim=1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n_q, F]` -> summed codewords `[B, F, dim]`."""
        if codes.shape[1] != len(self.layers):
            raise ValueError(f"expected {len(self.layers)} code levels, got {codes.shape[1]}")
        parts = torch.stack([layer.lookup(codes[:, i]) for i, layer in enumerate(self.levels)])
        return parts.sum(dim=0)


class Quantizer(nn.Module):
    """Wrapper that puts the residual VQ under the key `codebook` and works channel-first."""

    def __init__(self, code_dim: int, codebook_num: int, codebook_size: int) -> None:
        super().__init__()
        self.codebook = ResidualVQ(code_dim, codebook_num, codebook_size)

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """`[B, code_dim, F]` -> codes `[B, n_q, F]`."""
        return self.codebook.encode(z.transpose(1, 2))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n_q, F]` -> `[B, code_dim, F]`."""
        return self.codebook.decode(codes).transpose(1, 2)


def flatten_codes(codes: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """Per-level codes `[B, n_q, F]` -> upstream's offset form (level i + i x K), same shape."""
    offsets = torch.arange(codes.shape[1], device=codes.device).view(1, -1, 1) * codebook_size
    return codes + offsets
