"""ncst's own torch port of the FACodec family (no ncst imports; torch only).

* `model.FAcodec`: the 24 kHz FAcodec of github Plachtaa/FAcodec / Amphion `models/codec/facodec`
  (DAC-style encoder and decoder, factorised quantiser), in both of its configurations.
"""

from __future__ import annotations

from .model import FAcodec, FAcodecConfig, detect_timbre_norm, split_checkpoint
from .quantizer import FAQuantizer

__all__ = ["FAcodec", "FAcodecConfig", "FAQuantizer", "detect_timbre_norm", "split_checkpoint"]
