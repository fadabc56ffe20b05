"""Model output dumps: per-set logits and embeddings, the input of the OOD protocol.

One ``.npz`` file per set, ``<dumps dir>/<set>.npz``, holding:

* ``utt_ids``: `[N]` unicode strings (file names as in the label files);
* ``logits``: `[N, 7]` float32, the 7-way classifier outputs (classes 0-6);
* ``embeddings``: `[N, D]` float32, the OOD feature (Mel-LCNN 256-d, AASIST and W2V2-AASIST 160-d);
* ``labels``: `[N]` int64 true class ids (0-6 ID, 7-11 OOD).

A model trained with ``--task taxonomy`` adds (optional keys; dumps without them load as before):

* ``logits_quantizer``, ``logits_auxiliary``, ``logits_decoder``: `[N, K]` float32, one head per taxonomy
  axis, columns in `ncst.taxonomy.axis_values` order;
* ``taxonomy``: a 0-d string, the checkpoint's taxonomy metadata as JSON (axis vocabularies, the class
  table, the values the training set held).

The inference code calls `save_dump` once per set; `load_dump` validates shapes and dtypes and names the
file in every error. Set names used by the protocols: ``train`` (the OOD bank), ``eval_id``,
``eval_ood7``, ``eval_ood8-11``, ``voc`` (or ``19LA_spoof`` and ``ITW_spoof``), ``wavtokenizer_small40``,
``NCSSD_wavtokenizer``, and the Table 4/6 set names given in the protocol files.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ncst.benchmark.predictions import require_file
from ncst.errors import ProtocolError
from ncst.io import PathLike, atomic_open
from ncst.taxonomy import AXES as _AXES

__all__ = ["AXIS_PREFIX", "N_ID_CLASSES", "Dump", "save_dump", "load_dump", "dump_path"]

log = logging.getLogger(__name__)

#: Width of the logits: the 7 in-distribution classes.
N_ID_CLASSES = 7
_KEYS = ("utt_ids", "logits", "embeddings", "labels")
#: Prefix of the optional per-axis logits (``logits_<axis>``) of a taxonomy model.
AXIS_PREFIX = "logits_"
_MAX_META_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class Dump:
    """Model outputs on one set.

    Attributes:
        utt_ids: File names `[N]`.
        logits: Classifier outputs `[N, 7]`, float32.
        embeddings: OOD features `[N, D]`, float32.
        labels: True class ids `[N]`, int64.
        source: File it was read from, for messages.
        axis_logits: `{axis: [N, K] float32}` of a taxonomy model, or empty.
        taxonomy: The taxonomy metadata JSON text of a taxonomy model, or "".
    """

    utt_ids: NDArray[np.str_]
    logits: NDArray[np.float32]
    embeddings: NDArray[np.float32]
    labels: NDArray[np.int64]
    source: str = ""
    axis_logits: Mapping[str, NDArray[np.float32]] = field(default_factory=dict)
    taxonomy: str = ""

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def pred(self) -> NDArray[np.int64]:
        """Predicted class ids `[N]`: argmax of the logits."""
        return self.logits.argmax(axis=1).astype(np.int64)

    @property
    def msp(self) -> NDArray[np.float32]:
        """Max softmax probability `[N]`, float32 like the reference's result files."""
        shifted = self.logits - self.logits.max(axis=1, keepdims=True)
        prob = np.exp(shifted)
        return (prob.max(axis=1) / prob.sum(axis=1)).astype(np.float32)

    @staticmethod
    def concat(dumps: list[Dump]) -> Dump:
        """Concatenates dumps of the same model (same embedding width) in order."""
        if not dumps:
            raise ProtocolError("Dump.concat: nothing to concatenate")
        widths = {d.embeddings.shape[1] for d in dumps}
        if len(widths) > 1:
            raise ProtocolError(f"Dumps have different embedding widths {sorted(widths)}: {[d.source for d in dumps]}")
        return Dump(
            np.concatenate([d.utt_ids for d in dumps]),
            np.concatenate([d.logits for d in dumps]),
            np.concatenate([d.embeddings for d in dumps]),
            np.concatenate([d.labels for d in dumps]),
            "+".join(d.source for d in dumps),
        )


def dump_path(dumps_dir: PathLike, set_name: str) -> Path:
    """Returns the path of a set's dump: ``<dumps_dir>/<set_name>.npz``."""
    return Path(dumps_dir) / f"{set_name}.npz"


def _validate(utt_ids: NDArray, logits: NDArray, embeddings: NDArray, labels: NDArray, where: str) -> None:
    if utt_ids.ndim != 1 or labels.ndim != 1:
        raise ProtocolError(f"{where}: utt_ids and labels must be 1-D, got {utt_ids.shape} and {labels.shape}")
    n = labels.shape[0]
    if logits.ndim != 2 or logits.shape != (n, N_ID_CLASSES):
        raise ProtocolError(f"{where}: logits must be [N={n}, {N_ID_CLASSES}], got {logits.shape}")
    if embeddings.ndim != 2 or embeddings.shape[0] != n or embeddings.shape[1] < 1:
        raise ProtocolError(f"{where}: embeddings must be [N={n}, D], got {embeddings.shape}")
    if utt_ids.shape[0] != n:
        raise ProtocolError(f"{where}: {utt_ids.shape[0]} utt_ids for {n} labels")
    if n == 0:
        raise ProtocolError(f"{where}: the set is empty")
    if not (np.isfinite(logits).all() and np.isfinite(embeddings).all()):
        raise ProtocolError(f"{where}: logits or embeddings contain NaN or Inf")
    if labels.min() < 0:
        raise ProtocolError(f"{where}: labels must be class ids >= 0, got {int(labels.min())}")
    unique, first, counts = np.unique(utt_ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        repeated = counts > 1
        example = int(first[repeated][0])
        raise ProtocolError(
            f"{where}: {int(repeated.sum())} utt_ids appear more than once ({int((counts[repeated] - 1).sum())} "
            f"extra rows), e.g. {str(utt_ids[example])!r} at row {example}; each utterance needs exactly one row"
        )


def save_dump(
    path: PathLike,
    *,
    utt_ids: ArrayLike,
    logits: ArrayLike,
    embeddings: ArrayLike,
    labels: ArrayLike,
    axis_logits: Mapping[str, ArrayLike] | None = None,
    taxonomy: str = "",
) -> Path:
    """Validates and writes one set's dump atomically (temporary file, then rename).

    Args:
        path: Target ``.npz`` path (use `dump_path`).
        utt_ids: File names `[N]`.
        logits: `[N, 7]`, cast to float32.
        embeddings: `[N, D]`, cast to float32.
        labels: `[N]` integer class ids, cast to int64.
        axis_logits: `{axis: [N, K]}` of a taxonomy model (saved as ``logits_<axis>``), cast to float32.
        taxonomy: The taxonomy metadata JSON (with `axis_logits`).

    Returns:
        The written path.

    Raises:
        ProtocolError: If shapes or values are inconsistent.
    """
    path = Path(path)
    arrays = {
        "utt_ids": np.asarray(utt_ids, dtype=np.str_),
        "logits": np.asarray(logits, dtype=np.float32),
        "embeddings": np.asarray(embeddings, dtype=np.float32),
        "labels": np.asarray(labels),
    }
    if not np.issubdtype(arrays["labels"].dtype, np.integer):
        raise ProtocolError(f"{path}: labels must be integers, got dtype {arrays['labels'].dtype}")
    arrays["labels"] = arrays["labels"].astype(np.int64)
    _validate(arrays["utt_ids"], arrays["logits"], arrays["embeddings"], arrays["labels"], str(path))
    for axis, values in (axis_logits or {}).items():
        arrays[AXIS_PREFIX + axis] = _check_axis(
            np.asarray(values, dtype=np.float32), axis, len(arrays["labels"]), path
        )
    if axis_logits:
        arrays["taxonomy"] = np.asarray(taxonomy, dtype=np.str_)
    with atomic_open(path, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    log.debug("Wrote %d utterances to %s", arrays["labels"].shape[0], path)
    return path


def load_dump(path: PathLike) -> Dump:
    """Reads and validates one set's dump.

    Raises:
        ProtocolError: If the file is missing, lacks a key, or has inconsistent shapes or dtypes.
    """
    path = Path(path)
    require_file(path, "Dump file", " (write it with ncst.benchmark.save_dump)")
    if path.stat().st_size == 0:
        raise ProtocolError(f"{path}: empty file, not a .npz dump; rewrite it with ncst.benchmark.save_dump")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ProtocolError(f"{path}: a single .npy array, not a .npz dump holding {list(_KEYS)}")
        with loaded as data:
            missing = [k for k in _KEYS if k not in data.files]
            if missing:
                raise ProtocolError(f"{path}: missing arrays {missing}; a dump holds {list(_KEYS)}")
            utt_ids, logits, embeddings, labels = (data[k] for k in _KEYS)
            axis_raw = {a: data[AXIS_PREFIX + a] for a in _AXES if AXIS_PREFIX + a in data.files}
            meta_raw = data["taxonomy"] if "taxonomy" in data.files else None
    except ProtocolError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        # a truncated archive raises BadZipFile, EOFError or zlib.error depending on where it was cut
        reason = str(err) or type(err).__name__
        raise ProtocolError(f"{path}: not a readable .npz dump, truncated or corrupt ({reason})") from err
    if utt_ids.dtype.kind not in "UO":
        raise ProtocolError(f"{path}: utt_ids must be strings, got dtype {utt_ids.dtype}")
    if logits.dtype != np.float32 or embeddings.dtype != np.float32:
        raise ProtocolError(f"{path}: logits/embeddings must be float32, got {logits.dtype}/{embeddings.dtype}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ProtocolError(f"{path}: labels must be integers, got dtype {labels.dtype}")
    _validate(utt_ids, logits, embeddings, labels, str(path))
    axis_logits = {a: _check_axis(v, a, labels.shape[0], path) for a, v in axis_raw.items()}
    meta = ""
    if meta_raw is not None:
        if meta_raw.dtype.kind != "U" or meta_raw.ndim != 0 or meta_raw.itemsize > 4 * _MAX_META_CHARS:
            raise ProtocolError(f"{path}: 'taxonomy' must be one string of at most {_MAX_META_CHARS} characters")
        meta = str(meta_raw)
    if axis_logits and (set(axis_logits) != set(_AXES) or not meta):
        raise ProtocolError(f"{path}: a taxonomy dump holds logits_{'/'.join(_AXES)} and 'taxonomy' together")
    return Dump(utt_ids.astype(np.str_), logits, embeddings, labels.astype(np.int64), str(path), axis_logits, meta)


def _check_axis(values: NDArray, axis: str, n: int, path: Path) -> NDArray[np.float32]:
    if axis not in _AXES:
        raise ProtocolError(f"{path}: no taxonomy axis {axis!r}; axes are {list(_AXES)}")
    if values.dtype != np.float32 or values.ndim != 2 or values.shape[0] != n or not 1 <= values.shape[1] <= 64:
        raise ProtocolError(
            f"{path}: {AXIS_PREFIX}{axis} must be float32 [N={n}, K], got {values.dtype} {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ProtocolError(f"{path}: {AXIS_PREFIX}{axis} contains NaN or Inf")
    return values
