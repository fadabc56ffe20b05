"""Manifest, label and failure files of a build folder, all written atomically.

The label file uses the official ST-Codecfake three-column format, `<file> <real|fake> <class id>`,
with the file name relative to the audio folder; the official loaders read only columns 1 and 3.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ncst.build_dataset.records import FAILURE_COLUMNS, JobFailure, ProvenanceRow
from ncst.corpora import Utterance
from ncst.io import atomic_write_text

__all__ = [
    "write_labels_and_manifest",
    "write_failures",
    "manifest_record",
    "label_fields",
    "MANIFEST_COLUMNS",
    "PROVENANCE_MANIFEST_COLUMNS",
    "FAILURE_COLUMNS",
]

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = [
    "file",
    "utt_id",
    "label",
    "class_id",
    "codec_spec",
    "sample_rate_hz",
    "num_samples",
    "duration_s",
    "weights",
    "speaker",
    "corpus",
    "language",
    "source_path",
]


#: Manifest columns filled from the provenance row alone (the others come from the corpus); `verify` checks these.
PROVENANCE_MANIFEST_COLUMNS = [c for c in MANIFEST_COLUMNS if c not in ("speaker", "corpus", "language")]


def manifest_record(row: ProvenanceRow, utt: Utterance | None) -> dict[str, Any]:
    """The `manifest.csv` row of one generated file."""
    return {
        "file": row.file,
        "utt_id": row.utt_id,
        "label": "fake",
        "class_id": row.class_id,
        "codec_spec": row.codec_spec,
        "sample_rate_hz": row.sample_rate_hz,
        "num_samples": row.output_samples,
        "duration_s": round(row.output_samples / row.sample_rate_hz, 6),
        "weights": row.weights,
        "speaker": utt.speaker if utt else None,
        "corpus": utt.corpus if utt else None,
        "language": utt.language if utt else None,
        "source_path": row.source_path,
    }


def label_fields(row: ProvenanceRow) -> tuple[str, str, int]:
    """The `label.txt` fields of one generated file: name in the audio folder, `fake`, class id (-1 if none)."""
    return Path(row.file).name, "fake", -1 if row.class_id is None else row.class_id


def write_labels_and_manifest(
    out_dir: Path, rows: Iterable[ProvenanceRow], utterances: Mapping[str, Utterance]
) -> pd.DataFrame:
    """Rewrites `manifest.csv` and `label.txt` from provenance rows (sorted by file name)."""
    ordered = sorted(rows, key=lambda r: r.file)
    records = [manifest_record(row, utterances.get(row.utt_id)) for row in ordered]
    frame = pd.DataFrame.from_records(records, columns=MANIFEST_COLUMNS)
    frame["class_id"] = frame["class_id"].astype("Int64")
    atomic_write_text(out_dir / "manifest.csv", frame.to_csv(index=False))
    lines = ["{} {} {}\n".format(*label_fields(row)) for row in ordered]
    atomic_write_text(out_dir / "label.txt", "".join(lines))
    return frame


def write_failures(path: Path, failures: Sequence[JobFailure]) -> None:
    """Writes this run's failures (an empty file with a header when there are none)."""
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FAILURE_COLUMNS)
    writer.writeheader()
    for f in failures:
        writer.writerow(f.to_dict())
    atomic_write_text(path, buf.getvalue())
