"""Residual vector quantizer of the kaiidams SoundStream checkpoint (8 codebooks of 1024 x 512).

Each stage picks the codebook row nearest (Euclidean) to the current residual and subtracts it
(arXiv 2107.03312, Algorithm 1). The codebooks live in one buffer `weight` `[Q, K, D]`; the checkpoint
also carries the training statistics `running_mean` `[Q, K, D]` and `code_count` `[Q, K]` of the
EMA codebook update, kept here only so that the official state dict loads unchanged.

Inference here is a pure function of `weight`. Upstream's `forward` also runs the EMA update in eval
mode and then overwrites `weight` with `running_mean / (eps + code_count)`, so upstream's codebook
drifts with every encode call; we do not reproduce that (see docs/codecs.md).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResidualVectorQuantizer"]


class ResidualVectorQuantizer(nn.Module):
    """Latents `[B, F, D]` <-> codes `[B, F, Q]` (upstream's layout: quantizer index last)."""

    weight: torch.Tensor
    running_mean: torch.Tensor
    code_count: torch.Tensor

    def __init__(self, n_quantizers: int = 8, codebook_size: int = 1024, dim: int = 512) -> None:
        super().__init__()
        self.n_quantizers = n_quantizers
        self.codebook_size = codebook_size
        self.dim = dim
        self.register_buffer("weight", torch.rand(n_quantizers, codebook_size, dim))
        self.register_buffer("running_mean", self.weight.clone())
        self.register_buffer("code_count", torch.ones(n_quantizers, codebook_size))

    def encode(self, latents: torch.Tensor) -> torch.Tensor:
        """Greedy residual quantisation: `[B, F, D]` -> int64 `[B, F, Q]`."""
        residual = latents.to(self.weight.dtype)
        codes = []
        for book in self.weight:
            index = torch.cdist(residual, book).argmin(dim=-1)
            codes.append(index)
            residual = residual - book[index]
        return torch.stack(codes, dim=-1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Sum of the selected rows of the first `codes.shape[-1]` codebooks: `[B, F, q]` -> `[B, F, D]`."""
        n = codes.shape[-1]
        if not 0 < n <= self.n_quantizers:
            raise ValueError(f"expected 1..{self.n_quantizers} codebooks in the last axis, got {n}")
        out = self.weight[0][codes[..., 0]]
        for q in range(1, n):
            out = out + self.weight[q][codes[..., q]]
        return out
