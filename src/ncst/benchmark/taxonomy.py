"""Score the `taxonomy` protocol: per-axis F1 on the ID set, per-axis accuracy on every OOD class.

A model trained with `ncst train --task taxonomy` has one head per axis of `ncst.taxonomy` (quantiser,
auxiliary objective, decoder domain), and its dumps hold each head's logits (``logits_<axis>``) and the
taxonomy metadata of its checkpoint: the class table (class id -> three values) and the values the
training set held. Scoring needs nothing else:

* ID eval set (the protocol's ``id_dump``): per axis, macro F1 over the values its truth holds, accuracy and
  the confusion matrix (true x predicted value);
* every OOD class in the dumps (labels >= ``ood_label_min`` in any ``<set>.npz`` of the dumps folder, the
  rows of one class pooled over its sets): per axis, the accuracy against the class's card values, i.e.
  whether the model names the parts of a codec it never saw.

A value that no training class held cannot be predicted (its head output was never a target); those cells
are kept apart from the others (``details["unpredictable"]``) rather than averaged in. The class table comes
from the dumps; a `taxonomy.csv` in the data root (``--data``) overrides it for the classes it lists, e.g.
extension classes added after training.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from ncst.benchmark.dumps import Dump, dump_path, load_dump
from ncst.benchmark.metrics import macro_f1, per_class_f1
from ncst.benchmark.results import ProtocolResult
from ncst.errors import ProtocolError, TaxonomyError
from ncst.io import PathLike
from ncst.protocols import Protocol
from ncst.taxonomy import AXES, TAXONOMY_FILE, UNKNOWN, Taxonomy, axis_values, read_taxonomy_csv

__all__ = ["score_taxonomy"]

log = logging.getLogger(__name__)

_MAX_DUMPS = 10_000


def _meta(dump: Dump) -> tuple[dict[int, Taxonomy], dict[str, list[str]]]:
    """The class table and trained values a taxonomy dump records, checked against this vocabulary."""
    if not dump.axis_logits:
        raise ProtocolError(
            f"{dump.source}: no taxonomy head logits (logits_quantizer, ...); train the model with "
            "`ncst train --task taxonomy` and write its dumps again"
        )
    try:
        meta = json.loads(dump.taxonomy)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ProtocolError(f"{dump.source}: 'taxonomy' is not valid JSON ({err})") from err
    if not isinstance(meta, dict) or meta.get("axes") != {a: list(axis_values(a)) for a in AXES}:
        raise ProtocolError(
            f"{dump.source}: taxonomy axes are not this ncst's vocabulary {dict(zip(AXES, map(axis_values, AXES)))}"
        )
    for axis in AXES:
        if dump.axis_logits[axis].shape[1] != len(axis_values(axis)):
            raise ProtocolError(f"{dump.source}: logits_{axis} has {dump.axis_logits[axis].shape[1]} columns, "
                                f"the axis {len(axis_values(axis))} values")  # fmt: skip
    raw, trained = meta.get("classes"), meta.get("trained_values")
    if not isinstance(raw, dict) or len(raw) > 1000:
        raise ProtocolError(f"{dump.source}: taxonomy.classes must map class ids to three axis values")
    table: dict[int, Taxonomy] = {}
    for key, values in raw.items():
        if not (str(key).isdigit() and len(str(key)) <= 6 and isinstance(values, list) and len(values) == 3):
            raise ProtocolError(f"{dump.source}: taxonomy.classes[{key!r}] must be three axis values")
        try:
            table[int(key)] = Taxonomy(*(str(v) for v in values))
        except TaxonomyError as err:
            raise ProtocolError(f"{dump.source}: taxonomy.classes[{key!r}]: {err}") from err
    if not (isinstance(trained, dict) and all(isinstance(trained.get(a), list) for a in AXES)):
        raise ProtocolError(f"{dump.source}: taxonomy.trained_values must list the values of each axis")
    return table, {a: [v for v in axis_values(a) if v in trained[a]] for a in AXES}


def _truth(table: Mapping[int, Taxonomy], labels: NDArray[np.int64], axis: str) -> NDArray[np.int64]:
    """Value index of each label's class on `axis`; -1 where the class is not in the table or unknown."""
    values = axis_values(axis)
    lookup = {c: values.index(t.value(axis)) for c, t in table.items() if t.value(axis) != UNKNOWN}
    return np.array([lookup.get(int(c), -1) for c in labels], dtype=np.int64)


def _id_cells(dump: Dump, table: Mapping[int, Taxonomy]) -> tuple[dict, dict, dict]:
    cells: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    details: dict[str, Any] = {}
    for axis in AXES:
        values = axis_values(axis)
        truth = _truth(table, dump.labels, axis)
        known = truth >= 0
        if not known.any():
            raise ProtocolError(f"{dump.source}: no file has a known {axis} value; the class table lacks its classes")
        y, pred = truth[known], dump.axis_logits[axis][known].argmax(axis=1)
        present = sorted(set(y.tolist()))
        cells[f"ID/{axis}"] = {"F1": 100.0 * macro_f1(y, pred, present), "accuracy": 100.0 * float(np.mean(y == pred))}
        counts[f"ID/{axis}"] = int(y.size)
        confusion = np.zeros((len(values), len(values)), np.int64)
        np.add.at(confusion, (y, pred), 1)
        f1 = per_class_f1(y, pred, present)
        details[axis] = {
            "values": list(values),
            "F1_per_value": {values[i]: 100.0 * float(v) for i, v in zip(present, f1)},
            "confusion": confusion.tolist(),
        }
    return cells, counts, details


def _ood_dumps(dumps_dir: Path, id_dump: Dump, skip: str) -> list[Dump]:
    paths = sorted(p for p in dumps_dir.glob("*.npz") if p.stem != skip)[:_MAX_DUMPS]
    found: list[Dump] = []
    for path in paths:
        dump = load_dump(path)
        if dump.taxonomy != id_dump.taxonomy:
            log.warning(
                "%s: not written by the model of %s (other or no taxonomy heads); skipped", path, id_dump.source
            )
            continue
        found.append(dump)
    return found


def score_taxonomy(protocol: Protocol, dumps_dir: PathLike, *, data_dir: PathLike | None = None) -> ProtocolResult:
    """Scores the taxonomy protocol from a folder of dumps written by a taxonomy checkpoint.

    Raises:
        ProtocolError: The ID dump is missing, holds no taxonomy logits, or its metadata is malformed.
    """
    dumps_dir = Path(dumps_dir)
    id_dump = load_dump(dump_path(dumps_dir, protocol.id_dump))
    table, trained = _meta(id_dump)
    table_source = "checkpoint"
    if data_dir is not None and (Path(data_dir) / TAXONOMY_FILE).is_file():
        try:
            rows = read_taxonomy_csv(Path(data_dir) / TAXONOMY_FILE)
        except TaxonomyError as err:
            raise ProtocolError(str(err)) from err
        table.update({k: r.taxonomy for k, r in rows.items()})
        table_source = f"checkpoint + {Path(data_dir) / TAXONOMY_FILE}"
    cells, counts, id_details = _id_cells(id_dump, table)
    never = {a: [v for v in axis_values(a) if v not in trained[a]] for a in AXES}
    ood: dict[int, dict[str, Any]] = {}
    rows_by_class: dict[int, list[tuple[str, Dump, NDArray[np.bool_]]]] = {}
    for dump in _ood_dumps(dumps_dir, id_dump, protocol.id_dump):
        for c in np.unique(dump.labels[dump.labels >= protocol.ood_label_min]).tolist():
            rows_by_class.setdefault(int(c), []).append((Path(dump.source).stem, dump, dump.labels == c))
    unpredictable: list[dict[str, Any]] = []
    for c in sorted(rows_by_class):
        parts = rows_by_class[c]
        sets = [name for name, _, _ in parts]
        n = int(sum(int(mask.sum()) for _, _, mask in parts))
        entry: dict[str, Any] = {"sets": sets, "files": n, "axes": {}}
        for axis in AXES:
            values = axis_values(axis)
            truth = table[c].value(axis) if c in table else UNKNOWN
            pred = np.concatenate([d.axis_logits[axis][mask].argmax(axis=1) for _, d, mask in parts])
            predicted = {values[i]: int(k) for i, k in zip(*np.unique(pred, return_counts=True))}
            cell: dict[str, Any] = {"truth": truth, "predicted": predicted}
            if truth != UNKNOWN:
                acc = 100.0 * float(np.mean(pred == values.index(truth)))
                cell.update(accuracy=acc, predictable=truth in trained[axis])
                if truth in trained[axis]:
                    cells[f"{c}/{axis}"] = {"accuracy": acc}
                    counts[f"{c}/{axis}"] = n
                else:
                    unpredictable.append(
                        {"class": c, "axis": axis, "truth": truth, "accuracy": acc, "files": n, "predicted": predicted}
                    )
            entry["axes"][axis] = cell
        ood[c] = entry
    if not ood:
        log.warning("No dump in %s holds a class >= %d: only the ID set is scored", dumps_dir, protocol.ood_label_min)
    details = {
        "id_set": protocol.id_dump,
        "id": id_details,
        "ood": {str(c): e for c, e in ood.items()},
        "trained_values": trained,
        "never_trained": never,
        "unpredictable": unpredictable,
        "class_table": {str(c): list(t.values()) for c, t in sorted(table.items())},
    }
    details["tables"] = _tables(details)
    return ProtocolResult(
        protocol=protocol,
        cells=cells,
        counts=counts,
        source=f"dumps: {dumps_dir}",
        settings={"class_table": table_source, "ood_label_min": protocol.ood_label_min},
        details=details,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _tables(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's tables as plain data (`ncst.benchmark.report` renders them in Markdown and HTML)."""
    tables: list[dict[str, Any]] = []
    id_rows = []
    for axis in AXES:
        d = details["id"][axis]
        per_value = ", ".join(f"{v} {f:.2f}" for v, f in d["F1_per_value"].items())
        id_rows.append([axis, per_value])
    tables.append({
        "title": f"ID eval set ({details['id_set']}): F1 per axis value",
        "header": ["axis", "F1 per value (%)"],
        "rows": id_rows,
    })  # fmt: skip
    for axis in AXES:
        d = details["id"][axis]
        rows = [[v, *(str(x) for x in row)] for v, row in zip(d["values"], d["confusion"])]
        tables.append({"title": f"ID confusion, {axis} (true x predicted)", "header": ["true", *d["values"]],
                       "rows": rows})  # fmt: skip
    ood_rows = []
    for c, e in details["ood"].items():
        truth = " / ".join(details["class_table"].get(c, ["unknown"] * 3))
        row = [c, truth, ", ".join(e["sets"]), str(e["files"])]
        for axis in AXES:
            cell = e["axes"][axis]
            if "accuracy" not in cell:
                row.append("no value")
            elif cell["predictable"]:
                row.append(_pct(cell["accuracy"]))
            else:
                row.append("apart")
        ood_rows.append(row)
    tables.append({
        "title": "OOD classes: accuracy per axis against the card (%); 'apart' = value never in training",
        "header": ["class", "true values (q / aux / dec)", "sets", "files", *AXES],
        "rows": ood_rows,
    })  # fmt: skip
    missing = "; ".join(f"{a}: {', '.join(v)}" for a, v in details["never_trained"].items() if v)
    never = f"values never in training: {missing}" if missing else "every axis value occurs in training"
    tables.append({
        "title": f"Cannot be predicted ({never})",
        "header": ["class", "axis", "true value", "accuracy (%)", "predicted as"],
        "rows": [[str(u["class"]), u["axis"], u["truth"], _pct(u["accuracy"]),
                  ", ".join(f"{v} {k}" for v, k in u["predicted"].items())]
                 for u in details["unpredictable"]],
    })  # fmt: skip
    return tables
