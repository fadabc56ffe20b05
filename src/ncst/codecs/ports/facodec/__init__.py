"""ncst's own torch port of the FACodec family (no ncst imports; torch only).

* `model.FAcodec`: the 24 kHz FAcodec of github Plachtaa/FAcodec / Amphion `models/codec/facodec`
  (DAC-style encoder and decoder, factorised quantiser), in both of its configurations.
* `ns3.NS3FACodec`: the 16 kHz NaturalSpeech 3 FACodec release (`amphion/naturalspeech3_facodec`,
  Amphion `models/codec/ns3_codec`).
"""

from __future__ import annotations

from .model import FAcodec, FAcodecConfig, detect_timbre_norm, split_checkpoint
from .ns3 import NS3FACodec
from .quantizer import FAQuantizer

__all__ = ["FAcodec", "FAcodecConfig", "FAQuantizer", "NS3FACodec", "detect_timbre_norm", "split_checkpoint"]
