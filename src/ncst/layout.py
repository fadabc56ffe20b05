"""What a dataset root looks like: file names, label-file names, and the one label-file parser.

A dataset root in the ST-Codecfake layout keeps its label files under `label/`, one line per audio file:
`<file> <real|fake> <class id>`, the file relative to the set's audio folder (paper Section 2.1; the
official loaders split each line on whitespace and read columns 1 and 3). Everything in ncst that reads
or writes such a file (the recipe planner and build, ingest, verify, the model data reader, the scorer)
goes through this module, so there is one acceptance rule:

* exactly three whitespace-separated fields; blank lines are skipped;
* column 1 is a plain file name in the set's folder (`ncst.paths.check_file_name`): no separator, no
  leading `.`, no whitespace, control character or character Windows refuses, at most 200 UTF-8 bytes;
* column 2 is `real` or `fake`, or a synonym the official data and corpora use (`bonafide`, `bona-fide`,
  `genuine` for real; `spoof` for fake); official loaders never read it, ncst checks it against column 3;
* column 3 is a decimal integer (a leading `-` allowed: `-1` marks a codec without a class id), within
  `class_ids` when given;
* a file listed twice is an error naming both lines;
* each line is decoded on its own, so a line that is not UTF-8 is named by its number and column.

`read_label_file` raises at the first bad line; `iter_label_lines` yields every line or its problem, for
`ncst verify`, which reports them all. This module is a leaf: it imports only `ncst.errors`, `ncst.io`
and `ncst.paths`, so any package may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ncst.errors import CorpusLayoutError, NcstError
from ncst.io import PathLike, read_json
from ncst.paths import MAX_NAME_BYTES, check_file_name, component_problem, show

__all__ = [
    "CARD_ASSET_DIR",
    "FAKE_KINDS",
    "LABEL_DIR",
    "MAX_NAME_BYTES",
    "PROVENANCE_FILE",
    "REAL_KINDS",
    "RECIPE_FILE",
    "LabelLine",
    "VerifyReport",
    "flat_set_name",
    "format_label_line",
    "iter_label_lines",
    "label_file_name",
    "parse_label_line",
    "read_label_file",
    "read_recipe_meta",
]

log = logging.getLogger(__name__)

#: Folder of a dataset root that holds the label files.
LABEL_DIR = "label"
#: What an ncst-built root records about itself (recipe, label files, classes, seed).
RECIPE_FILE = "recipe.json"
#: What `ncst card` writes beside the data (figures, and source copies the page plays); verify skips it.
CARD_ASSET_DIR = "DATASET_files"
#: One provenance row per generated or ingested file.
PROVENANCE_FILE = "provenance.jsonl"
#: Column-2 values meaning real speech, and fake speech (the official files write `real`/`fake`).
REAL_KINDS = frozenset({"real", "bonafide", "bona-fide", "genuine"})
FAKE_KINDS = frozenset({"fake", "spoof"})

#: Class ids outside this range cannot be a class (they would only size arrays).
_CLASS_ID_RANGE = (-1, 1_000_000)


@dataclass(frozen=True, slots=True)
class LabelLine:
    """One line of a label file: `<file> <kind> <class id>` and where it was read."""

    file: str
    kind: str
    class_id: int
    line: int

    @property
    def is_real(self) -> bool:
        """Whether column 2 says real speech (`real` or a synonym)."""
        return self.kind in REAL_KINDS


def label_file_name(folder: str) -> str:
    """The label file of a folder set: `ID_diff_config/C3-1` -> `ID_diff_config-C3-1.txt` (`/` becomes `-`)."""
    return flat_set_name(folder) + ".txt"


def flat_set_name(folder: str) -> str:
    """A set's folder as one path component: `ID_diff_config/C3-1` -> `ID_diff_config-C3-1` (`/` becomes `-`)."""
    return folder.strip("/").replace("/", "-")


def format_label_line(file: str, class_id: int) -> str:
    """`p225_001.wav real 0` / `mimi_p225_001.wav fake 1`, with its newline."""
    return f"{file} {'real' if class_id == 0 else 'fake'} {class_id}\n"


class _LineProblem(NcstError):
    """One label line breaks the acceptance rule (the message does not name the file)."""


def parse_label_line(text: str, *, class_ids: frozenset[int] | None = None) -> tuple[str, str, int] | None:
    """`(file, kind, class id)` of one label line, or None for a blank line.

    Raises:
        NcstError: The line breaks the acceptance rule (the message says how; the caller names file and line).
    """
    fields = text.split()
    if not fields:
        return None
    if len(fields) != 3:
        raise _LineProblem(f"expected '<file> <real|fake> <class id>', got {show(text.strip())}")
    name, kind, class_text = fields
    check_file_name(name, "column 1", error=_LineProblem)
    if kind not in REAL_KINDS and kind not in FAKE_KINDS:
        raise _LineProblem(f"column 2 is {show(kind, 40)}; expected one of {sorted(REAL_KINDS | FAKE_KINDS)}")
    return name, kind, _class_id(class_text, class_ids)


def iter_label_lines(
    path: PathLike, *, class_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, LabelLine | str]]:
    """Every non-blank line of a label file: `(line number, LabelLine)` or `(line number, problem)`.

    A file listed a second time is a problem of that line. Lines are read one at a time, so memory is
    bounded by the longest line, and a line that is not UTF-8 is a problem of its own.

    Raises:
        OSError: The file cannot be opened or read.
    """
    valid = frozenset(class_ids) if class_ids is not None else None
    first_line: dict[str, int] = {}
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield lineno, f"not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1})"
                continue
            try:
                parsed = parse_label_line(text, class_ids=valid)
            except _LineProblem as err:
                yield lineno, str(err)
                continue
            if parsed is None:
                continue
            name, kind, class_id = parsed
            if name in first_line:
                yield lineno, f"{show(name)} is listed again (first on line {first_line[name]}); one line per file"
                continue
            first_line[name] = lineno
            yield lineno, LabelLine(name, kind, class_id, lineno)


def read_label_file(
    path: PathLike, *, class_ids: Iterable[int] | None = None, error: type[NcstError] = CorpusLayoutError
) -> list[LabelLine]:
    """Parses a label file with the module's acceptance rule; lines in file order.

    Args:
        path: The label file.
        class_ids: The class ids this file may use; None accepts any id in [-1, 1,000,000].
        error: The exception type to raise (the scorer raises its `ProtocolError`).

    Raises:
        error: The file is missing, not UTF-8, or a line breaks the rule (the message names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"label file not found: {path}" + (" (it is a folder)" if path.is_dir() else ""))
    lines: list[LabelLine] = []
    try:
        for lineno, item in iter_label_lines(path, class_ids=class_ids):
            if isinstance(item, str):
                raise error(f"{path}:{lineno}: {item}")
            lines.append(item)
    except OSError as err:
        raise error(f"{path}: cannot read the label file ({err.strerror or err})") from err
    return lines


def _class_id(text: str, valid: frozenset[int] | None) -> int:
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        raise _LineProblem(f"class id {show(text, 40)} is not an integer")
    value = int(text)
    if valid is not None and value not in valid:
        raise _LineProblem(f"class id {value} is not one of {sorted(valid)}")
    low, high = _CLASS_ID_RANGE
    if not low <= value <= high:
        raise _LineProblem(f"class id {value} is outside [{low}, {high}]")
    return value


def read_recipe_meta(path: PathLike) -> dict[str, Any]:
    """Reads a dataset root's `recipe.json`, checking the parts verify and ingest use.

    The file may come from a download or a colleague: its folders must stay inside the root, and every
    mapping must have the shape ncst writes, or a `CorpusLayoutError` names the file and the key.
    """
    meta = read_json(path, error=CorpusLayoutError)

    def bad(what: str) -> CorpusLayoutError:
        return CorpusLayoutError(f"{path}: {what}; rebuild the dataset or fix the file")

    def folder_ok(folder: object) -> bool:
        return isinstance(folder, str) and all(component_problem(part) is None for part in folder.split("/"))

    def name_ok(name: object) -> bool:
        return isinstance(name, str) and component_problem(name) is None

    if not isinstance(meta, dict):
        raise bad("not a JSON object")
    label_files = meta.get("label_files", {})
    if not isinstance(label_files, dict) or not all(name_ok(k) and folder_ok(v) for k, v in label_files.items()):
        raise bad("'label_files' must map label file names to folders inside the dataset root")
    ingested = meta.get("ingested") or {}
    if not isinstance(ingested, dict) or not all(
        name_ok(k) and isinstance(e, dict) and folder_ok(e.get("folder")) for k, e in ingested.items()
    ):
        raise bad("'ingested' must map label file names to {\"folder\": ...} inside the dataset root")
    prefixes = meta.get("prefixes", {})
    if not isinstance(prefixes, dict) or not all(
        isinstance(m, dict) and all(isinstance(c, str) and isinstance(p, str) for c, p in m.items())
        for m in prefixes.values()
    ):
        raise bad("'prefixes' must map folders to {class id: file prefix}")
    if not isinstance(meta.get("classes", {}), dict):
        raise bad("'classes' must map class ids to classes")
    if not isinstance(meta.get("official_download", False), bool):
        raise bad("'official_download' must be true or false")
    return meta


@dataclass(slots=True)
class VerifyReport:
    """Outcome of `ncst verify` on any folder; every list holds one human-readable entry per discrepancy.

    Attributes:
        n_ok: Files whose bytes match their provenance row.
        missing: Files with a provenance row but not on disk.
        corrupt: Files whose sha256 differs from their row.
        untracked: ``.wav`` files in ``wav/`` that no provenance row describes (dataset roots: listed files
            of a built or ingested set without a row).
        unexpected: Other entries of ``wav/``: non-wav files, temp files, sub-folders.
        provenance: Problems of the provenance log (no rows, unreadable lines).
        labels: Lines of ``label.txt`` that are missing, edited, added, repeated or malformed.
        manifest: Rows of ``manifest.csv`` that are missing, edited, added or repeated.
        random_weights: Files made with random weights (informational, not a discrepancy).
        unverified: Official roots: folders of audio that no label file covers, with their file counts. Their
            files are neither counted ok nor a discrepancy: nothing says what they should hold.
    """

    n_ok: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    manifest: list[str] = field(default_factory=list)
    random_weights: int = 0
    #: Recipe builds only (`ncst.recipes.verify`): audio no label file lists, label lines with the wrong class.
    extra: list[str] = field(default_factory=list)
    mislabelled: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        """Every discrepancy, by kind (each list field but `unverified`; kinds with none are left out)."""
        listed = ((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "unverified")
        return {kind: items for kind, items in listed if isinstance(items, list) and items}

    @property
    def ok(self) -> bool:
        return not self.problems()

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **{f.name: getattr(self, f.name) for f in fields(self)}}
