"""`ncst verify DIR`: check a build folder against its provenance log.

Provenance is the source of truth. Verify re-hashes every file it lists, and checks that the rest of the
folder agrees with it: every ``wav/`` entry is a generated ``.wav`` with a row (no other files, temp files
or sub-folders), ``label.txt`` and ``manifest.csv`` hold exactly one line per row with the values the
builder writes, and every provenance line parses. Each discrepancy is listed; any one makes the report
not ``ok`` (and the command exit 1).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Mapping

from ncst.build_dataset.labels import PROVENANCE_MANIFEST_COLUMNS, label_fields, manifest_record
from ncst.build_dataset.plan import WAV_DIR
from ncst.build_dataset.provenance import ProvenanceRow, read_provenance
from ncst.errors import CorpusLayoutError
from ncst.io import parse_temp_name, sha256_file
from ncst.layout import VerifyReport, iter_label_lines

__all__ = ["VerifyReport", "provenance_problems", "verify_build"]

log = logging.getLogger(__name__)

LABEL_FILE = "label.txt"
MANIFEST_FILE = "manifest.csv"


def verify_build(out_dir: Path) -> VerifyReport:
    """Checks a flat build folder: audio hashes, ``wav/`` contents, provenance, ``label.txt``, ``manifest.csv``.

    Dataset roots (recipe builds, ingest targets, the official download) are checked by
    `ncst.recipes.verify.verify_recipe_build`; `ncst.verify.verify` picks the right one for any folder.

    Raises:
        CorpusLayoutError: The folder has no provenance file (it is not a build folder).
    """
    out_dir = Path(out_dir)
    prov_files = sorted(out_dir.glob("provenance*.jsonl"))
    if not prov_files:
        raise CorpusLayoutError(f"{out_dir}: no provenance*.jsonl found; is this a build-dataset output folder?")
    rows = read_provenance(prov_files)
    report = VerifyReport()
    report.provenance = provenance_problems(prov_files, rows)
    for rel, row in sorted(rows.items()):
        path = out_dir / rel
        if row.is_random_weights:
            report.random_weights += 1
        if not path.is_file():
            report.missing.append(rel)
        elif sha256_file(path) != row.output_sha256:
            report.corrupt.append(rel)
        else:
            report.n_ok += 1
    _check_wav_dir(out_dir / WAV_DIR, rows, report)
    report.labels = _label_problems(out_dir / LABEL_FILE, rows)
    report.manifest = _manifest_problems(out_dir / MANIFEST_FILE, rows)
    return report


def provenance_problems(prov_files: list[Path], rows: Mapping[str, ProvenanceRow]) -> list[str]:
    """Unreadable lines of the provenance logs (`file:line`), and a log with no rows at all."""
    problems = []
    for path in prov_files:
        with open(path, "rb") as fh:  # decoded per line, strictly, as `read_provenance` does
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    ProvenanceRow.from_dict(json.loads(raw.decode("utf-8")))
                except (ValueError, TypeError, AttributeError, RecursionError) as err:  # incl. JSON and UTF-8
                    problems.append(f"{path.name}:{lineno}: unreadable provenance line ({str(err)[:200]})")
    if not rows:
        problems.append(f"{', '.join(p.name for p in prov_files)}: no provenance rows")
    return problems


def _check_wav_dir(wav_dir: Path, rows: Mapping[str, ProvenanceRow], report: VerifyReport) -> None:
    if not wav_dir.is_dir():
        if wav_dir.exists():
            report.unexpected.append(f"{WAV_DIR}: a file, not the audio folder")
        return
    for entry in sorted(wav_dir.iterdir()):
        rel = f"{WAV_DIR}/{entry.name}"
        if entry.is_dir():
            report.unexpected.append(f"{rel}/: sub-folder")
        elif parse_temp_name(entry.name) is not None:
            report.unexpected.append(f"{rel}: temp file of an interrupted or running build")
        elif entry.suffix != ".wav" or not entry.is_file():
            report.unexpected.append(f"{rel}: not a generated .wav file")
        elif rel not in rows:
            report.untracked.append(rel)


def _label_problems(path: Path, rows: Mapping[str, ProvenanceRow]) -> list[str]:
    expected = {name: (kind, str(class_id)) for name, kind, class_id in map(label_fields, rows.values())}
    if not path.is_file():
        return [f"{LABEL_FILE}: missing" + (f" ({len(expected)} lines expected)" if expected else "")]
    problems: list[str] = []
    seen: set[str] = set()
    for lineno, item in iter_label_lines(path):
        where = f"{LABEL_FILE}:{lineno}"
        if isinstance(item, str):
            problems.append(f"{where}: {item}")
            continue
        seen.add(item.file)
        if item.file not in expected:
            problems.append(f"{where}: added line for {item.file}, which has no provenance row")
        elif (item.kind, str(item.class_id)) != expected[item.file]:
            have, want = f"{item.kind} {item.class_id}", " ".join(expected[item.file])
            problems.append(f"{where}: edited line for {item.file}: '{have}', provenance says '{want}'")
    problems += [f"{LABEL_FILE}: no line for {name}" for name in sorted(set(expected) - set(seen))]
    return problems


def _manifest_problems(path: Path, rows: Mapping[str, ProvenanceRow]) -> list[str]:
    if not path.is_file():
        return [f"{MANIFEST_FILE}: missing" + (f" ({len(rows)} rows expected)" if rows else "")]
    problems: list[str] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        absent = [c for c in PROVENANCE_MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if absent:
            return [f"{MANIFEST_FILE}:1: header lacks columns {absent}"]
        for record in reader:
            where = f"{MANIFEST_FILE}:{reader.line_num}"
            rel = record["file"]
            if rel in seen:
                problems.append(f"{where}: {rel} listed again (first on line {seen[rel]})")
                continue
            seen[rel] = reader.line_num
            row = rows.get(rel)
            if row is None:
                problems.append(f"{where}: added row for {rel}, which has no provenance row")
                continue
            want = manifest_record(row, None)
            edited = [c for c in PROVENANCE_MANIFEST_COLUMNS if not _same_cell(record.get(c), want[c])]
            if edited:
                detail = ", ".join(f"{c} {record.get(c)!r} (provenance: {_cell_text(want[c])!r})" for c in edited)
                problems.append(f"{where}: edited row for {rel}: {detail}")
    problems += [f"{MANIFEST_FILE}: no row for {rel}" for rel in sorted(set(rows) - set(seen))]
    return problems


def _cell_text(value: object) -> str:
    return "" if value is None else str(value)


def _same_cell(text: str | None, value: object) -> bool:
    """Whether a CSV cell holds `value` (numbers compare as numbers: pandas may write 0.5 as 0.5 or 0.50)."""
    if text is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return abs(float(text) - float(value)) <= 1e-9 * max(1.0, abs(float(value)))
        except ValueError:
            return False
    return text == _cell_text(value)
