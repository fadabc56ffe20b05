"""Mel-LCNN: a light CNN with max-feature-map activations on an 80-band mel power spectrogram.

LCNN: Wu et al., "A Light CNN for Deep Face Representation with Noisy Labels" (arXiv 1511.02683), as used
for anti-spoofing by Lavrentyeva et al. (Interspeech 2019). The layer table, front end and parameter count
(973,799) follow `docs/reference_system.md` §8 (the ST-Codecfake reference `model.py: MELLCNN`, commit
4e099b5); the code is our own.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ncst.models.base import N_CLASSES, N_SAMPLES, SAMPLE_RATE_HZ, SourceTracingModel

__all__ = ["MaxFeatureMap", "MelLCNN"]

log = logging.getLogger(__name__)


class MaxFeatureMap(nn.Module):
    """Splits dimension 1 into two halves and keeps their element-wise maximum (C -> C/2)."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = torch.chunk(x, 2, dim=1)
        return torch.maximum(a, b)


def _conv(in_ch: int, out_ch: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=kernel, padding=kernel // 2)


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, affine=False)


class MelLCNN(SourceTracingModel):
    """Mel-LCNN on `[B, 64600]` waveforms; returns `(embedding [B, 256], logits [B, 7])`.

    Front end: mel power spectrogram (n_fft 512, hop 128, 80 bands, HTK scale, no log), `[B, 1, 80, 505]`.
    """

    name: ClassVar[str] = "mel-lcnn"
    input_description: ClassVar[str] = "waveform [B, 64600] at 16 kHz -> mel power [B, 1, 80, 505]"
    embedding_dim: ClassVar[int] = 256

    def __init__(self, n_samples: int = N_SAMPLES, n_classes: int = N_CLASSES, **extra: Any) -> None:
        super().__init__(n_samples=n_samples, n_classes=n_classes, **extra)
        import torchaudio

        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE_HZ, n_fft=512, hop_length=128, n_mels=80
        )
        mfm = MaxFeatureMap
        pool = nn.MaxPool2d(2, 2)
        self.features = nn.Sequential(
            _conv(1, 64, 5), mfm(), pool,
            _conv(32, 64, 1), mfm(), _bn(32),
            _conv(32, 96, 3), mfm(), pool, _bn(48),
            _conv(48, 96, 1), mfm(), _bn(48),
            _conv(48, 128, 3), mfm(), pool,
            _conv(64, 128, 1), mfm(), _bn(64),
            _conv(64, 64, 3), mfm(), _bn(32),
            _conv(32, 64, 1), mfm(), _bn(32),
            _conv(32, 64, 3), mfm(), pool,
        )  # fmt: skip
        frames = 1 + n_samples // 128
        flat = 32 * (80 // 16) * (frames // 16)
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.7), nn.Linear(flat, 160), mfm(), nn.Linear(80, 256))
        self.classifier = nn.Linear(256, n_classes)

    def forward(self, wave: Tensor) -> tuple[Tensor, Tensor]:
        spec = self.mel(wave).unsqueeze(1)  # [B, 1, 80, frames]
        embedding = self.fc(self.features(spec))
        return embedding, self.classifier(embedding)
