"""The ST-Codecfake class table: class id, codec family, file prefix, ID or OOD (classes 0-11).

Xie et al., "Neural Codec Source Tracing: Toward Comprehensive Attribution in Open-Set Condition",
arXiv 2501.06514, Table 2. The data live in `classes.toml` next to this module; codec cards, the
prediction readers, the tests and the docs read them from here, so there is one list. Importing this
module never imports torch.

Ids 0-6 and 7 (WavTokenizer) are confirmed by the authors' repository; which of ids 8-11 is which
codec is not stated anywhere, so the table follows the paper's Table 2 order (`status = "inferred"`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CLASSES",
    "CodecClass",
    "ID_CLASS_IDS",
    "OOD_CLASS_IDS",
    "REAL_CLASS_ID",
    "class_by_id",
    "class_by_key",
    "prefix_labels",
]

REAL_CLASS_ID = 0


@dataclass(frozen=True, slots=True)
class CodecClass:
    """One row of the class table.

    Attributes:
        class_id: Official class id (label-file column 3).
        key: Registry key of the codec that makes this class (`"real"` for class 0).
        family: Human-readable name.
        split: `"ID"` (classes 0-6, seen in training) or `"OOD"` (7-11).
        file_prefix: Prefix of generated file names (`<prefix>_<utt>.wav`); empty for real speech.
        prefix_official: Whether the official eval files carry this prefix (the OOD sets are folder-based).
        status: `"confirmed"` or `"inferred"` (see docs/reference_system.md §3).
    """

    class_id: int
    key: str
    family: str
    split: str
    file_prefix: str
    prefix_official: bool
    status: str

    @property
    def is_ood(self) -> bool:
        return self.split == "OOD"

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "key": self.key,
            "family": self.family,
            "split": self.split,
            "file_prefix": self.file_prefix,
            "prefix_official": self.prefix_official,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CodecClass":
        return cls(
            class_id=int(d["id"] if "id" in d else d["class_id"]),
            key=str(d["key"]),
            family=str(d["family"]),
            split=str(d["split"]),
            file_prefix=str(d["file_prefix"]),
            prefix_official=bool(d["prefix_official"]),
            status=str(d["status"]),
        )


def _load() -> tuple[CodecClass, ...]:
    text = resources.files("ncst").joinpath("classes.toml").read_text(encoding="utf-8")
    rows = tuple(CodecClass.from_dict(row) for row in tomllib.loads(text)["class"])
    ids = [row.class_id for row in rows]
    if ids != list(range(len(rows))):
        raise ValueError(f"ncst/classes.toml: class ids must be 0..{len(rows) - 1} in order, got {ids}")
    for row in rows:
        if row.split not in ("ID", "OOD"):
            raise ValueError(f"ncst/classes.toml: class {row.class_id} has split {row.split!r}; use ID or OOD")
    return rows


#: Every class, indexed by class id.
CLASSES: tuple[CodecClass, ...] = _load()
#: Classes a source-tracing model is trained on (0-6).
ID_CLASS_IDS: tuple[int, ...] = tuple(c.class_id for c in CLASSES if not c.is_ood)
#: Classes unseen at training time (7-11).
OOD_CLASS_IDS: tuple[int, ...] = tuple(c.class_id for c in CLASSES if c.is_ood)
_BY_KEY = {c.key: c for c in CLASSES}


def class_by_id(class_id: int) -> CodecClass:
    """The row of `class_id` (0-11)."""
    if not 0 <= class_id < len(CLASSES):
        raise KeyError(f"no ST-Codecfake class {class_id}; class ids are 0..{len(CLASSES) - 1}")
    return CLASSES[class_id]


def class_by_key(key: str) -> CodecClass:
    """The row whose codec registry key is `key` (`"encodec"` -> class 4)."""
    if key not in _BY_KEY:
        raise KeyError(f"no ST-Codecfake class for codec {key!r}; known: {sorted(_BY_KEY)}")
    return _BY_KEY[key]


def prefix_labels(*, official_only: bool = True) -> dict[str, int]:
    """`{"<prefix>_": class id}` for the fake classes, e.g. `{"mimi_": 1, ..., "snac_": 6}`.

    With `official_only`, only prefixes the official files carry (the eval_id classes 1-6).
    """
    return {
        f"{c.file_prefix}_": c.class_id for c in CLASSES if c.file_prefix and (c.prefix_official or not official_only)
    }
