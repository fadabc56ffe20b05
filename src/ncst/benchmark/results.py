"""The result of scoring one protocol: report cells in percent plus the arrays the plots need."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from ncst.protocols import Protocol

__all__ = ["OODScores", "ProtocolResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OODScores:
    """Scores of one detector on one OOD condition (ID test set + OOD set).

    Attributes:
        binary: 1 for ID, 0 for OOD `[N]`.
        scores: Detector scores, higher = ID `[N]`.
    """

    binary: NDArray[np.int64]
    scores: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ProtocolResult:
    """Everything `run_protocol` computed.

    Attributes:
        protocol: The scored protocol.
        cells: ``{column: {metric: value in percent}}``; for the open set the column is
            ``"<condition>/<detector>"``.
        counts: Utterances per column (open set: per condition, ID + OOD).
        source: Where the inputs came from (``"predictions: DIR"``, ``"dumps: DIR"``).
        confusion: Count matrix for the confusion plot `[rows, cols]` (closed set: true x predicted class;
            single-class sets: set x predicted class), or None.
        confusion_rows: Row names of `confusion`.
        confusion_cols: Column names of `confusion`.
        ood: ``{(condition, detector): OODScores}`` for the ROC and histogram plots.
        extensions: Extension conditions or columns (classes outside the paper's), name -> title such as
            ``ext12 (vocos@encodec, class 12)``; their cells are reported in a block of their own.
        not_scored: Label files of the data root and dumps of the dumps folder that no protocol scores.
        settings: Run settings recorded in report.json (bootstrap size, seed, label source, ...).
        details: Protocol-specific results (plain JSON) written to report.json under ``details``; a
            ``"tables"`` entry (``[{"title", "header", "rows"}]``) is printed in the report (taxonomy protocol).
    """

    protocol: Protocol
    cells: Mapping[str, Mapping[str, float]]
    counts: Mapping[str, int]
    source: str
    confusion: NDArray[np.int64] | None = None
    confusion_rows: tuple[str, ...] = ()
    confusion_cols: tuple[str, ...] = ()
    ood: Mapping[tuple[str, str], OODScores] = field(default_factory=lambda: MappingProxyType({}))
    extensions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    not_scored: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The report.json payload: ``{"protocol": NAME, "cells": {COLUMN: {METRIC: percent}}, ...}``."""
        return {
            "protocol": self.protocol.name,
            "paper_table": self.protocol.paper_table,
            "cells": {col: {m: round(float(v), 6) for m, v in cell.items()} for col, cell in self.cells.items()},
            "counts": {k: int(v) for k, v in self.counts.items()},
            "source": self.source,
            "settings": dict(self.settings),
            "extensions": dict(self.extensions),
            "not_scored": list(self.not_scored),
            "paper": {m: dict(v) for m, v in self.protocol.paper.items()},
            "notes": list(self.protocol.notes),
        } | ({"details": dict(self.details)} if self.details else {})
