"""The NaturalSpeech 3 FACodec (16 kHz): encoder, factorised quantiser + timbre encoder, decoder.

Ju et al., "NaturalSpeech 3", arXiv 2403.03100, section 3.2; released as `amphion/naturalspeech3_facodec`
(`ns3_facodec_encoder.bin`, `ns3_facodec_decoder.bin`) with code in Amphion `models/codec/ns3_codec`.
Shapes of the release (README arguments): encoder ngf 32, strides 2, 4, 5, 5 (hop 200, 80 frames/s),
latent 256; quantiser prosody 1 + content 2 + residual 3 codebooks of 2^10 (dim 8); decoder first
conv 256 -> 1024, upsampling 5, 5, 4, 2; anti-aliased SnakeBeta activations throughout; a global speaker
embedding from a Transformer over the encoder latent scales and shifts the layer-normalised quantised
latent before the waveform decoder.

Keys follow the official files, so both load unchanged; the decoder file's training-only prediction
heads (`*_predictor.*`, e.g. the 62.8 M-parameter `x_timbre_predictor`) are ignored. Written for ncst; no
upstream code is copied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .alias_free import Activation1d
from .layers import WNConv1d, WNConvTranspose1d
from .ns3_timbre import TimbreTransformer
from .vq import LinearResidualVQ

__all__ = ["NS3Encoder", "NS3Decoder", "NS3FACodec", "PREDICTOR_PREFIXES"]

#: Decoder-file entries that only train the factorisation (gradient-reversal and attribute predictors).
PREDICTOR_PREFIXES = (
    "f0_predictor.",
    "phone_predictor.",
    "res_f0_predictor.",
    "res_phone_predictor.",
    "content_f0_predictor.",
    "prosody_phone_predictor.",
    "x_timbre_predictor.",
)


class _ResidualUnit(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Activation1d(channels),
            WNConv1d(channels, channels, 7, dilation=dilation, padding=3 * dilation),
            Activation1d(channels),
            WNConv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class _Block(nn.Module):
    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class NS3Encoder(nn.Module):
    """Waveform `[B, 1, T]` (T a multiple of 200) -> latent `[B, 256, T / 200]` (keys `block.N`)."""

    def __init__(self, ngf: int = 32, strides: Sequence[int] = (2, 4, 5, 5), out_channels: int = 256) -> None:
        super().__init__()
        d = ngf
        layers: list[nn.Module] = [WNConv1d(1, d, 7, padding=3)]
        for s in strides:
            half, d = d, 2 * d
            layers.append(
                _Block(
                    _ResidualUnit(half, 1),
                    _ResidualUnit(half, 3),
                    _ResidualUnit(half, 9),
                    Activation1d(half),
                    WNConv1d(half, d, 2 * s, stride=s, padding=(s + 1) // 2),
                )
            )
        layers += [Activation1d(d), WNConv1d(d, out_channels, 3, padding=1)]
        self.block = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.block(wav)


class NS3Decoder(nn.Module):
    """Quantiser, speaker encoder and waveform decoder of the NS3 FACodec (the `ns3_facodec_decoder.bin` keys).

    Code rows are ordered prosody (1), content (2), residual (3), as upstream's `vq_id`.
    """

    def __init__(
        self,
        in_channels: int = 256,
        upsample_initial_channel: int = 1024,
        up_ratios: Sequence[int] = (5, 5, 4, 2),
        n_q: Sequence[int] = (1, 2, 3),
        codebook_size: int = 1024,
        codebook_dim: int = 8,
    ) -> None:
        super().__init__()
        self.quantizer = nn.ModuleList([LinearResidualVQ(in_channels, n, codebook_size, codebook_dim) for n in n_q])
        layers: list[nn.Module] = [WNConv1d(in_channels, upsample_initial_channel, 7, padding=3)]
        out = upsample_initial_channel
        for i, s in enumerate(up_ratios):
            inp, out = upsample_initial_channel // 2**i, upsample_initial_channel // 2 ** (i + 1)
            layers.append(
                _Block(
                    Activation1d(inp),
                    WNConvTranspose1d(inp, out, 2 * s, stride=s, padding=(s + 1) // 2, output_padding=s % 2),
                    _ResidualUnit(out, 1),
                    _ResidualUnit(out, 3),
                    _ResidualUnit(out, 9),
                )
            )
        layers += [Activation1d(out), WNConv1d(out, 1, 7, padding=3), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.timbre_encoder = TimbreTransformer(4, in_channels, 4, 1024, 5)
        self.timbre_linear = nn.Linear(in_channels, 2 * in_channels)
        with torch.no_grad():
            self.timbre_linear.bias[:in_channels] = 1.0
            self.timbre_linear.bias[in_channels:] = 0.0
        self.timbre_norm = nn.LayerNorm(in_channels, elementwise_affine=False)

    def _parts(self) -> list[LinearResidualVQ]:
        return [q for q in self.quantizer if isinstance(q, LinearResidualVQ)]

    @property
    def n_codebooks(self) -> int:
        return sum(q.n_codebooks for q in self._parts())

    def quantize(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent `[B, 256, F]` -> codes `[B, 6, F]`: prosody and content on the latent, residual on the rest."""
        prosody, content, *rest = self._parts()
        z_p, codes_p = prosody(latent)
        z_c, codes_c = content(latent)
        codes = [codes_p, codes_c]
        for residual in rest:
            codes.append(residual(latent - (z_p + z_c))[1])
        return torch.cat(codes, dim=1)

    def speaker_embedding(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent `[B, 256, F]` -> global speaker embedding `[B, 256]` (side information)."""
        return self.timbre_encoder.embed(latent)

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, 6, F]` -> quantised latent `[B, 256, F]` (upstream's `vq2emb`)."""
        parts = self._parts()
        sizes = [q.n_codebooks for q in parts]
        if codes.shape[1] != sum(sizes):
            raise ValueError(f"expected {sum(sizes)} codebooks, got {codes.shape[1]}")
        out = torch.zeros((), device=codes.device)
        for q, chunk in zip(parts, codes.split(sizes, dim=1)):
            out = out + q.from_codes(chunk)
        return out

    def synthesize(self, quantized: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        """Quantised latent `[B, 256, F]` + speaker `[B, 256]` -> waveform `[B, 1, 200 F]`."""
        gamma, beta = self.timbre_linear(speaker).unsqueeze(2).chunk(2, dim=1)
        x = self.timbre_norm(quantized.transpose(1, 2)).transpose(1, 2)
        return self.model(x * gamma + beta)


class NS3FACodec(nn.Module):
    """Encoder + decoder of the release: `[B, 1, T]` -> codes `[B, 6, T / 200]` + speaker `[B, 256]` -> `[B, 1, T]`."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = NS3Encoder()
        self.decoder = NS3Decoder()

    def encode(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        latent = self.encoder(wav)
        return self.decoder.quantize(latent), self.decoder.speaker_embedding(latent)

    def decode(self, codes: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return self.decoder.synthesize(self.decoder.dequantize(codes), speaker)

    def load_parts(self, encoder: Mapping[str, torch.Tensor], decoder: Mapping[str, torch.Tensor]) -> None:
        """Loads the two official state dicts (strict, bar the decoder's training-only predictors)."""
        self.encoder.load_state_dict(dict(encoder))
        kept = {k: v for k, v in decoder.items() if not k.startswith(PREDICTOR_PREFIXES)}
        self.decoder.load_state_dict(kept)
