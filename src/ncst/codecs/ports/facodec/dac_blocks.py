"""The DAC-style waveform encoder and decoder of the 24 kHz FAcodec.

Architecture: DAC (Kumar et al., "High-Fidelity Audio Compression with Improved RVQGAN", arXiv
2306.06546): strided conv blocks with Snake activations and dilated residual units, here in FAcodec's
form (Ju et al., NaturalSpeech 3, arXiv 2403.03100; re-implementation github Plachtaa/FAcodec and
Amphion `models/codec/facodec`): every conv is an EnCodec streamable conv (causal in the released
configuration) and a two-layer LSTM follows the encoder's last block and the decoder's first conv.
State-dict keys follow the official checkpoints (`block.N...` in the encoder, `model.N...` in the
decoder). Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .layers import SkipLSTM, Snake1d, StreamableConv1d, StreamableConvTranspose1d

__all__ = ["ResidualUnit", "WaveEncoder", "WaveDecoder"]


class ResidualUnit(nn.Module):
    """Snake -> dilated conv (k=7) -> Snake -> conv (k=1), added to the input."""

    def __init__(self, channels: int, dilation: int, *, causal: bool) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Snake1d(channels),
            StreamableConv1d(channels, channels, 7, dilation=dilation, causal=causal),
            Snake1d(channels),
            StreamableConv1d(channels, channels, 1, causal=causal),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        crop = (x.shape[-1] - y.shape[-1]) // 2
        if crop > 0:
            x = x[..., crop:-crop]
        return x + y


class _Block(nn.Module):
    """A named `block` sequence (the upstream EncoderBlock / DecoderBlock level)."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class WaveEncoder(nn.Module):
    """Waveform `[B, 1, T]` -> latent `[B, d_latent, ceil(T / prod(strides))]`.

    Args:
        d_model: Channels after the first conv; doubled by each strided block (64 -> 1024).
        strides: Downsampling factors, `[2, 5, 5, 6]` (hop 300, 80 frames/s at 24 kHz).
        d_latent: Latent channels (1024).
        lstm_layers: Layers of the LSTM after the last block (0: none).
    """

    def __init__(
        self,
        d_model: int = 64,
        strides: Sequence[int] = (2, 5, 5, 6),
        d_latent: int = 1024,
        *,
        causal: bool = True,
        lstm_layers: int = 2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [StreamableConv1d(1, d_model, 7, causal=causal)]
        for stride in strides:
            half, d_model = d_model, d_model * 2
            layers.append(
                _Block(
                    ResidualUnit(half, 1, causal=causal),
                    ResidualUnit(half, 3, causal=causal),
                    ResidualUnit(half, 9, causal=causal),
                    Snake1d(half),
                    StreamableConv1d(half, d_model, 2 * stride, stride=stride, causal=causal),
                )
            )
        if lstm_layers:
            layers.append(SkipLSTM(d_model, lstm_layers))
        layers += [Snake1d(d_model), StreamableConv1d(d_model, d_latent, 3, causal=causal)]
        self.block = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.block(wav)


class WaveDecoder(nn.Module):
    """Latent `[B, d_latent, F]` -> waveform `[B, 1, F * prod(rates)]` in [-1, 1] (tanh).

    Args:
        d_latent: Input channels (1024).
        channels: Channels after the first conv (1536); halved by each upsampling block.
        rates: Upsampling factors, `[6, 5, 5, 2]`.
        lstm_layers: Layers of the LSTM after the first conv (0: none).
    """

    def __init__(
        self,
        d_latent: int = 1024,
        channels: int = 1536,
        rates: Sequence[int] = (6, 5, 5, 2),
        *,
        causal: bool = True,
        lstm_layers: int = 2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [StreamableConv1d(d_latent, channels, 7, causal=causal)]
        if lstm_layers:
            layers.append(SkipLSTM(channels, lstm_layers))
        out = channels
        for i, rate in enumerate(rates):
            inp, out = channels // 2**i, channels // 2 ** (i + 1)
            layers.append(
                _Block(
                    Snake1d(inp),
                    StreamableConvTranspose1d(inp, out, 2 * rate, stride=rate, causal=causal),
                    ResidualUnit(out, 1, causal=causal),
                    ResidualUnit(out, 3, causal=causal),
                    ResidualUnit(out, 9, causal=causal),
                )
            )
        layers += [Snake1d(out), StreamableConv1d(out, 1, 7, causal=causal), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.model(latent)
