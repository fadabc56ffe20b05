"""`ncst verify DIR`: re-hash every generated file against its provenance row."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ncst.build_dataset.plan import WAV_DIR
from ncst.build_dataset.provenance import read_provenance
from ncst.errors import CorpusLayoutError
from ncst.io import sha256_file

__all__ = ["VerifyReport", "verify_build"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class VerifyReport:
    """Outcome of `verify_build`: files that match, are missing, differ, or have no provenance row."""

    n_ok: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    random_weights: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_ok": self.n_ok,
            "missing": self.missing,
            "corrupt": self.corrupt,
            "untracked": self.untracked,
            "random_weights": self.random_weights,
        }


def verify_build(out_dir: Path) -> VerifyReport:
    """Checks a build folder; `untracked` lists audio files that no provenance row describes."""
    prov_files = sorted(Path(out_dir).glob("provenance*.jsonl"))
    if not prov_files:
        raise CorpusLayoutError(f"{out_dir}: no provenance*.jsonl found; is this a build-dataset output folder?")
    rows = read_provenance(prov_files)
    report = VerifyReport()
    for rel, row in sorted(rows.items()):
        path = Path(out_dir) / rel
        if row.is_random_weights:
            report.random_weights += 1
        if not path.is_file():
            report.missing.append(rel)
        elif sha256_file(path) != row.output_sha256:
            report.corrupt.append(rel)
        else:
            report.n_ok += 1
    wav_dir = Path(out_dir) / WAV_DIR
    if wav_dir.is_dir():
        report.untracked = sorted(
            f"{WAV_DIR}/{p.name}" for p in wav_dir.glob("*.wav") if f"{WAV_DIR}/{p.name}" not in rows
        )
    return report
