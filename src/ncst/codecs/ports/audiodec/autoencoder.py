"""AudioDec's symmetric autoencoder (`symAudioDec`): encoder, projector, residual VQ, symmetric decoder.

Built from the `generator_params` of an upstream `config.yml` (e.g.
`config/autoencoder/symAD_libritts_24000_hop300.yaml`); its state dict has the keys and shapes of
upstream's `models.autoencoder.AudioDec.Generator`, so `checkpoint["model"]["generator"]` loads as is.
Only the configuration the released models use is built (causal, `codec: audiodec`, `projector:
conv1d`, `quantier: residual_vq`, ELU, no weight norm); anything else is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from .decoder import Decoder
from .encoder import Encoder, Projector
from .quantizer import Quantizer

__all__ = ["AutoencoderConfig", "SymAudioDec"]

#: Settings upstream accepts but this port only supports at one value: key -> (supported value, meaning).
_FIXED = {
    "mode": "causal",
    "codec": "audiodec",
    "projector": "conv1d",
    "quantier": "residual_vq",  # sic: upstream's key
    "nonlinear_activation": "ELU",
    "use_weight_norm": False,
}


@dataclass(frozen=True, slots=True)
class AutoencoderConfig:
    """`generator_params` of an AudioDec autoencoder; defaults are `symAD_libritts_24000_hop300`."""

    input_channels: int = 1
    output_channels: int = 1
    encode_channels: int = 32
    decode_channels: int = 32
    code_dim: int = 64
    codebook_num: int = 8
    codebook_size: int = 1024
    bias: bool = True
    enc_ratios: tuple[int, ...] = (2, 4, 8, 16)
    dec_ratios: tuple[int, ...] = (16, 8, 4, 2)
    enc_strides: tuple[int, ...] = (3, 4, 5, 5)
    dec_strides: tuple[int, ...] = (5, 5, 4, 3)

    @property
    def hop_length(self) -> int:
        """Input samples per code frame (product of the encoder strides)."""
        hop = 1
        for s in self.enc_strides:
            hop *= s
        return hop

    @classmethod
    def from_generator_params(cls, params: Mapping[str, Any]) -> AutoencoderConfig:
        """Reads upstream's `generator_params`; raises `ValueError` for settings this port does not build."""
        for key, supported in _FIXED.items():
            if key in params and params[key] != supported:
                raise ValueError(f"AudioDec autoencoder: {key}={params[key]!r} is not supported (only {supported!r})")
        if params.get("nonlinear_activation_params"):
            raise ValueError("AudioDec autoencoder: nonlinear_activation_params must be empty (plain ELU)")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known - set(_FIXED) - {"nonlinear_activation_params"})
        if unknown:
            raise ValueError(f"AudioDec autoencoder: unknown generator_params {unknown}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if k in known}
        return cls(**values)


class SymAudioDec(nn.Module):
    """Keys `encoder.*`, `decoder.*`, `projector.project.*`, `quantizer.codebook.layers.{i}.*`."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        cfg = config or AutoencoderConfig()
        self.config = cfg
        self.encoder = Encoder(cfg.input_channels, cfg.encode_channels, cfg.enc_ratios, cfg.enc_strides, bias=cfg.bias)
        self.decoder = Decoder(
            cfg.code_dim, cfg.output_channels, cfg.decode_channels, cfg.dec_ratios, cfg.dec_strides, bias=cfg.bias
        )
        self.projector = Projector(self.encoder.out_channels, cfg.code_dim)
        self.quantizer = Quantizer(cfg.code_dim, cfg.codebook_num, cfg.codebook_size)

    def embed(self, wav: torch.Tensor) -> torch.Tensor:
        """Waveform `[B, 1, T]` -> code-space vectors `[B, code_dim, ceil(T / hop)]` (before quantisation)."""
        return self.projector(self.encoder(wav))

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """Waveform `[B, 1, T]` -> codes `[B, codebook_num, ceil(T / hop)]`."""
        return self.quantizer.encode(self.embed(wav))

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n_q, F]` -> quantised vectors `[B, code_dim, F]` (the vocoder's input)."""
        return self.quantizer.decode(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes -> waveform `[B, 1, F x hop]` through the symmetric decoder."""
        return self.decoder(self.lookup(codes))
