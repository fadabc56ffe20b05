"""WavTokenizer's vector quantiser: one 4096 x 512 codebook, nearest neighbour in Euclidean distance.

The codebook is the EMA k-means codebook of EnCodec (buffers `embed`, `embed_avg`, `cluster_size`,
`inited`). Training fills it by k-means on the first batch and EMA updates afterwards; inference only
looks codes up, so this port has no training path and refuses a codebook that was never filled.
Upstream inference (`encode_infer`) uses the first codebook only, whatever `num_quantizers` is; with
the published single-codebook configs encoding is plain nearest-neighbour lookup.

State-dict layout: `vq.layers.<i>._codebook.{inited,cluster_size,embed,embed_avg}` as upstream.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Codebook", "CodebookLayer", "CodebookStack", "VectorQuantizer"]


class Codebook(nn.Module):
    """`codebook_size` vectors of `dim` values (`embed`), plus the EMA statistics training keeps."""

    inited: torch.Tensor
    cluster_size: torch.Tensor
    embed: torch.Tensor
    embed_avg: torch.Tensor

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self.register_buffer("inited", torch.zeros(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", torch.zeros(codebook_size, dim))
        self.register_buffer("embed_avg", torch.zeros(codebook_size, dim))

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the nearest entry for each row of `x` `[N, dim]` -> `[N]`."""
        if not bool(self.inited.item()):
            raise RuntimeError(
                "WavTokenizer codebook is not initialised (inited=0): load a checkpoint or fill `embed` first; "
                "upstream would run k-means on this batch instead"
            )
        embed = self.embed
        distance = x.pow(2).sum(1, keepdim=True) - 2 * x @ embed.t() + embed.pow(2).sum(1)[None, :]
        return distance.argmin(dim=-1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codebook vectors of integer `codes` (any shape) -> `[*codes.shape, dim]`."""
        return F.embedding(codes, self.embed)


class CodebookLayer(nn.Module):
    """One quantiser stage over channel-first latents `[B, dim, T]`."""

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self._codebook = Codebook(dim, codebook_size)

    @property
    def codebook(self) -> Codebook:
        return self._codebook

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """`[B, dim, T]` -> codes `[B, T]`."""
        b, d, t = x.shape
        rows = x.transpose(1, 2).reshape(b * t, d)
        return self._codebook.nearest(rows).view(b, t)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, T]` -> `[B, dim, T]`."""
        return self._codebook.lookup(codes).transpose(1, 2)


class CodebookStack(nn.Module):
    """The list of stages (`layers`), kept as its own module for the upstream key names."""

    def __init__(self, dim: int, codebook_size: int, num_quantizers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([CodebookLayer(dim, codebook_size) for _ in range(num_quantizers)])


class VectorQuantizer(nn.Module):
    """Residual VQ over `[B, dim, T]` latents; WavTokenizer's inference uses `n_q = 1` stage.

    Args:
        dim: Latent and codebook dimension.
        codebook_size: Entries per codebook.
        num_quantizers: Stages held (and kept in the state dict).
    """

    def __init__(self, dim: int, codebook_size: int, num_quantizers: int = 1) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.vq = CodebookStack(dim, codebook_size, num_quantizers)

    @property
    def layers(self) -> nn.ModuleList:
        return self.vq.layers

    def stages(self) -> list[CodebookLayer]:
        """The quantiser stages, typed."""
        return [layer for layer in self.vq.layers if isinstance(layer, CodebookLayer)]

    def encode(self, x: torch.Tensor, n_q: int = 1) -> torch.Tensor:
        """Latents `[B, dim, T]` -> codes `[n_q, B, T]` (each stage quantises the previous residual)."""
        if not 1 <= n_q <= len(self.layers):
            raise ValueError(f"n_q={n_q}: this quantiser has {len(self.layers)} codebooks")
        stages = self.stages()[:n_q]
        residual = x
        codes = []
        for i, stage in enumerate(stages):
            indices = stage.encode(residual)
            codes.append(indices)
            if i + 1 < n_q:
                residual = residual - stage.decode(indices)
        return torch.stack(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[n_q, B, T]` -> the sum of their codebook vectors `[B, dim, T]`."""
        if codes.ndim != 3 or not 1 <= codes.shape[0] <= len(self.layers):
            raise ValueError(f"codes must be [n_q <= {len(self.layers)}, B, T], got {tuple(codes.shape)}")
        stages = self.stages()
        out = stages[0].decode(codes[0])
        for stage, stage_codes in zip(stages[1:], codes[1:]):
            out = out + stage.decode(stage_codes)
        return out
