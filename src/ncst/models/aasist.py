"""AASIST on the raw waveform, with a fixed sinc front end and a 7-way head.

Paper: Jung et al., ICASSP 2022 (arXiv 2110.01200); hyperparameters of clovaai/aasist `config/AASIST.conf`.
Shapes and parameter count (298,671) follow `docs/reference_system.md` §8 (ST-Codecfake reference
`rawaasist.py`, commit 4e099b5); the code is our own.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ncst.models.base import N_CLASSES, N_SAMPLES, SAMPLE_RATE_HZ, SourceTracingModel
from ncst.models.graph import SpectroTemporalGraph, make_encoder

__all__ = ["sinc_filterbank", "RawAASIST"]

log = logging.getLogger(__name__)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def sinc_filterbank(n_filters: int = 70, kernel_size: int = 128, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Tensor:
    """Fixed mel-spaced band-pass FIR filters `[n_filters, 1, K]` (K = kernel_size made odd), Hamming-windowed.

    Band edges: `n_filters + 1` points equally spaced in mel between the lowest and highest of the
    257 FFT-bin frequencies `linspace(0, sr/2, 257)`.
    """
    if kernel_size % 2 == 0:
        kernel_size += 1
    bins = np.linspace(0, sample_rate_hz / 2, 257)
    mel = _hz_to_mel(bins)
    edges = _mel_to_hz(np.linspace(mel.min(), mel.max(), n_filters + 1))
    n = np.arange(-(kernel_size - 1) / 2, (kernel_size - 1) / 2 + 1)
    window = np.hamming(kernel_size)
    filters = np.zeros((n_filters, kernel_size))
    for i in range(n_filters):
        lo, hi = edges[i], edges[i + 1]
        high = 2 * hi / sample_rate_hz * np.sinc(2 * hi * n / sample_rate_hz)
        low = 2 * lo / sample_rate_hz * np.sinc(2 * lo * n / sample_rate_hz)
        filters[i] = window * (high - low)
    return torch.tensor(filters, dtype=torch.float32).unsqueeze(1)


class RawAASIST(SourceTracingModel):
    """AASIST on `[B, 64600]` waveforms; returns `(embedding [B, 160], logits [B, 7])`.

    Sinc front end (70 fixed filters, length 129) -> |x|, 3x3 max-pool, BN, SELU -> six residual blocks
    with (1, 3) max-pool -> spectral (23) and temporal (29) node graphs -> HS-GAL -> 160-d readout.
    """

    name: ClassVar[str] = "aasist"
    input_description: ClassVar[str] = "waveform [B, 64600] at 16 kHz -> 70 fixed sinc filters"
    embedding_dim: ClassVar[int] = 160
    sinc: Tensor

    def __init__(self, n_samples: int = N_SAMPLES, n_classes: int = N_CLASSES, **extra: Any) -> None:
        super().__init__(n_samples=n_samples, n_classes=n_classes, **extra)
        # Fixed filters: a buffer, not a parameter (not counted, not trained), kept out of checkpoints.
        self.register_buffer("sinc", sinc_filterbank(), persistent=False)
        self.first_bn = nn.BatchNorm2d(1)
        self.encoder = make_encoder(pool=True)
        self.pos_s = nn.Parameter(torch.randn(1, 23, 64))
        self.graph = SpectroTemporalGraph(pool_ratios=(0.5, 0.7, 0.5, 0.5), n_classes=n_classes)

    def forward(self, wave: Tensor) -> tuple[Tensor, Tensor]:
        x = F.conv1d(wave.unsqueeze(1), self.sinc)  # [B, 70, T - 128]
        x = F.max_pool2d(x.unsqueeze(1).abs(), (3, 3))
        x = F.selu(self.first_bn(x))
        e = self.encoder(x).abs()  # [B, 64, F, T']
        e_s = e.amax(dim=3).transpose(1, 2) + self.pos_s  # [B, F, 64]
        e_t = e.amax(dim=2).transpose(1, 2)  # [B, T', 64]
        return self.graph(e_s, e_t)
