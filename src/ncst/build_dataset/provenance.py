"""Provenance: one JSON line per generated file, appended and fsynced as each file lands.

The log is the build's source of truth: a rerun skips every job whose row is present and whose output
still hashes to the recorded sha256, and the manifest and label files are rewritten from it. Appends
are crash-safe: a process killed mid-line leaves a partial last line, which `ProvenanceLog` cuts off
before appending again, so no row is ever glued to a broken one.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from ncst.io import PathLike

__all__ = ["ProvenanceRow", "ProvenanceLog", "read_provenance", "ncst_git_commit"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProvenanceRow:
    """Where one generated file came from and how it was made.

    Attributes:
        file: Output path relative to the build folder (`wav/encodec_p225_001.wav`).
        utt_id: Source utterance id.
        source_path: Source audio file as read.
        source_sha256: sha256 of the source file's bytes.
        source_sample_rate_hz: Rate of the source file.
        source_samples: Length of the source in samples (after downmix).
        codec_spec: Canonical codec spec (`encodec@6kbps`).
        class_id: ST-Codecfake class id of the output (None if the codec has none).
        weights: `pretrained`, `random` or the local checkpoint path.
        checkpoint: Checkpoint id from the codec card (hub id / URL).
        checkpoint_sha256: sha256 of each checkpoint file actually loaded (empty for random weights).
        upstream_versions: Versions of torch and the upstream codec package.
        resampling: Resampling chain applied before the codec (`soxr HQ 16000->24000` or `none`).
        sample_rate_hz: Rate of the output (the codec's rate).
        input_samples: Samples fed to the codec.
        output_samples: Samples written (always equal to `input_samples`).
        output_peak: Peak |y| before clipping to [-1, 1] for 16-bit PCM.
        output_sha256: sha256 of the written file.
        seed: Seed of random weights and decoder sampling.
        ncst_version: ncst version that wrote the file.
        git_commit: ncst git commit, when installed from a checkout.
        created_utc: ISO-8601 time the file was written.
        seconds: Wall time spent on this file.
        source_size_bytes: Size of the source file when it was read (a rerun compares size and mtime, and
            re-hashes the source when they differ, to find a replaced source).
        source_mtime_ns: Modification time of the source file when it was read (ns since the epoch).
        extra: Anything else an adapter or recipe wants recorded.
    """

    file: str
    utt_id: str
    source_path: str
    source_sha256: str
    source_sample_rate_hz: int
    source_samples: int
    codec_spec: str
    class_id: int | None
    weights: str
    checkpoint: str
    checkpoint_sha256: Mapping[str, str]
    upstream_versions: Mapping[str, str]
    resampling: str
    sample_rate_hz: int
    input_samples: int
    output_samples: int
    output_peak: float
    output_sha256: str
    seed: int
    ncst_version: str
    git_commit: str | None
    created_utc: str
    seconds: float
    source_size_bytes: int | None = None
    source_mtime_ns: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_random_weights(self) -> bool:
        return self.weights == "random"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("checkpoint_sha256", "upstream_versions", "extra"):
            d[key] = dict(d[key])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProvenanceRow":
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in d.items() if k in names}
        extra = dict(known.pop("extra", {}) or {})
        extra.update({k: v for k, v in d.items() if k not in names})
        return cls(**known, extra=extra)


class ProvenanceLog:
    """Append-only JSONL file of `ProvenanceRow`s, opened for the duration of a build."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _repair_partial_tail(self.path)
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, row: ProvenanceRow) -> None:
        """Writes one row and fsyncs, so a row on disk always describes a file already renamed into place."""
        self._fh.write(json.dumps(row.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "ProvenanceLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _repair_partial_tail(path: Path) -> None:
    """Cuts a trailing partial line (left by a kill mid-write) so the next append starts a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        data = fh.read()
        if data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        log.warning("%s: dropping a partial last line (%d bytes) left by an interrupted run", path, len(data) - cut)
        fh.truncate(cut)


def read_provenance(paths: Iterable[PathLike]) -> dict[str, ProvenanceRow]:
    """Reads provenance files; returns the last row per output file.

    Unparseable lines (a partial tail) are skipped with a warning; they never abort a resume.
    """
    rows: dict[str, ProvenanceRow] = {}
    for p in paths:
        path = Path(p)
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = ProvenanceRow.from_dict(json.loads(line))
                except (json.JSONDecodeError, TypeError) as err:
                    log.warning("%s:%d: skipping unreadable provenance line (%s)", path, lineno, err)
                    continue
                rows[row.file] = row
    return rows


_GIT_COMMIT: list[str | None] = []


def ncst_git_commit() -> str | None:
    """Commit of the ncst checkout this package runs from, or None for a plain install."""
    if not _GIT_COMMIT:
        src = Path(__file__).resolve().parent
        commit = None
        try:
            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", "HEAD"],
                cwd=src,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            lines = out.stdout.split()
            # Only trust a repository that is ncst's own checkout, not one that merely contains a venv.
            if out.returncode == 0 and len(lines) == 2 and (Path(lines[0]) / "src" / "ncst").resolve() == src.parent:
                commit = lines[1]
        except (OSError, subprocess.SubprocessError):
            commit = None
        _GIT_COMMIT.append(commit)
    return _GIT_COMMIT[0]
