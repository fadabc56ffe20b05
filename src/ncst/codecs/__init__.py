"""Neural audio codec adapters behind one interface (see `ncst.codecs.base`).

Adapter modules are imported lazily by the registry, so `import ncst.codecs` never imports an
upstream codec package.
"""

from __future__ import annotations

from ncst.codecs.base import Codec, CodecCard, Codes, WeightsSpec, fit_length, parse_weights
from ncst.codecs.registry import (
    ENTRY_POINT_GROUP,
    CodecSpec,
    available_codecs,
    codec_class,
    get_card,
    get_codec,
    list_cards,
    parse_spec,
    register_codec,
)
from ncst.codecs.weight_plan import WeightsPlan, as_weights_plan, parse_weights_options, weights_label

__all__ = [
    "Codec",
    "CodecCard",
    "Codes",
    "WeightsSpec",
    "fit_length",
    "parse_weights",
    "WeightsPlan",
    "as_weights_plan",
    "parse_weights_options",
    "weights_label",
    "ENTRY_POINT_GROUP",
    "CodecSpec",
    "available_codecs",
    "codec_class",
    "get_card",
    "get_codec",
    "list_cards",
    "parse_spec",
    "register_codec",
]
