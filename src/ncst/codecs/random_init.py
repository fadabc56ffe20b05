"""Codebook initialisation for random-weight models.

Upstream k-means codebooks (EnCodec, Mimi, SpeechTokenizer, FunCodec) start as all-zero buffers and
are only filled by k-means during training, so a freshly built model maps every frame to code 0 and a
test of the quantiser path proves nothing. `seed_residual_codebooks` fills them the way k-means++
would start: each level's codebook is drawn from the residuals its level actually sees on a
calibration signal, so codes vary with content. `calibration_signal` gives that signal.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

__all__ = ["calibration_signal", "sample_codebook", "nearest_code", "seed_residual_codebooks"]


def calibration_signal(sample_rate_hz: int, duration_s: float = 1.0, *, generator: torch.Generator) -> torch.Tensor:
    """A speech-like calibration clip `[1, 1, T]`: a rising chirp with bursts of noise, peak 0.5."""
    n = max(1, int(round(duration_s * sample_rate_hz)))
    t = torch.arange(n, dtype=torch.float32) / sample_rate_hz
    f0, f1 = 100.0, min(4000.0, 0.4 * sample_rate_hz)
    phase = 2 * math.pi * (f0 * t + (f1 - f0) * t**2 / (2 * duration_s))
    chirp = torch.sin(phase) * (0.5 + 0.5 * torch.sin(2 * math.pi * 3.0 * t))
    noise = torch.randn(n, generator=generator) * (torch.sin(2 * math.pi * 5.0 * t) > 0.3).float()
    x = chirp + 0.3 * noise
    return (0.5 * x / x.abs().max()).reshape(1, 1, n)


def sample_codebook(residuals: torch.Tensor, codebook_size: int, *, generator: torch.Generator) -> torch.Tensor:
    """Draws `codebook_size` rows of `residuals` `[N, D]` (with replacement) plus small jitter -> `[K, D]`."""
    n = residuals.shape[0]
    idx = torch.randint(0, n, (codebook_size,), generator=generator)
    scale = residuals.std().clamp_min(1e-6) * 0.05
    jitter = torch.randn((codebook_size, residuals.shape[1]), generator=generator) * scale
    return residuals[idx].float() + jitter


def nearest_code(x: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook row (Euclidean) for each row of `x` `[N, D]` -> `[N]`."""
    return torch.cdist(x.float(), codebook.float()).argmin(dim=1)


def seed_residual_codebooks(
    latents: torch.Tensor,
    setters: Sequence[Callable[[torch.Tensor], None]],
    codebook_size: int,
    *,
    generator: torch.Generator,
) -> None:
    """Fills residual-VQ codebooks level by level from calibration latents.

    Args:
        latents: `[N, D]` encoder outputs (in the codebooks' space) of a calibration signal.
        setters: One callable per quantizer level; each receives the `[K, D]` codebook to install
            (writing the upstream buffers and marking them initialised).
        codebook_size: K.
        generator: Seeded generator, so the same seed gives the same model.
    """
    residual = latents.detach().float()
    for set_codebook in setters:
        book = sample_codebook(residual, codebook_size, generator=generator)
        set_codebook(book)
        residual = residual - book[nearest_code(residual, book)]
