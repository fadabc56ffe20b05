"""Exporting a build folder or dataset root to lhotse manifests, a Hugging Face audiofolder or Parquet.

`export_dataset` is what `ncst export` runs; see `docs/export.md` for the formats and their fields.
Each format's library is imported only when that format is written (lhotse is an optional extra).
"""

from __future__ import annotations

from ncst.export.entries import FLAT_SET, ExportEntry, ExportSource, read_export_source
from ncst.export.paths import ExportError
from ncst.export.run import EXPORT_FORMATS, ExportResult, export_dataset

__all__ = [
    "EXPORT_FORMATS",
    "FLAT_SET",
    "ExportEntry",
    "ExportError",
    "ExportResult",
    "ExportSource",
    "export_dataset",
    "read_export_source",
]
