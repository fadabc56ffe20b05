"""Codebook initialisation for random-weight models.

Upstream k-means codebooks (EnCodec, Mimi, SpeechTokenizer, FunCodec) start as all-zero buffers and
are only filled by k-means during training, so a freshly built model maps every frame to code 0 and a
test of the quantiser path proves nothing. `seed_residual_codebooks` fills them the way k-means++
would start: each level's codebook is drawn from the residuals its level actually sees on a
calibration signal, so codes vary with content. `calibration_signal` gives that signal,
`seed_codebooks_from` runs the whole recipe for an adapter, and `ema_codebook_setter` writes the
EMA k-means buffers shared by the EnCodec-style quantisers (`embed`, `embed_avg`, `cluster_size`, `inited`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

__all__ = [
    "calibration_signal",
    "ema_codebook_setter",
    "nearest_code",
    "sample_codebook",
    "seed_codebooks_from",
    "seed_residual_codebooks",
]

#: A callable that installs one `[K, D]` codebook into a model.
CodebookSetter = Callable[[torch.Tensor], None]


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
    setters: Sequence[CodebookSetter],
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


def seed_codebooks_from(
    latents_of: Callable[[torch.Tensor], torch.Tensor],
    setters: Sequence[CodebookSetter],
    codebook_size: int,
    *,
    sample_rate_hz: int,
    duration_s: float,
    seed: int,
    device: torch.device | str | None = None,
) -> None:
    """Seeds residual codebooks from the latents a model computes for a calibration clip.

    Args:
        latents_of: Maps the calibration clip `[1, 1, T]` to `[N, D]` latents in the codebooks' space
            (run under `torch.no_grad`).
        setters: One per quantizer level (see `ema_codebook_setter`).
        codebook_size: Entries per codebook.
        sample_rate_hz: Rate of the calibration clip.
        duration_s: Its length.
        seed: Seed of the clip's noise and the codebook draws (same seed, same model).
        device: Where the clip goes before `latents_of` (default CPU).
    """
    generator = torch.Generator().manual_seed(seed)
    calib = calibration_signal(sample_rate_hz, duration_s, generator=generator)
    if device is not None:
        calib = calib.to(device)
    with torch.no_grad():
        latents = latents_of(calib).detach().cpu().clone()
    with torch.no_grad():
        seed_residual_codebooks(latents, setters, codebook_size, generator=generator)


def ema_codebook_setter(codebook: Any, level: int | None = None) -> CodebookSetter:
    """Setter for an EMA k-means codebook (`embed`, `embed_avg`, `cluster_size`, `inited` buffers).

    This is the layout of EnCodec's `EuclideanCodebook` and of the packages derived from it
    (SpeechTokenizer, FunCodec). With `level`, the buffers are stacked over levels (`[n_q, K, D]`, as in
    FunCodec's distributed RVQ) and level `level` is written. The codebook is marked initialised, so
    upstream's k-means-on-first-batch does not overwrite it.
    """

    def buffer(name: str) -> torch.Tensor:
        data = getattr(codebook, name).data
        return data if level is None else data[level]

    def set_codebook(book: torch.Tensor) -> None:
        embed = buffer("embed")
        embed.copy_(book.to(embed.device))
        buffer("embed_avg").copy_(book.to(embed.device))
        buffer("cluster_size").fill_(1.0)
        buffer("inited").fill_(1.0)

    return set_codebook
