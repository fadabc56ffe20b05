"""What a dataset root looks like: file names, label-file names, and the one label-file parser.

A dataset root in the ST-Codecfake layout keeps its label files under `label/`, one line per audio file:
`<file> <real|fake> <class id>`, the file relative to the set's audio folder (paper Section 2.1; the
official loaders split each line on whitespace and read columns 1 and 3). Everything in ncst that reads
or writes such a file (the recipe planner and build, ingest, verify, the model data reader, the scorer)
goes through this module, so there is one acceptance rule:

* exactly three whitespace-separated fields; blank lines are skipped;
* column 1 is a relative name inside the set's folder (`check_relative_name`): no absolute path, no `..`
  or empty component, no backslash, control character or NUL, at most `MAX_NAME_BYTES` bytes;
* column 2 is `real` or `fake`, or a synonym the official data and corpora use (`bonafide`, `bona-fide`,
  `genuine` for real; `spoof` for fake); official loaders never read it, ncst checks it against column 3;
* column 3 is a decimal integer (a leading `-` allowed: `-1` marks a codec without a class id), within
  `class_ids` when given;
* a file listed twice is an error naming both lines.

This module is a leaf: it imports only `ncst.errors` and `ncst.io`, so any package may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ncst.errors import CorpusLayoutError, NcstError
from ncst.io import PathLike, read_text

__all__ = [
    "FAKE_KINDS",
    "LABEL_DIR",
    "MAX_NAME_BYTES",
    "PROVENANCE_FILE",
    "REAL_KINDS",
    "RECIPE_FILE",
    "LabelLine",
    "check_relative_name",
    "format_label_line",
    "label_file_name",
    "read_label_file",
]

log = logging.getLogger(__name__)

#: Folder of a dataset root that holds the label files.
LABEL_DIR = "label"
#: What an ncst-built root records about itself (recipe, label files, classes, seed).
RECIPE_FILE = "recipe.json"
#: One provenance row per generated or ingested file.
PROVENANCE_FILE = "provenance.jsonl"
#: Longest file or folder name (in UTF-8 bytes) a label line may carry; file systems allow 255.
MAX_NAME_BYTES = 200
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
    return folder.strip("/").replace("/", "-") + ".txt"


def format_label_line(file: str, class_id: int) -> str:
    """`p225_001.wav real 0` / `mimi_p225_001.wav fake 1`, with its newline."""
    return f"{file} {'real' if class_id == 0 else 'fake'} {class_id}\n"


def check_relative_name(name: str, where: str, *, error: type[NcstError] = CorpusLayoutError) -> str:
    """Returns `name` if it is a plain relative path that stays inside its folder, else raises `error`.

    Args:
        name: A file or folder name from outside ncst (a label line, a recipe, an archive, a record).
        where: What to name in the error (`label/train.txt:12`, `recipe.toml: subsets[3].folder`).
        error: The exception type to raise.
    """
    problem = _name_problem(name)
    if problem:
        raise error(f"{where}: {name[:120]!r} {problem}")
    return name


def _name_problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a control character"
    if "\\" in name:
        return "contains a backslash"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    if name.startswith("/") or PurePosixPath(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' component"
    return None


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
    valid = frozenset(class_ids) if class_ids is not None else None
    lines: list[LabelLine] = []
    first_line: dict[str, int] = {}
    for lineno, text in enumerate(read_text(path, error=error).splitlines(), 1):
        fields = text.split()
        if not fields:
            continue
        where = f"{path}:{lineno}"
        if len(fields) != 3:
            raise error(f"{where}: expected '<file> <real|fake> <class id>', got {text.strip()[:120]!r}")
        name, kind, class_text = fields
        check_relative_name(name, where, error=error)
        if kind not in REAL_KINDS and kind not in FAKE_KINDS:
            raise error(f"{where}: column 2 is {kind[:40]!r}; expected one of {sorted(REAL_KINDS | FAKE_KINDS)}")
        class_id = _class_id(class_text, valid, where, error)
        if name in first_line:
            raise error(f"{where}: {name!r} is listed again (first on line {first_line[name]}); one line per file")
        first_line[name] = lineno
        lines.append(LabelLine(name, kind, class_id, lineno))
    return lines


def _class_id(text: str, valid: frozenset[int] | None, where: str, error: type[NcstError]) -> int:
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        raise error(f"{where}: class id {text[:40]!r} is not an integer")
    value = int(text)
    if valid is not None and value not in valid:
        raise error(f"{where}: class id {value} is not one of {sorted(valid)}")
    low, high = _CLASS_ID_RANGE
    if not low <= value <= high:
        raise error(f"{where}: class id {value} is outside [{low}, {high}]")
    return value
