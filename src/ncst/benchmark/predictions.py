"""Read prediction files in the official ST-Codecfake result format, label files and file-name labels.

A result file has one utterance per line, ``<file name> <predicted class id> <max softmax probability>``
(the layout of ``pretrained_model/<model>/result/`` in the reference repository, whose ALM folder is
``alm/`` or ``ALM/`` depending on the model: `result_path` finds a result file in either case). A label file has
``<file name> <real|fake> <class id>`` (only columns 1 and 3 are read). File names are matched on their
stem, so ``LA_E_5849185`` (the 19LA results carry no extension) matches ``LA_E_5849185.flac``.

Two result layouts are read. The *published* one (``result_id.txt``, ``id_unseen_real/result_unseenreal_19.txt``,
``id_diff_config/result_C3-1.txt``, ``id_diff_source/result_ncssd_mimi.txt``, ``alm/speechgpt-gen.txt``) is
what the authors released; the *official scripts* write the same files flat into their ``result/`` folder
(``result_unseenreal_19.txt``, ``result_C3-1.txt``, ``result_ncssd_mimi.txt``) and name the SpeechGPT-Gen
file ``alm/speechgpt.txt``. `result_path` takes each file from whichever layout holds it (published first),
and `result_layout` names the layout a folder holds, for the report.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from ncst.classes import prefix_labels
from ncst.errors import ProtocolError
from ncst.io import PathLike
from ncst.layout import read_label_file

__all__ = [
    "PREFIX_LABELS",
    "Predictions",
    "read_predictions",
    "read_labels",
    "label_from_prefix",
    "labels_from_file",
    "labels_from_prefix",
    "utterance_key",
    "require_file",
    "result_path",
    "result_layout",
    "script_result_file",
    "PUBLISHED_LAYOUT",
    "SCRIPTS_LAYOUT",
]

log = logging.getLogger(__name__)


#: File-name prefix -> class id of ST-Codecfake's eval_id set (from `ncst.classes`: mimi_ -> 1, ...,
#: snac_ -> 6); a name without one of them is real (0).
PREFIX_LABELS: dict[str, int] = prefix_labels()

_AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class Predictions:
    """Per-utterance predictions of one set.

    Attributes:
        utt_ids: File names as written in the source `[N]`.
        pred: Predicted class ids `[N]`, int64.
        score: Max softmax probability `[N]`, float64 (the reference writes float32 values as text).
        source: Where they were read from, for messages.
    """

    utt_ids: tuple[str, ...]
    pred: NDArray[np.int64]
    score: NDArray[np.float64]
    source: str = ""

    def __len__(self) -> int:
        return len(self.utt_ids)


def utterance_key(name: str) -> str:
    """Returns the matching key of a file name: its base name without an audio extension."""
    base = name.rsplit("/", 1)[-1]
    for suffix in _AUDIO_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


#: Names of the two result layouts, as report.json's ``predictions_layout`` records them.
PUBLISHED_LAYOUT = "published"
SCRIPTS_LAYOUT = "official scripts"

#: Sub-folders of the published layout that the official scripts do not make (they write flat).
_PUBLISHED_SUBFOLDERS = ("id_unseen_real/", "id_diff_config/", "id_diff_source/")
#: Published ALM file name -> the name the official ALM script writes.
_SCRIPT_ALM_NAMES = {"alm/speechgpt-gen.txt": "alm/speechgpt.txt"}


def script_result_file(rel: str) -> str:
    """The name the official scripts give published result file `rel` (``id_diff_config/result_C3-1.txt`` ->
    ``result_C3-1.txt``, ``alm/speechgpt-gen.txt`` -> ``alm/speechgpt.txt``; others are the same)."""
    for folder in _PUBLISHED_SUBFOLDERS:
        if rel.lower().startswith(folder):
            return rel[len(folder) :]
    return _SCRIPT_ALM_NAMES.get(rel.lower(), rel)


def result_layout(predictions_dir: PathLike, rels: Iterable[str]) -> str:
    """Which layout a result folder holds for result files `rels` (published names).

    Returns `PUBLISHED_LAYOUT` when every present file is found under its published name,
    `SCRIPTS_LAYOUT` when at least one is found only under the official scripts' name, and ``"mixed"`` when
    both kinds are present. Files whose name is the same in both layouts (``result_id.txt``,
    ``alm/moshi.txt``) do not count; a folder with no telling file counts as published.
    """
    distinct = [rel for rel in rels if script_result_file(rel) != rel]
    published = sum(_find_path(predictions_dir, rel) is not None for rel in distinct)
    scripts = sum(
        _find_path(predictions_dir, rel) is None and _find_path(predictions_dir, script_result_file(rel)) is not None
        for rel in distinct
    )
    if published and scripts:
        return "mixed"
    return SCRIPTS_LAYOUT if scripts else PUBLISHED_LAYOUT


def result_path(predictions_dir: PathLike, rel: str) -> Path:
    """Where result file `rel` (a published name, ``alm/moshi.txt``) of a result folder is.

    The published name is tried first, then the name the official scripts write (`script_result_file`);
    letter case is matched as `_find_path` does. Returns ``predictions_dir / rel`` when neither exists, so a
    missing file is reported by its published name.
    """
    for name in (rel, script_result_file(rel)):
        found = _find_path(predictions_dir, name)
        if found is not None:
            return found
    return Path(predictions_dir) / rel


def _find_path(predictions_dir: PathLike, rel: str) -> Path | None:
    """Where result file `rel` (``alm/moshi.txt``) of a result folder is, letter case of its parts aside.

    The official result folders spell the ALM folder ``alm/`` (AASIST, W2V2-AASIST) or ``ALM/`` (Mel-LCNN),
    so each part is matched exactly first, else case-insensitively when exactly one entry matches. Returns
    None when nothing matches or the match is not a regular file.
    """
    base = Path(predictions_dir)
    path = base
    for part in rel.split("/"):
        try:
            names = [p.name for p in path.iterdir()]
        except OSError:  # not a folder (or unreadable): the caller reports the expected path
            return None
        if part not in names:
            matches = [n for n in names if n.lower() == part.lower()]
            if len(matches) != 1:
                return None
            part = matches[0]
        path = path / part
    return path if path.exists() else None


def require_file(path: Path, what: str, hint: str = "") -> None:
    """Raises `ProtocolError` unless `path` is an existing regular file (a folder is named as such).

    Args:
        path: The input path.
        what: What the file is, for the message (``"Prediction file"``).
        hint: Appended to the "not found" message, e.g. how to make the file.
    """
    if path.is_dir():
        raise ProtocolError(f"{what} {path} is a directory, not a file")
    if not path.is_file():
        raise ProtocolError(f"{what} not found: {path}{hint}")


def _fields_per_line(path: Path, what: str) -> Iterator[tuple[int, list[str]]]:
    """Yields (1-based line number, whitespace-split fields) of every non-blank line of a UTF-8 text file.

    Raises:
        ProtocolError: On a line that is not UTF-8 text or holds NUL bytes (a binary file).
    """
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ProtocolError(
                    f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                    f"{what} must be plain UTF-8 text"
                ) from err
            if "\x00" in line:
                raise ProtocolError(f"{path}:{lineno}: NUL byte, this is a binary file; {what} must be plain text")
            fields = line.split()
            if fields:
                yield lineno, fields


def _parse_class_id(text: str, class_ids: frozenset[int] | None, where: str) -> int:
    """Parses one class id; rejects non-integers, values outside int64 and ids not in `class_ids`."""
    try:
        value = int(text)
    except ValueError as err:
        raise ProtocolError(f"{where}: class id {text[:40]!r} is not an integer") from err
    if class_ids is not None and value not in class_ids:
        raise ProtocolError(f"{where}: class id {text[:40]} is not one of the protocol's classes {sorted(class_ids)}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ProtocolError(f"{where}: class id {text[:40]} overflows a 64-bit integer")
    return value


def _duplicates_error(
    path: Path, first_line: dict[str, int], repeats: list[tuple[str, int]], what: str
) -> ProtocolError:
    key, lineno = repeats[0]
    n_files = len({k for k, _ in repeats})
    return ProtocolError(
        f"{path}: {n_files} file(s) listed more than once ({len(repeats)} extra lines), e.g. {key!r} on lines "
        f"{first_line[key]} and {lineno}; {what}"
    )


def read_predictions(path: PathLike, *, class_ids: Iterable[int] | None = None) -> Predictions:
    """Reads one result file (``<file> <pred> <score>`` per line).

    Args:
        path: The result file.
        class_ids: Valid predicted class ids (the protocol's classes); None accepts any 64-bit integer.

    Raises:
        ProtocolError: If the file is missing, a directory, empty, not UTF-8 text, lists a file twice, or a
            line is malformed (bad field count, a class id outside `class_ids`, a non-finite score); the
            message names the file and line.
    """
    path = Path(path)
    require_file(path, "Prediction file")
    valid = frozenset(class_ids) if class_ids is not None else None
    names: list[str] = []
    preds: list[int] = []
    scores: list[float] = []
    first_line: dict[str, int] = {}
    repeats: list[tuple[str, int]] = []
    for lineno, fields in _fields_per_line(path, "a prediction file"):
        where = f"{path}:{lineno}"
        if len(fields) != 3:
            raise ProtocolError(f"{where}: expected '<file> <pred> <score>', got {' '.join(fields)[:120]!r}")
        preds.append(_parse_class_id(fields[1], valid, where))
        try:
            score = float(fields[2])
        except ValueError as err:
            raise ProtocolError(f"{where}: score {fields[2][:40]!r} is not a number") from err
        if not math.isfinite(score):
            raise ProtocolError(f"{where}: score {fields[2][:40]!r} is not finite")
        scores.append(score)
        key = utterance_key(fields[0])
        if key in first_line:
            repeats.append((key, lineno))
        else:
            first_line[key] = lineno
        names.append(fields[0])
    if not names:
        raise ProtocolError(f"Prediction file is empty: {path}")
    if repeats:
        raise _duplicates_error(path, first_line, repeats, "each file needs exactly one prediction")
    return Predictions(tuple(names), np.asarray(preds, np.int64), np.asarray(scores, np.float64), str(path))


def read_labels(path: PathLike, *, class_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Reads a label file (`ncst.layout.read_label_file`) into ``{utterance_key: class id}``.

    Args:
        path: The label file.
        class_ids: Valid class ids; None accepts any id the layout's rule does (-1 marks a codec without one).

    Raises:
        ProtocolError: If the file is missing, a directory, not UTF-8 text, lists a file twice (also as
            `x.wav` and `x.flac`, which share a key), or a line is malformed (the message names file and line).
    """
    path = Path(path)
    require_file(path, "Label file")
    labels: dict[str, int] = {}
    first_line: dict[str, int] = {}
    repeats: list[tuple[str, int]] = []
    for line in read_label_file(path, class_ids=class_ids, error=ProtocolError):
        key = utterance_key(line.file)
        labels[key] = line.class_id
        if key in first_line:
            repeats.append((key, line.line))
        else:
            first_line[key] = line.line
    if repeats:
        raise _duplicates_error(path, first_line, repeats, "each file needs exactly one label")
    return labels


def label_from_prefix(name: str) -> int:
    """Class id of an eval_id file from its name prefix (``mimi_`` -> 1, ..., no prefix -> 0)."""
    base = name.rsplit("/", 1)[-1]
    for prefix, label in PREFIX_LABELS.items():
        if base.startswith(prefix):
            return label
    return 0


def labels_from_prefix(names: tuple[str, ...] | list[str]) -> NDArray[np.int64]:
    """Class ids `[N]` of eval_id files from their name prefixes."""
    return np.fromiter((label_from_prefix(n) for n in names), np.int64, count=len(names))


def labels_from_file(
    names: tuple[str, ...] | list[str],
    label_file: PathLike,
    *,
    class_ids: Iterable[int] | None = None,
    skip_missing: bool = False,
) -> NDArray[np.int64]:
    """Class ids `[N]` of `names` looked up in a label file.

    Args:
        names: Predicted file names.
        label_file: The label file.
        class_ids: Valid class ids (the protocol's classes); None accepts any.
        skip_missing: Only warn (instead of raising) when the label file lists files that have no prediction.

    Raises:
        ProtocolError: If a name is not in the label file, or (unless `skip_missing`) a labelled file has no
            prediction; the message gives the count and the first few.
    """
    table = read_labels(label_file, class_ids=class_ids)
    keys = [utterance_key(n) for n in names]
    missing = [k for k in keys if k not in table]
    if missing:
        raise ProtocolError(
            f"{len(missing)} predicted files are not in {label_file}, e.g. {missing[:3]}; "
            "check that --data points at the dataset root these predictions were made on"
        )
    unpredicted = len(table) - len(set(keys))
    if unpredicted > 0:
        predicted = set(keys)
        examples = [k for k in table if k not in predicted][:3]
        message = f"{unpredicted} of the {len(table)} files in {label_file} have no prediction, e.g. {examples}"
        if not skip_missing:
            raise ProtocolError(f"{message}; pass --skip-missing to score only the predicted files")
        log.warning("%s; scoring only the %d predicted files (--skip-missing)", message, len(keys))
    return np.fromiter((table[k] for k in keys), np.int64, count=len(keys))
