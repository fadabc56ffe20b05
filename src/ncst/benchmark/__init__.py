"""Benchmark scoring for ST-Codecfake (arXiv 2501.06514): metrics, OOD detectors, dumps, reports.

Entry points: `score_protocol` / `run_protocol` (what the ``run-protocol`` command calls), `save_dump` /
`load_dump` (the file format the inference code writes), and the metric functions.
"""

from __future__ import annotations

from ncst.benchmark.dumps import Dump, dump_path, load_dump, save_dump
from ncst.benchmark.metrics import (
    auc,
    eer_reference,
    eer_tie_robust,
    fpr_at_95_tpr,
    macro_f1,
    ood_metrics,
    per_class_f1,
    single_class_f1,
)
from ncst.benchmark.results import OODScores, ProtocolResult
from ncst.benchmark.scoring import run_protocol, score_protocol

__all__ = [
    "Dump",
    "OODScores",
    "ProtocolResult",
    "auc",
    "dump_path",
    "eer_reference",
    "eer_tie_robust",
    "fpr_at_95_tpr",
    "load_dump",
    "macro_f1",
    "ood_metrics",
    "per_class_f1",
    "run_protocol",
    "save_dump",
    "score_protocol",
    "single_class_f1",
]
