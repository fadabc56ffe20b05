"""Log-mel front end of the FAcodec quantiser (prosody input and timbre-encoder input).

A power mel spectrogram at 24 kHz (n_fft 2048, Hann window 1200, hop 300, 80 HTK-mel bands from 0 Hz to
Nyquist, centred frames with reflect padding), then `(log(mel + 1e-5) + 4) / 4`. It reproduces
`torchaudio.transforms.MelSpectrogram` with those settings, including its state-dict buffers
(`spectrogram.window`, `mel_scale.fb`), so the quantiser's official keys load unchanged without
torchaudio. Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MelSpectrogram", "htk_mel_filterbank"]


def htk_mel_filterbank(n_freqs: int, n_mels: int, sample_rate_hz: int, f_min: float = 0.0) -> torch.Tensor:
    """Triangular filters on the HTK mel scale, unnormalised: `[n_freqs, n_mels]`."""
    f_max = sample_rate_hz / 2
    freqs = torch.linspace(0, f_max, n_freqs)

    def to_mel(f: float) -> float:
        return 2595.0 * math.log10(1.0 + f / 700.0)

    mels = torch.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2)
    edges = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    widths = edges[1:] - edges[:-1]
    slopes = edges.unsqueeze(0) - freqs.unsqueeze(1)  # [n_freqs, n_mels + 2]
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    return torch.clamp(torch.min(down, up), min=0.0)


class _Spectrogram(nn.Module):
    window: torch.Tensor

    def __init__(self, n_fft: int, win_length: int, hop_length: int) -> None:
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.register_buffer("window", torch.hann_window(win_length))

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            wav,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        return spec.abs().pow(2.0)


class _MelScale(nn.Module):
    fb: torch.Tensor

    def __init__(self, n_mels: int, sample_rate_hz: int, n_freqs: int) -> None:
        super().__init__()
        self.register_buffer("fb", htk_mel_filterbank(n_freqs, n_mels, sample_rate_hz))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(nn.Module):
    """Power mel spectrogram `[B, T]` -> `[B, n_mels, T // hop + 1]`."""

    def __init__(
        self,
        sample_rate_hz: int = 24_000,
        n_fft: int = 2048,
        win_length: int = 1200,
        hop_length: int = 300,
        n_mels: int = 80,
    ) -> None:
        super().__init__()
        self.spectrogram = _Spectrogram(n_fft, win_length, hop_length)
        self.mel_scale = _MelScale(n_mels, sample_rate_hz, n_fft // 2 + 1)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.mel_scale(self.spectrogram(wav))
