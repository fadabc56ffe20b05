"""Read prediction files in the official ST-Codecfake result format, label files and file-name labels.

A result file has one utterance per line, ``<file name> <predicted class id> <max softmax probability>``
(the layout of ``pretrained_model/<model>/result/`` in the reference repository). A label file has
``<file name> <real|fake> <class id>`` (only columns 1 and 3 are read). File names are matched on their
stem, so ``LA_E_5849185`` (the 19LA results carry no extension) matches ``LA_E_5849185.flac``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ncst.classes import prefix_labels
from ncst.errors import ProtocolError
from ncst.io import PathLike

__all__ = [
    "PREFIX_LABELS",
    "Predictions",
    "read_predictions",
    "read_label_file",
    "label_from_prefix",
    "labels_from_file",
    "labels_from_prefix",
    "utterance_key",
]

log = logging.getLogger(__name__)


#: File-name prefix -> class id of ST-Codecfake's eval_id set (from `ncst.classes`: mimi_ -> 1, ...,
#: snac_ -> 6); a name without one of them is real (0).
PREFIX_LABELS: dict[str, int] = prefix_labels()

_AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


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


def read_predictions(path: PathLike) -> Predictions:
    """Reads one result file (``<file> <pred> <score>`` per line).

    Raises:
        ProtocolError: If the file is missing, empty or a line is malformed (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"Prediction file not found: {path}")
    names: list[str] = []
    preds: list[int] = []
    scores: list[float] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3:
                raise ProtocolError(f"{path}:{lineno}: expected '<file> <pred> <score>', got {line.strip()!r}")
            try:
                preds.append(int(fields[1]))
                scores.append(float(fields[2]))
            except ValueError as err:
                raise ProtocolError(f"{path}:{lineno}: bad prediction or score in {line.strip()!r}") from err
            names.append(fields[0])
    if not names:
        raise ProtocolError(f"Prediction file is empty: {path}")
    return Predictions(tuple(names), np.asarray(preds, np.int64), np.asarray(scores, np.float64), str(path))


def read_label_file(path: PathLike) -> dict[str, int]:
    """Reads a label file (``<file> <real|fake> <class id>``) into ``{utterance_key: class id}``.

    Raises:
        ProtocolError: If the file is missing or a line is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"Label file not found: {path}")
    labels: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 3:
                raise ProtocolError(f"{path}:{lineno}: expected '<file> <real|fake> <id>', got {line.strip()!r}")
            try:
                labels[utterance_key(fields[0])] = int(fields[2])
            except ValueError as err:
                raise ProtocolError(f"{path}:{lineno}: class id {fields[2]!r} is not an integer") from err
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


def labels_from_file(names: tuple[str, ...] | list[str], label_file: PathLike) -> NDArray[np.int64]:
    """Class ids `[N]` of `names` looked up in a label file.

    Raises:
        ProtocolError: If a name is not in the label file (the message names the first few).
    """
    table = read_label_file(label_file)
    keys = [utterance_key(n) for n in names]
    missing = [k for k in keys if k not in table]
    if missing:
        raise ProtocolError(
            f"{len(missing)} predicted files are not in {label_file}, e.g. {missing[:3]}; "
            "check that --data points at the dataset root these predictions were made on"
        )
    return np.fromiter((table[k] for k in keys), np.int64, count=len(keys))
