"""Baseline source-tracing models (Mel-LCNN, AASIST, W2V2-AASIST), their trainer and inference.

The models follow `docs/reference_system.md` §8 of the ST-Codecfake paper (arXiv 2501.06514); training follows
§3 and inference writes the dumps of `ncst.benchmark.dumps` (§4). `ncst.benchmark` never imports this
package: the dumps are the contract between training and scoring.

Heavy submodules (torchaudio, transformers) are imported on first use.
"""

from __future__ import annotations

from ncst.models.base import N_CLASSES, N_SAMPLES, SAMPLE_RATE_HZ, SourceTracingModel
from ncst.models.registry import (
    ENTRY_POINT_GROUP,
    ModelInfo,
    UnknownModelError,
    available_models,
    build_model,
    describe_models,
    model_class,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "N_CLASSES",
    "N_SAMPLES",
    "SAMPLE_RATE_HZ",
    "ModelInfo",
    "SourceTracingModel",
    "UnknownModelError",
    "available_models",
    "build_model",
    "describe_models",
    "model_class",
]
