"""Vocos' iSTFT head: a linear layer predicts log-magnitude and phase per frame, an inverse STFT makes audio.

For `T` frames, hop `h` and window `n_fft` it emits exactly `T * h` samples ("same" padding, Vocos,
arXiv 2306.00581): the overlap-added frames are trimmed by `(n_fft - h) / 2` samples at both ends and
divided by the overlap-added squared Hann window. `torch.istft` cannot do this trim (its NOLA check
fails at the untrimmed edges), hence the explicit overlap-add.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SameISTFT", "ISTFTHead"]

#: Upper bound on the predicted magnitude (exp of the log-magnitude), as in Vocos.
MAX_MAGNITUDE = 1e2


class SameISTFT(nn.Module):
    """Inverse STFT with "same" padding: complex `[B, n_fft // 2 + 1, T]` -> `[B, T * hop_length]`."""

    window: torch.Tensor

    def __init__(self, n_fft: int, hop_length: int) -> None:
        super().__init__()
        if n_fft <= hop_length or (n_fft - hop_length) % 2:
            raise ValueError(f"n_fft {n_fft} must exceed hop_length {hop_length} by an even number of samples")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.register_buffer("window", torch.hann_window(n_fft))

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """`[B, n_fft, T]` windowed frames -> `[B, (T - 1) * hop + n_fft]` by summing at hop offsets."""
        length = (frames.shape[-1] - 1) * self.hop_length + self.n_fft
        out = F.fold(frames, output_size=(1, length), kernel_size=(1, self.n_fft), stride=(1, self.hop_length))
        return out[:, 0, 0, :]

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if spec.ndim != 3:
            raise ValueError(f"expected a complex spectrogram [B, bins, T], got shape {tuple(spec.shape)}")
        frames = torch.fft.irfft(spec, self.n_fft, dim=1, norm="backward") * self.window[None, :, None]
        n_frames = frames.shape[-1]
        trim = (self.n_fft - self.hop_length) // 2
        audio = self._overlap_add(frames)[:, trim:-trim]
        squared = self.window.square()[None, :, None].expand(1, self.n_fft, n_frames)
        envelope = self._overlap_add(squared)[0, trim:-trim]
        return audio / envelope


class ISTFTHead(nn.Module):
    """Hidden frames `[B, T, dim]` -> audio `[B, T * hop_length]`.

    The linear layer gives `n_fft + 2` values per frame: the log-magnitudes of the `n_fft // 2 + 1`
    bins (exponentiated and capped at 100) followed by their phases.
    """

    def __init__(self, dim: int, n_fft: int, hop_length: int) -> None:
        super().__init__()
        self.out = nn.Linear(dim, n_fft + 2)
        self.istft = SameISTFT(n_fft, hop_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        log_mag, phase = self.out(x).transpose(1, 2).chunk(2, dim=1)  # [B, bins, T] each
        magnitude = torch.exp(log_mag).clamp(max=MAX_MAGNITUDE)
        spec = torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))
        return self.istft(spec)
