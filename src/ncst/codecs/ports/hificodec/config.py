"""The HiFi-Codec hyper-parameters that shape the network (upstream's `config_24k_320d.json`).

Training-only keys of the upstream JSON (batch size, learning rate, mel settings, ...) are ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["HiFiCodecConfig", "LATENT_DIM"]

#: Width of the encoder output, of each quantised frame and of the generator input (fixed upstream).
LATENT_DIM = 512


@dataclass(frozen=True)
class HiFiCodecConfig:
    """Defaults are `egs/HiFi-Codec-24k-320d/config_24k_320d.json` (24 kHz, hop 320, 2 groups x 2 stages)."""

    sampling_rate: int = 24_000
    resblock: str = "1"
    upsample_rates: tuple[int, ...] = (8, 5, 4, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 11, 8, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    n_code_groups: int = 2
    n_codes: int = 1024

    def __post_init__(self) -> None:
        if self.resblock != "1":
            raise ValueError(f"only HiFi-GAN resblock type '1' is ported, got {self.resblock!r}")
        if LATENT_DIM % self.n_code_groups:
            raise ValueError(f"n_code_groups must divide {LATENT_DIM}, got {self.n_code_groups}")

    @property
    def hop_samples(self) -> int:
        return math.prod(self.upsample_rates)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HiFiCodecConfig:
        """Takes the network keys of an upstream config dict (tuples for lists); other keys are ignored."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if isinstance(value, list):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            kwargs[f.name] = value
        return cls(**kwargs)

    @classmethod
    def from_json(cls, path: str | Path) -> HiFiCodecConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
