"""Provenance: one JSON line per generated file, appended and fsynced as each file lands.

The log is the build's source of truth: a rerun skips every job whose row is present and whose output
still hashes to the recorded sha256, and the manifest and label files are rewritten from it. Appends
are crash-safe: a process killed mid-line leaves a partial last line, which `ProvenanceLog` cuts off
before appending again, so no row is ever glued to a broken one. The row itself, `ProvenanceRow`, lives
in `ncst.build_dataset.records` (re-exported here).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Iterable

from ncst.build_dataset.records import ProvenanceRow
from ncst.io import PathLike

__all__ = ["ProvenanceRow", "ProvenanceLog", "read_provenance", "ncst_git_commit", "plugin_record"]

log = logging.getLogger(__name__)


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
        with open(path, "rb") as fh:  # bytes: one line of bad UTF-8 must not hide the rows after it
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    row = ProvenanceRow.from_dict(json.loads(raw.decode("utf-8")))
                except (ValueError, TypeError, AttributeError, RecursionError) as err:  # incl. JSON and UTF-8
                    log.warning("%s:%d: skipping unreadable provenance line (%s)", path, lineno, _short(err))
                    continue
                rows[row.file] = row
    return rows


def _short(err: BaseException) -> str:
    text = str(err)
    return text if len(text) <= 200 else text[:200] + "..."


def plugin_record(codec_name: str) -> dict[str, str]:
    """What a provenance row records about a plug-in codec (its row's `extra["plugin"]`), or {} for a built-in.

    `{"distribution": ..., "version": ..., "entry_point": "module:Class"}` from the `ncst.codecs` entry point
    that provides the codec: the code that made the audio is the plug-in's, so its version is recorded beside
    ncst's (`ncst_version`, `git_commit`, which name the builder).
    """
    from ncst.codecs.registry import plugin_distribution

    found = plugin_distribution(codec_name)
    return found.to_dict() if found is not None else {}


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
