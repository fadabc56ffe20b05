"""Load the benchmark protocols (paper Tables 3-6 of arXiv 2501.06514) from their TOML files.

Each protocol is plain data in ``src/ncst/protocols/<name>.toml``: which sets it scores, where each set's
predictions or dump live, which true label each set has, which metric and how the average is taken, and the
paper's printed values for reference. This module turns one file into frozen dataclasses and validates it.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ncst.errors import ProtocolError
from ncst.io import PathLike, read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "PROTOCOL_NAMES",
    "PathLike",
    "SetSpec",
    "ConditionSpec",
    "Protocol",
    "list_protocols",
    "load_protocol",
]

log = logging.getLogger(__name__)


#: The four protocols of the paper, in table order.
PROTOCOL_NAMES: tuple[str, ...] = ("id_closed_set", "id_robustness", "ood_open_set", "alm_backend")
#: Built-in protocols beyond the paper's (`taxonomy`: per-axis scores of a `--task taxonomy` model).
EXTENSION_PROTOCOLS: tuple[str, ...] = ("taxonomy",)

_KINDS = ("closed_set", "single_class", "open_set", "taxonomy")
#: How labels of a set are obtained.
LABEL_SOURCES = ("constant", "label_file_or_prefix")


@dataclass(frozen=True, slots=True)
class SetSpec:
    """One scored set of an ID protocol (one table column, or the whole eval_id set for Table 3).

    Attributes:
        column: The paper's column name (``"19LA"``, ``"C3-1"``, ``"Moshi"``), or the set name for Table 3.
        result_file: Path of the official result file, relative to the ``--predictions`` folder.
        dump: Dump set name; the dump file is ``<dumps dir>/<dump>.npz``.
        labels: ``"constant"`` (every file has ``label``) or ``"label_file_or_prefix"``.
        label: The constant true class id, or None.
        label_file: Label file relative to the dataset root (``--data``), or None.
        group: Header group in the paper's table (``"unseen real"``), or "".
    """

    column: str
    result_file: str
    dump: str
    labels: str
    label: int | None = None
    label_file: str | None = None
    group: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Returns the spec as a JSON-ready dict."""
        return {s: getattr(self, s) for s in self.__slots__}


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """One OOD condition of Table 5: the OOD set(s) joined with the ID test set.

    Attributes:
        name: Key used in ``report.json`` (``"single7"``).
        title: Human-readable title (``"single codec (7)"``).
        dumps: Alternative lists of dump names; the first list whose files all exist is used and its sets
            are concatenated (``[["voc"], ["19LA_spoof", "ITW_spoof"]]``).
    """

    name: str
    title: str
    dumps: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """Returns the spec as a JSON-ready dict."""
        return {"name": self.name, "title": self.title, "dumps": [list(d) for d in self.dumps]}


@dataclass(frozen=True, slots=True)
class Protocol:
    """A benchmark protocol, as defined by its TOML file.

    Attributes:
        name: Protocol name (``"id_robustness"``).
        title: One-line title for reports.
        paper_table: The paper's table (``"Table 4"``).
        kind: ``"closed_set"`` (Table 3), ``"single_class"`` (Tables 4 and 6), ``"open_set"`` (Table 5) or
            ``"taxonomy"`` (per-axis scores of a taxonomy model: ID set plus every OOD class in the dumps).
        columns: Report columns in the paper's order (ID protocols; empty for the open set).
        average: ``"macro_f1"``, ``"mean_of_columns"`` or ``"none"``.
        metrics: Metric names reported per cell.
        sets: Scored sets (ID protocols).
        conditions: OOD conditions (open set).
        detectors: OOD detector names (open set).
        bank_dump: Dump name of the training bank (open set).
        id_dump: Dump name of the ID test set (open set).
        ood_label_min: Labels at or above this are OOD (open set).
        class_ids: Class ids scored by the closed-set protocol.
        column_titles: Display titles of ``columns`` (defaults to the column names).
        notes: Paper-vs-reference remarks printed in reports.
        paper: Printed paper values per model: ``{model: {column: percent}}``.
    """

    name: str
    title: str
    paper_table: str
    kind: str
    columns: tuple[str, ...]
    average: str
    metrics: tuple[str, ...]
    sets: tuple[SetSpec, ...] = ()
    conditions: tuple[ConditionSpec, ...] = ()
    detectors: tuple[str, ...] = ()
    bank_dump: str = ""
    id_dump: str = ""
    ood_label_min: int = 7
    class_ids: tuple[int, ...] = ()
    column_titles: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    paper: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """Returns the protocol as a JSON-ready dict."""
        return {
            "name": self.name,
            "title": self.title,
            "paper_table": self.paper_table,
            "kind": self.kind,
            "columns": list(self.columns),
            "average": self.average,
            "metrics": list(self.metrics),
            "sets": [s.to_dict() for s in self.sets],
            "conditions": [c.to_dict() for c in self.conditions],
            "detectors": list(self.detectors),
            "notes": list(self.notes),
            "paper": {m: dict(v) for m, v in self.paper.items()},
        }


def list_protocols() -> tuple[str, ...]:
    """Returns the names of the built-in protocols, in the paper's table order."""
    return PROTOCOL_NAMES


def load_protocol(name_or_path: PathLike) -> Protocol:
    """Loads a built-in protocol by name, or a protocol TOML file by path.

    Args:
        name_or_path: One of `PROTOCOL_NAMES`, or the path of a ``.toml`` file with the same schema.

    Returns:
        The validated protocol.

    Raises:
        ProtocolError: If the name is unknown or the file is malformed.
    """
    text, origin = _read_source(name_or_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProtocolError(f"{origin}: invalid TOML: {err}") from err
    return _parse(data, origin)


def _read_source(name_or_path: PathLike) -> tuple[str, str]:
    name = str(name_or_path)
    if name in PROTOCOL_NAMES + EXTENSION_PROTOCOLS:
        res = resources.files("ncst.protocols").joinpath(f"{name}.toml")
        return res.read_text(encoding="utf-8"), f"protocol {name!r}"
    path = Path(name_or_path)
    if path.is_dir():
        raise ProtocolError(f"Protocol {path} is a directory, not a .toml file; choose one of {list(PROTOCOL_NAMES)}")
    if path.suffix == ".toml" and path.is_file():
        return read_text(path, error=ProtocolError), str(path)
    raise ProtocolError(
        f"Unknown protocol {name!r}. Choose one of {list(PROTOCOL_NAMES)} or give the path of a .toml file."
    )


def _require(data: Mapping[str, Any], key: str, typ: type | tuple[type, ...], origin: str) -> Any:
    if key not in data:
        raise ProtocolError(f"{origin}: missing key {key!r}")
    value = data[key]
    if not isinstance(value, typ):
        raise ProtocolError(f"{origin}: key {key!r} has type {type(value).__name__}, expected {typ}")
    return value


def _parse_set(raw: Mapping[str, Any], origin: str) -> SetSpec:
    where = f"{origin} [[sets]] {raw.get('column', '?')!r}"
    label = raw.get("label")
    labels = raw.get("labels", "constant")
    if labels not in LABEL_SOURCES:
        raise ProtocolError(f"{where}: labels={labels!r}; choose one of {list(LABEL_SOURCES)}")
    if labels == "constant" and not isinstance(label, int):
        raise ProtocolError(f"{where}: a constant-label set needs an integer 'label'")
    if labels == "label_file_or_prefix" and not raw.get("label_file"):
        raise ProtocolError(f"{where}: labels='label_file_or_prefix' needs 'label_file'")
    return SetSpec(
        column=_require(raw, "column", str, where),
        result_file=_require(raw, "result_file", str, where),
        dump=_require(raw, "dump", str, where),
        labels=labels,
        label=label,
        label_file=raw.get("label_file"),
        group=raw.get("group", ""),
    )


def _parse_condition(raw: Mapping[str, Any], origin: str) -> ConditionSpec:
    where = f"{origin} [[conditions]] {raw.get('name', '?')!r}"
    options = _require(raw, "dumps", list, where)
    if not options or not all(isinstance(o, list) and o and all(isinstance(d, str) for d in o) for o in options):
        raise ProtocolError(f"{where}: 'dumps' must be a non-empty list of non-empty lists of dump names")
    return ConditionSpec(
        name=_require(raw, "name", str, where),
        title=raw.get("title", raw["name"]),
        dumps=tuple(tuple(o) for o in options),
    )


def _parse(data: Mapping[str, Any], origin: str) -> Protocol:
    kind = _require(data, "kind", str, origin)
    if kind not in _KINDS:
        raise ProtocolError(f"{origin}: kind={kind!r}; choose one of {list(_KINDS)}")
    sets = tuple(_parse_set(s, origin) for s in data.get("sets", []))
    conditions = tuple(_parse_condition(c, origin) for c in data.get("conditions", []))
    columns = tuple(data.get("columns", []))
    if kind == "taxonomy":
        if not data.get("id_dump"):
            raise ProtocolError(f"{origin}: a taxonomy protocol needs 'id_dump' (the ID eval set)")
        metrics = tuple(_require(data, "metrics", list, origin))
    elif kind == "open_set":
        if not conditions:
            raise ProtocolError(f"{origin}: an open-set protocol needs [[conditions]]")
        metrics = tuple(_require(data, "metrics", list, origin))
    else:
        if not sets:
            raise ProtocolError(f"{origin}: an ID protocol needs [[sets]]")
        metrics = (_require(data, "metric", str, origin),)
    if kind == "single_class":
        missing = [s.column for s in sets if s.column not in columns]
        if missing:
            raise ProtocolError(f"{origin}: sets {missing} are not in columns {list(columns)}")
    paper_raw = data.get("paper", {})
    paper = MappingProxyType(
        {model: MappingProxyType({str(k): float(v) for k, v in cells.items()}) for model, cells in paper_raw.items()}
    )
    titles = tuple(data.get("column_titles", columns))
    if len(titles) != len(columns):
        raise ProtocolError(f"{origin}: column_titles has {len(titles)} entries for {len(columns)} columns")
    return Protocol(
        name=_require(data, "name", str, origin),
        title=data.get("title", data["name"]),
        paper_table=data.get("paper_table", ""),
        kind=kind,
        columns=columns,
        average=data.get("average", "none"),
        metrics=metrics,
        sets=sets,
        conditions=conditions,
        detectors=tuple(data.get("detectors", [])),
        bank_dump=data.get("bank_dump", ""),
        id_dump=data.get("id_dump", ""),
        ood_label_min=int(data.get("ood_label_min", 7)),
        class_ids=tuple(int(c) for c in data.get("class_ids", [])),
        column_titles=titles,
        notes=tuple(data.get("notes", [])),
        paper=paper,
    )
