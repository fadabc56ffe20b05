"""FAcodec's factorised quantiser: prosody, content, (timbre) and residual codebooks.

NaturalSpeech 3 (Ju et al., arXiv 2403.03100, section 3.2) factorises speech into prosody, content,
timbre and acoustic details. The 24 kHz re-implementation (github Plachtaa/FAcodec, Amphion
`models/codec/facodec/modules/quantize.py`) has two configurations, which this module reproduces:

* `timbre_norm=False`: four residual VQs on the encoder latent: prosody (1 codebook, fed by a separate
  prosody encoder on the first 20 log-mel bands when `separate_prosody_encoder`), content (2),
  timbre (2, on what prosody and content left) and residual (3): 8 codebooks of 1024, 6.4 kbps at
  80 frames/s. The decoder input is the sum of all four.
* `timbre_norm=True`: no timbre codebooks (6 codebooks, 4.8 kbps). A style encoder turns the 80-band
  log-mel of the whole utterance into a global timbre vector; the decoder input is the sum of the
  prosody, content and residual parts, layer-normalised and scaled/shifted by `(gamma, beta)` =
  `timbre_linear(timbre)`. The timbre vector is side information, not codes.

Both configurations drop the encoder frames past `floor(T / 300)` when the prosody encoder is separate
(the mel front end keeps `T // 300` frames), so callers pad the input to a multiple of the hop.
Keys follow the upstream checkpoints. Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import StreamableConv1d
from .mel import MelSpectrogram
from .style_encoder import StyleEncoder
from .vq import ResidualVQ
from .wavenet import GatedWaveNet

__all__ = ["FAQuantizer"]

MEL_MEAN, MEL_STD = -4.0, 4.0


class FAQuantizer(nn.Module):
    """Latent `[B, 1024, F]` + waveform `[B, 1, T]` -> codes `[B, n, F']` and back.

    Code rows are ordered prosody, content, timbre (8-codebook configuration only), residual.
    """

    def __init__(
        self,
        in_dim: int = 1024,
        *,
        n_p_codebooks: int = 1,
        n_c_codebooks: int = 2,
        n_t_codebooks: int = 2,
        n_r_codebooks: int = 3,
        codebook_size: int = 1024,
        codebook_dim: int = 8,
        causal: bool = True,
        separate_prosody_encoder: bool = True,
        timbre_norm: bool = False,
        sample_rate_hz: int = 24_000,
        hop_length: int = 300,
    ) -> None:
        super().__init__()

        def rvq(n: int) -> ResidualVQ:
            return ResidualVQ(in_dim, n, codebook_size, codebook_dim)

        self.prosody_quantizer = rvq(n_p_codebooks)
        self.content_quantizer = rvq(n_c_codebooks)
        self.is_timbre_norm = timbre_norm
        if timbre_norm:
            self.timbre_encoder = StyleEncoder(in_dim=80, hidden_dim=512, out_dim=in_dim)
            self.timbre_linear = nn.Linear(in_dim, 2 * in_dim)
            with torch.no_grad():
                self.timbre_linear.bias[:in_dim] = 1.0
                self.timbre_linear.bias[in_dim:] = 0.0
            self.timbre_norm = nn.LayerNorm(in_dim, elementwise_affine=False)
        else:
            self.timbre_quantizer = rvq(n_t_codebooks)
        self.residual_quantizer = rvq(n_r_codebooks)
        self.separate_prosody_encoder = separate_prosody_encoder
        if separate_prosody_encoder:
            self.melspec_linear = StreamableConv1d(20, 256, 1, causal=causal, weight_norm=False)
            self.melspec_encoder = GatedWaveNet(256, 5, 1, 8, causal=causal)
            self.melspec_linear2 = StreamableConv1d(256, in_dim, 1, causal=causal, weight_norm=False)
        self.to_mel = MelSpectrogram(sample_rate_hz, 2048, 1200, hop_length, 80)
        self.hop_length = hop_length

    @property
    def n_codebooks(self) -> int:
        parts = [self.prosody_quantizer, self.content_quantizer, self.residual_quantizer]
        if not self.is_timbre_norm:
            parts.append(self.timbre_quantizer)
        return sum(p.n_codebooks for p in parts)

    def log_mel(self, wav: torch.Tensor, n_bins: int) -> torch.Tensor:
        """Waveform `[B, 1, T]` -> normalised log-mel `[B, n_bins, T // hop]`."""
        mel = self.to_mel(wav.squeeze(1))
        mel = (torch.log(1e-5 + mel) - MEL_MEAN) / MEL_STD
        return mel[:, :n_bins, : int(wav.shape[-1] / self.hop_length)]

    def timbre(self, wav: torch.Tensor) -> torch.Tensor:
        """Global timbre vector `[B, 1024]` of a waveform `[B, 1, T]` (timbre-norm configuration)."""
        mel = self.log_mel(wav, 80)
        mask = torch.ones(mel.shape[0], 1, mel.shape[2], dtype=torch.bool, device=mel.device)
        return self.timbre_encoder(mel, mask)

    def encode(self, z: torch.Tensor, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns codes `[B, n_codebooks, F']` and the timbre vector (None without timbre norm)."""
        timbre = self.timbre(wav) if self.is_timbre_norm else None
        if self.separate_prosody_encoder:
            feats = self.melspec_linear(self.log_mel(wav, 20))
            mask = torch.ones(feats.shape[0], 1, feats.shape[2], dtype=feats.dtype, device=feats.device)
            prosody_in = self.melspec_linear2(self.melspec_encoder(feats, mask))
            frames = min(prosody_in.shape[2], z.shape[2])
            prosody_in, z = prosody_in[:, :, :frames], z[:, :, :frames]
        else:
            prosody_in = z
        z_p, codes_p = self.prosody_quantizer(prosody_in)
        z_c, codes_c = self.content_quantizer(z)
        residual = z - z_p - z_c
        codes = [codes_p, codes_c]
        if not self.is_timbre_norm:
            z_t, codes_t = self.timbre_quantizer(residual)
            residual = residual - z_t
            codes.append(codes_t)
        _, codes_r = self.residual_quantizer(residual)
        codes.append(codes_r)
        return torch.cat(codes, dim=1), timbre

    def decode(self, codes: torch.Tensor, timbre: torch.Tensor | None = None) -> torch.Tensor:
        """Codes `[B, n_codebooks, F]` (+ timbre `[B, 1024]`) -> decoder input `[B, 1024, F]`."""
        parts = [self.prosody_quantizer, self.content_quantizer]
        if not self.is_timbre_norm:
            parts.append(self.timbre_quantizer)
        parts.append(self.residual_quantizer)
        sizes = [p.n_codebooks for p in parts]
        if codes.shape[1] != sum(sizes):
            raise ValueError(f"expected {sum(sizes)} codebooks, got {codes.shape[1]}")
        z = torch.zeros((), device=codes.device)
        for part, chunk in zip(parts, codes.split(sizes, dim=1)):
            z = z + part.from_codes(chunk)
        if not self.is_timbre_norm:
            return z
        if timbre is None:
            raise ValueError("the timbre-norm configuration needs the timbre vector to decode")
        gamma, beta = self.timbre_linear(timbre).unsqueeze(2).chunk(2, dim=1)  # [B, 1024, 1] each
        z = self.timbre_norm(z.transpose(1, 2)).transpose(1, 2)
        return z * gamma + beta
