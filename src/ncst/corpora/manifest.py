"""Reads and writes utterance manifests: CSV files with one row per source recording.

Format (UTF-8, header row, comma-separated, RFC 4180 quoting):

* required columns `utt_id`, `path`;
* optional columns `speaker`, `corpus`, `language`, `text`;
* any other column (e.g. `pinyin`, `source`, `licence`) goes to `Utterance.extra` as a string.

Empty cells mean "unknown" (None) and are left out of `extra`. A relative `path` is relative to the
folder that holds the manifest, so a corpus folder with its manifest can be moved as a whole.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ncst.corpora.base import Utterance, validate_utt_id
from ncst.errors import CorpusLayoutError
from ncst.io import PathLike, atomic_open

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_manifest", "write_manifest"]

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("utt_id", "path")
OPTIONAL_COLUMNS = ("speaker", "corpus", "language", "text")

_MAX_LISTED = 5


def read_manifest(csv_path: PathLike) -> list[Utterance]:
    """Reads a manifest CSV into utterances, in file order.

    Audio files are not opened; missing ones are only counted and logged as a warning, since the dataset
    builder records them as per-file failures.

    Args:
        csv_path: The manifest file.

    Returns:
        One `Utterance` per data row, with absolute paths.

    Raises:
        CorpusLayoutError: The file is missing or is not parseable CSV, a required column is missing, or a
            row has an unsafe or duplicate `utt_id` or an empty `path`. The message names the file, the
            line and the bad value.
    """
    path = Path(csv_path).expanduser().absolute()
    if path.is_dir():
        raise CorpusLayoutError(f"manifest {path} is a directory, not a CSV file")
    if not path.is_file():
        raise CorpusLayoutError(f"manifest not found: {path}; pass a CSV with columns {list(REQUIRED_COLUMNS)}")
    line_numbers = _record_line_numbers(path)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
            index_col=False,
        )
    except pd.errors.EmptyDataError as err:
        raise CorpusLayoutError(
            f"{path}: empty manifest; expected a header with at least {list(REQUIRED_COLUMNS)}"
        ) from err
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as err:
        raise CorpusLayoutError(f"{path}: not a valid UTF-8 CSV manifest: {err}") from err

    frame = frame.fillna("")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise CorpusLayoutError(
            f"{path}: line 1: missing required column(s) {missing}; found columns {list(frame.columns)}"
        )
    duplicated_columns = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated_columns or any(c.startswith("Unnamed: ") for c in frame.columns):
        bad = duplicated_columns or [c for c in frame.columns if c.startswith("Unnamed: ")]
        raise CorpusLayoutError(f"{path}: line 1: duplicate or empty column name(s) {bad}; found {list(frame.columns)}")

    folder = path.parent
    extra_columns = [c for c in frame.columns if c not in REQUIRED_COLUMNS and c not in OPTIONAL_COLUMNS]
    seen: dict[str, int] = {}
    utterances: list[Utterance] = []
    for index, record in enumerate(frame.to_dict(orient="records")):
        utt_id = record["utt_id"]
        audio = record["path"].strip()
        problem: str | None = None
        if utt_id in seen:
            problem = f"duplicate utt_id {utt_id!r} (first used on row {seen[utt_id] + 1})"
        elif not audio:
            problem = f"empty path for utt_id {utt_id!r}"
        else:
            try:
                validate_utt_id(utt_id)
            except CorpusLayoutError as err:
                problem = str(err)
        if problem is not None:
            line = line_numbers[index] if index < len(line_numbers) else index + 2
            raise CorpusLayoutError(f"{path}: line {line}: {problem}")
        seen[utt_id] = index
        audio_path = Path(audio).expanduser()
        if not audio_path.is_absolute():
            audio_path = Path(os.path.normpath(folder / audio_path))
        utterances.append(
            Utterance(
                utt_id=utt_id,
                path=audio_path,
                speaker=_or_none(record.get("speaker")),
                corpus=_or_none(record.get("corpus")) or "",
                language=_or_none(record.get("language")),
                text=_or_none(record.get("text")),
                extra={c: record[c] for c in extra_columns if record[c] != ""},
            )
        )

    absent = [u for u in utterances if not u.path.is_file()]
    if absent:
        shown = ", ".join(str(u.path) for u in absent[:_MAX_LISTED])
        log.warning(
            "%s: %d of %d audio files do not exist (e.g. %s); they will be reported as failures",
            path,
            len(absent),
            len(utterances),
            shown,
        )
    log.debug("read %d utterances from %s", len(utterances), path)
    return utterances


def write_manifest(utterances: Iterable[Utterance], csv_path: PathLike) -> Path:
    """Writes utterances to a manifest CSV atomically (temp file in the same folder, then rename).

    Paths inside the manifest's folder are written relative to it (with `/`), other paths absolute.
    Columns are `utt_id, path, speaker, corpus, language, text`, then every `extra` key in first-seen
    order; extra values are written with `str()`, so they read back as strings.

    Returns:
        The manifest path.

    Raises:
        CorpusLayoutError: Two utterances share an `utt_id`.
    """
    dest = Path(csv_path).expanduser().absolute()
    folder = dest.parent
    rows: list[dict[str, Any]] = []
    extra_columns: dict[str, None] = {}
    seen: set[str] = set()
    for utt in utterances:
        if utt.utt_id in seen:
            raise CorpusLayoutError(f"cannot write {dest}: duplicate utt_id {utt.utt_id!r}")
        seen.add(utt.utt_id)
        row: dict[str, Any] = {
            "utt_id": utt.utt_id,
            "path": _relative_if_inside(utt.path, folder),
            "speaker": utt.speaker,
            "corpus": utt.corpus,
            "language": utt.language,
            "text": utt.text,
        }
        for key, value in utt.extra.items():
            if key in row:
                raise CorpusLayoutError(f"utterance {utt.utt_id!r}: extra key {key!r} clashes with a column")
            extra_columns.setdefault(key)
            row[key] = _cell(value)
        rows.append(row)
    columns = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *extra_columns]
    frame = pd.DataFrame(rows, columns=columns)

    with atomic_open(dest, "w") as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    log.debug("wrote %d utterances to %s", len(rows), dest)
    return dest


def _or_none(value: str | None) -> str | None:
    return value if value else None


def _cell(value: object) -> object:
    return value if value is None or isinstance(value, str) else str(value)


def _relative_if_inside(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _record_line_numbers(path: Path) -> list[int]:
    """1-based line on which each data record starts (quoted fields may span lines).

    Raises:
        CorpusLayoutError: A record has more or fewer fields than the header (pandas would silently take
            the first column as the index, shifting every field), or the file is not UTF-8 CSV; the
            message names the line.
    """
    starts: list[int] = []
    line = 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            line = reader.line_num + 1
            for row in reader:
                if row:  # pandas skips blank lines
                    if header is not None and len(row) != len(header):
                        raise CorpusLayoutError(
                            f"{path}: line {line}: {len(row)} fields, but the header has {len(header)} "
                            f"({','.join(header)}); quote fields that contain commas"
                        )
                    starts.append(line)
                line = reader.line_num + 1
    except UnicodeDecodeError as err:
        line, byte = _first_bad_byte(path)
        raise CorpusLayoutError(
            f"{path}: line {line}: not a valid UTF-8 CSV manifest (byte 0x{byte:02x}); save it as UTF-8"
        ) from err
    except csv.Error as err:
        raise CorpusLayoutError(f"{path}: line {line}: not a valid UTF-8 CSV manifest: {err}") from err
    return starts


def _first_bad_byte(path: Path) -> tuple[int, int]:
    """(1-based line, value) of the first byte that is not UTF-8; (0, 0) if the whole file decodes."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1, data[err.start]
    return 0, 0
