"""One Parquet table of every exported file: its set, labels, audio header and provenance fields.

Written with pyarrow (a core dependency). Mappings of the provenance row (`checkpoint_sha256`,
`upstream_versions`, `extra`) are stored as JSON text so the schema stays flat and the same for every
build; files without a provenance row have nulls there and `has_provenance` false.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ncst.build_dataset.records import ProvenanceRow
from ncst.export.entries import ExportEntry
from ncst.export.paths import safe_target
from ncst.io import atomic_open

__all__ = ["write_parquet", "PARQUET_FILE", "PARQUET_SCHEMA"]

log = logging.getLogger(__name__)

PARQUET_FILE = "ncst_files.parquet"

_ENTRY_FIELDS: list[tuple[str, pa.DataType]] = [
    ("split", pa.string()),
    ("file", pa.string()),
    ("path", pa.string()),
    ("label", pa.string()),
    ("class_id", pa.int64()),
    ("codec_spec", pa.string()),
    ("sample_rate_hz", pa.int64()),
    ("num_samples", pa.int64()),
    ("channels", pa.int64()),
    ("duration_s", pa.float64()),
    ("utt_id", pa.string()),
    ("speaker", pa.string()),
    ("corpus", pa.string()),
    ("language", pa.string()),
    ("has_provenance", pa.bool_()),
]
_JSON_FIELDS = ("checkpoint_sha256", "upstream_versions", "extra")
_ARROW_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}


def _provenance_fields() -> list[tuple[str, pa.DataType]]:
    """Provenance columns: every row field not already an entry column, mappings as JSON text."""
    taken = {name for name, _ in _ENTRY_FIELDS}
    out = []
    for f in fields(ProvenanceRow):
        if f.name in taken:
            continue
        base = str(f.type).removesuffix(" | None")
        out.append((f.name, pa.string() if f.name in _JSON_FIELDS else _ARROW_TYPES.get(base, pa.string())))
    return out


PARQUET_SCHEMA = pa.schema(_ENTRY_FIELDS + _provenance_fields())


def write_parquet(entries: Sequence[ExportEntry], out: Path) -> list[Path]:
    """Writes `ncst_files.parquet` (one row per entry) into `out`; returns the file written."""
    columns: dict[str, list[Any]] = {name: [] for name in PARQUET_SCHEMA.names}
    prov_names = [name for name, _ in _provenance_fields()]
    for e in entries:
        values: dict[str, Any] = {
            "split": e.split, "file": e.file, "path": str(e.path), "label": e.label, "class_id": e.class_id,
            "codec_spec": e.codec_spec, "sample_rate_hz": e.sample_rate_hz, "num_samples": e.num_samples,
            "channels": e.channels, "duration_s": round(e.duration_s, 6), "utt_id": e.utt_id,
            "speaker": e.speaker, "corpus": e.corpus, "language": e.language,
            "has_provenance": e.provenance is not None,
        }  # fmt: skip
        row = e.provenance.to_dict() if e.provenance is not None else {}
        for name in prov_names:
            value = row.get(name)
            if name in _JSON_FIELDS and value is not None:
                value = json.dumps(value, sort_keys=True, ensure_ascii=False)
            values[name] = value
        for name, column in columns.items():
            column.append(values[name])
    table = pa.Table.from_pydict(columns, schema=PARQUET_SCHEMA)
    target = safe_target(out, PARQUET_FILE)
    with atomic_open(target, "wb") as fh:
        pq.write_table(table, fh)
    log.info("parquet: %d rows -> %s", table.num_rows, target)
    return [target]
