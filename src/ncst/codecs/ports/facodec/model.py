"""The 24 kHz FAcodec as one module: waveform encoder, factorised quantiser, waveform decoder.

Configuration comes from the upstream `model_params` mapping (`config.yml` of the hub repo
`Plachta/FAcodec`, or Amphion's `config/facodec.json`); checkpoints are `{name: state_dict}` dicts,
optionally nested under `net`, with DataParallel `module.` prefixes. Only `encoder`, `quantizer` and
`decoder` are used at inference; the training-only parts (`fa_predictors`, `discriminator`) are
ignored. Written for ncst; no upstream code is copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .dac_blocks import WaveDecoder, WaveEncoder
from .quantizer import FAQuantizer

__all__ = ["FAcodecConfig", "FAcodec", "split_checkpoint", "detect_timbre_norm"]

INFERENCE_PARTS = ("encoder", "quantizer", "decoder")


@dataclass(frozen=True, slots=True)
class FAcodecConfig:
    """The `model_params` that shape the inference network (defaults: the released configuration)."""

    timbre_norm: bool = True
    causal: bool = True
    lstm: int = 2
    n_c_codebooks: int = 2
    separate_prosody_encoder: bool = True
    encoder_dim: int = 64
    encoder_rates: tuple[int, ...] = (2, 5, 5, 6)
    decoder_dim: int = 1536
    decoder_rates: tuple[int, ...] = (6, 5, 5, 2)
    sample_rate_hz: int = 24_000

    @property
    def hop_length(self) -> int:
        hop = 1
        for r in self.encoder_rates:
            hop *= r
        return hop

    @property
    def n_codebooks(self) -> int:
        return 1 + self.n_c_codebooks + (0 if self.timbre_norm else 2) + 3

    @classmethod
    def from_model_params(cls, params: Mapping[str, Any]) -> FAcodecConfig:
        """Reads upstream `model_params` (missing keys take the released values)."""
        dac = params.get("DAC", {})
        d = cls()
        return cls(
            timbre_norm=bool(params.get("timbre_norm", d.timbre_norm)),
            causal=bool(params.get("causal", d.causal)),
            lstm=int(params.get("lstm", d.lstm)),
            n_c_codebooks=int(params.get("n_c_codebooks", d.n_c_codebooks)),
            separate_prosody_encoder=bool(params.get("separate_prosody_encoder", d.separate_prosody_encoder)),
            encoder_dim=int(dac.get("encoder_dim", d.encoder_dim)),
            encoder_rates=tuple(int(r) for r in dac.get("encoder_rates", d.encoder_rates)),
            decoder_dim=int(dac.get("decoder_dim", d.decoder_dim)),
            decoder_rates=tuple(int(r) for r in dac.get("decoder_rates", d.decoder_rates)),
            sample_rate_hz=int(dac.get("sr", d.sample_rate_hz)),
        )

    def to_model_params(self) -> dict[str, Any]:
        """The upstream `model_params` mapping (`config.yml`) of this configuration."""
        return {
            "causal": self.causal,
            "lstm": self.lstm,
            "n_c_codebooks": self.n_c_codebooks,
            "timbre_norm": self.timbre_norm,
            "separate_prosody_encoder": self.separate_prosody_encoder,
            "DAC": {
                "encoder_dim": self.encoder_dim,
                "encoder_rates": list(self.encoder_rates),
                "decoder_dim": self.decoder_dim,
                "decoder_rates": list(self.decoder_rates),
                "sr": self.sample_rate_hz,
            },
        }


class FAcodec(nn.Module):
    """Waveform `[B, 1, T]` (T a multiple of the hop) -> codes `[B, n, T / hop]` -> waveform `[B, 1, T]`."""

    def __init__(self, config: FAcodecConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = WaveEncoder(
            config.encoder_dim, config.encoder_rates, 1024, causal=config.causal, lstm_layers=config.lstm
        )
        self.quantizer = FAQuantizer(
            1024,
            n_c_codebooks=config.n_c_codebooks,
            causal=config.causal,
            separate_prosody_encoder=config.separate_prosody_encoder,
            timbre_norm=config.timbre_norm,
            sample_rate_hz=config.sample_rate_hz,
            hop_length=config.hop_length,
        )
        self.decoder = WaveDecoder(
            1024, config.decoder_dim, config.decoder_rates, causal=config.causal, lstm_layers=config.lstm
        )

    def encode(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`[B, 1, T]` -> codes `[B, n_codebooks, F]` and the timbre vector `[B, 1024]` (or None)."""
        return self.quantizer.encode(self.encoder(wav), wav)

    def decode(self, codes: torch.Tensor, timbre: torch.Tensor | None = None) -> torch.Tensor:
        """Codes `[B, n_codebooks, F]` -> waveform `[B, 1, F * hop]`."""
        return self.decoder(self.quantizer.decode(codes, timbre))

    def load_parts(self, parts: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        """Loads `{encoder, quantizer, decoder}` state dicts strictly.

        The quantiser's mel buffers (`to_mel.*`) may be absent; they are recomputed.
        """
        for name in INFERENCE_PARTS:
            if name not in parts:
                raise KeyError(f"checkpoint has no {name!r} state dict (has {sorted(parts)})")
            module: nn.Module = getattr(self, name)
            result = module.load_state_dict(dict(parts[name]), strict=False)
            missing = [k for k in result.missing_keys if not k.startswith("to_mel.")]
            if missing or result.unexpected_keys:
                raise KeyError(
                    f"{name}: {len(missing)} missing keys (e.g. {missing[:3]}), "
                    f"{len(result.unexpected_keys)} unexpected keys (e.g. {result.unexpected_keys[:3]})"
                )


def split_checkpoint(obj: Mapping[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """Upstream checkpoint (`{'net': {part: sd}}` or `{part: sd}`) -> `{part: sd}` without `module.`."""
    net = obj.get("net", obj)
    if not isinstance(net, Mapping):
        raise TypeError(f"expected a mapping of module state dicts, got {type(net).__name__}")
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for name, state in net.items():
        if not isinstance(state, Mapping):
            continue
        parts[str(name)] = {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in state.items()}
    return parts


def detect_timbre_norm(quantizer_state: Mapping[str, torch.Tensor]) -> bool:
    """True for the timbre-norm quantiser (style encoder), False for the 2-timbre-codebook one."""
    has_encoder = any(k.startswith("timbre_encoder.") for k in quantizer_state)
    has_codebooks = any(k.startswith("timbre_quantizer.") for k in quantizer_state)
    if has_encoder == has_codebooks:
        raise KeyError("quantizer state dict has neither (or both) timbre_encoder.* and timbre_quantizer.* keys")
    return has_encoder
