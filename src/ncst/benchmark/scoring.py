"""Score a protocol from prediction files or dumps, and write its report: the library behind `run-protocol`.

Inputs:

* ``predictions_dir``: the official result layout (``result_id.txt``, ``id_unseen_real/...``,
  ``id_diff_config/...``, ``id_diff_source/...``, ``alm/...`` or ``ALM/...``; each protocol file names the
  paths, and a folder or file spelt in another letter case is found too), one
  ``<file> <pred> <max softmax>`` line per utterance;
* ``dumps_dir``: our ``<set>.npz`` dumps (prediction = argmax of the logits, score = max softmax);
* ``data_dir``: a dataset root, used only for label files (Table 3 reads ``label/eval_id.txt``).

Tables 4 and 6 use each set's constant true label from the protocol file. Table 3 uses the label file when
``data_dir`` is given, otherwise the dump's labels, otherwise the file-name prefix.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ncst.benchmark.bootstrap import DEFAULT_SEED, bootstrap_closed_set, bootstrap_single_class
from ncst.benchmark.dumps import dump_path, load_dump
from ncst.benchmark.metrics import macro_f1, per_class_f1, single_class_f1
from ncst.benchmark.ood import protocol_dumps, score_open_set
from ncst.benchmark.predictions import (
    labels_from_file,
    labels_from_prefix,
    read_predictions,
    result_layout,
    result_path,
)
from ncst.benchmark.results import ProtocolResult
from ncst.errors import ProtocolError
from ncst.io import PathLike
from ncst.protocols import PROTOCOL_NAMES, Protocol, SetSpec, load_protocol
from ncst.sets import OFFICIAL_CLASS_COUNT, discover_sets, recipe_classes
from ncst.taxonomy import TAXONOMY_FILE, read_taxonomy_csv

__all__ = ["score_protocol", "run_protocol", "check_out_dir", "referenced_sets", "unscored_inputs"]

log = logging.getLogger(__name__)

_N_CLASSES = 7
_MAX_CLASS_ID = 1023  # as the model data reader (`ncst.models.data.MAX_CLASS_ID`)


def _class_ids(protocol: Protocol) -> tuple[int, ...]:
    """Class ids a prediction may take: the protocol's, or the 7 ID classes of the classifier."""
    return protocol.class_ids or tuple(range(_N_CLASSES))


def _load_set(
    spec: SetSpec, predictions_dir: PathLike | None, dumps_dir: PathLike | None, class_ids: tuple[int, ...]
) -> tuple[tuple[str, ...], NDArray[np.int64], NDArray[np.int64] | None, str]:
    """Returns (file names, predicted ids, dump labels or None, source path) of one set."""
    if predictions_dir is not None:
        preds = read_predictions(result_path(predictions_dir, spec.result_file), class_ids=class_ids)
        return preds.utt_ids, preds.pred, None, preds.source
    if dumps_dir is None:
        raise ProtocolError("Give --predictions DIR or --dumps DIR")
    dump = load_dump(dump_path(dumps_dir, spec.dump))
    return tuple(str(u) for u in dump.utt_ids), dump.pred, dump.labels, dump.source


def _id_label_file(data_dir: Path, label_file: str) -> Path:
    """The label file under the root; ``eval_id.txt`` may also sit at the root, where the official config has it."""
    path = data_dir / label_file
    if not path.is_file() and (data_dir / Path(label_file).name).is_file() and Path(label_file).name == "eval_id.txt":
        return data_dir / "eval_id.txt"
    return path


def _codec_names(data_dir: PathLike | None) -> dict[int, str]:
    """Class id -> codec spec from the root's recipe.json ``classes``, else its ``taxonomy.csv`` (empty without)."""
    if data_dir is None:
        return {}
    names = {c: str(e["codec"]) for c, e in recipe_classes(data_dir).items() if isinstance(e.get("codec"), str)}
    table = Path(data_dir) / TAXONOMY_FILE
    if not names and table.is_file():  # a root without recipe.json (the demo's) may still name its classes
        names = {c: row.codec for c, row in read_taxonomy_csv(table).items()}
    return names


def referenced_sets() -> set[str]:
    """Every dump name a built-in protocol reads (open set: bank, ID set and every condition's alternatives)."""
    names: set[str] = set()
    for proto_name in PROTOCOL_NAMES:
        proto = load_protocol(proto_name)
        names.update(s.dump for s in proto.sets)
        if proto.kind == "open_set":
            names.update(protocol_dumps(proto))
    return names


def unscored_inputs(dumps_dir: PathLike | None, data_dir: PathLike | None, ood_label_min: int = 7) -> list[str]:
    """Label files of `data_dir` and dumps of `dumps_dir` that no protocol scores, for the report.

    A set is scored when a built-in protocol names it, or when it holds OOD classes (>= `ood_label_min`),
    which ``ood_open_set`` scores as extension conditions; ``dev`` (model selection) is not a test set. A
    label file with no audio folder is never a set.
    """
    referenced = referenced_sets() | {"dev"}  # dev is for model selection, never a test set
    out: list[str] = []
    if data_dir is not None:
        root = Path(data_dir)
        sets = discover_sets(root)
        covered = {s.label_file for s in sets if s.label_file}
        for info in sets:
            ood = info.role == "ood" or any(c >= ood_label_min for c in info.class_ids)
            if info.name not in referenced and not ood:
                out.append(info.label_file or info.audio_dir)
        label_dir = root / "label"
        if label_dir.is_dir():
            out += [f"label/{p.name} (no audio folder)" for p in sorted(label_dir.glob("*.txt"))
                    if f"label/{p.name}" not in covered]  # fmt: skip
    if dumps_dir is not None:
        for path in sorted(Path(dumps_dir).glob("*.npz")):
            if path.stem in referenced:
                continue
            if not (load_dump(path).labels >= ood_label_min).any():
                out.append(path.name)
    return out


def _expected_path(spec: SetSpec, predictions_dir: PathLike | None, dumps_dir: PathLike | None) -> Path:
    if predictions_dir is not None:
        return result_path(predictions_dir, spec.result_file)
    return dump_path(dumps_dir or ".", spec.dump)


def _score_closed_set(
    protocol: Protocol,
    predictions_dir: PathLike | None,
    dumps_dir: PathLike | None,
    data_dir: PathLike | None,
    n_bootstrap: int,
    seed: int,
    skip_missing: bool = False,
    codecs: dict[int, str] | None = None,
) -> ProtocolResult:
    spec = protocol.sets[0]
    labels = _class_ids(protocol)
    allowed = (*labels, *range(OFFICIAL_CLASS_COUNT, _MAX_CLASS_ID + 1))  # extension ID classes: 12 and up
    names, pred, dump_labels, source = _load_set(spec, predictions_dir, dumps_dir, allowed)
    if data_dir is not None and spec.label_file:
        label_file = _id_label_file(Path(data_dir), spec.label_file)
        y_true = labels_from_file(names, label_file, class_ids=allowed, skip_missing=skip_missing)
        label_source = f"label file {label_file}"
    elif dump_labels is not None:
        outside = ~np.isin(dump_labels, allowed)
        if outside.any():
            row = int(np.argmax(outside))
            raise ProtocolError(
                f"{source}: {int(outside.sum())} labels are outside the protocol's classes {list(labels)}, "
                f"e.g. {int(dump_labels[row])} at row {row} ({names[row]!r})"
            )
        y_true, label_source = dump_labels, "dump labels"
    else:
        y_true, label_source = labels_from_prefix(names), "file-name prefix"
        log.warning("No --data given: true labels of %s come from file-name prefixes", spec.column)
    ext_ids = sorted(int(c) for c in np.unique(y_true) if int(c) not in labels)
    stray = ~np.isin(pred, (*labels, *ext_ids))
    if stray.any():  # a class id of 12 or more is a valid prediction only where it is a class of the ID set
        row = int(np.argmax(stray))
        raise ProtocolError(
            f"{source}: {int(stray.sum())} predictions are outside the classes {[*labels, *ext_ids]}, "
            f"e.g. {int(pred[row])} for {names[row]!r}"
        )
    all_true, all_pred = y_true, pred
    if ext_ids:  # the paper's columns are over the paper's classes only, as without the extension
        keep = np.isin(y_true, labels)
        y_true, pred = y_true[keep], pred[keep]
    f1 = per_class_f1(y_true, pred, labels)
    cells: dict[str, dict[str, float]] = {str(c): {"F1": 100.0 * float(v)} for c, v in zip(labels, f1)}
    cells["AVG"] = {"F1": 100.0 * macro_f1(y_true, pred, labels), "accuracy": 100.0 * float(np.mean(y_true == pred))}
    extensions: dict[str, str] = {}
    for c, v in zip(ext_ids, per_class_f1(all_true, all_pred, ext_ids) if ext_ids else []):
        name = f"ext{c}"
        cells[name] = {"F1": 100.0 * float(v)}
        spec_name = (codecs or {}).get(c)
        extensions[name] = f"{name} ({spec_name}, class {c})" if spec_name else f"{name} (class {c})"
    if n_bootstrap > 0:
        per_class, macro = bootstrap_closed_set(y_true, pred, labels, n_resamples=n_bootstrap, seed=seed)
        for c, ci in zip(labels, per_class):
            cells[str(c)].update(F1_CI95_low=100.0 * ci.low, F1_CI95_high=100.0 * ci.high)
        cells["AVG"].update(F1_CI95_low=100.0 * macro.low, F1_CI95_high=100.0 * macro.high)
    all_ids = sorted(set(labels) | set(np.unique(all_pred).tolist()) | set(np.unique(all_true).tolist()))
    confusion = np.zeros((len(all_ids), len(all_ids)), np.int64)
    pos = {c: i for i, c in enumerate(all_ids)}
    np.add.at(confusion, ([pos[int(v)] for v in all_true], [pos[int(v)] for v in all_pred]), 1)
    counts = {str(c): int((y_true == c).sum()) for c in labels}
    counts["AVG"] = int(y_true.size)
    counts.update({f"ext{c}": int((all_true == c).sum()) for c in ext_ids})
    return ProtocolResult(
        protocol=protocol,
        cells=cells,
        counts=counts,
        source=source,
        confusion=confusion,
        confusion_rows=tuple(str(c) for c in all_ids),
        confusion_cols=tuple(str(c) for c in all_ids),
        extensions=extensions,
        settings={"n_bootstrap": n_bootstrap, "seed": seed, "labels": label_source},
    )


def _score_single_class(
    protocol: Protocol,
    predictions_dir: PathLike | None,
    dumps_dir: PathLike | None,
    n_bootstrap: int,
    seed: int,
    skip_missing: bool,
) -> ProtocolResult:
    cells: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    rows: list[NDArray[np.int64]] = []
    correct: list[int] = []
    scored: list[str] = []
    for spec in protocol.sets:
        if skip_missing and not _expected_path(spec, predictions_dir, dumps_dir).is_file():
            log.warning("Skipping %s: %s is missing", spec.column, _expected_path(spec, predictions_dir, dumps_dir))
            continue
        _, pred, dump_labels, source = _load_set(spec, predictions_dir, dumps_dir, _class_ids(protocol))
        if spec.label is None:
            raise ProtocolError(f"{protocol.name}: set {spec.column!r} has no constant label")
        if dump_labels is not None and (dump_labels != spec.label).any():
            log.warning("%s: dump labels differ from the protocol's label %d; using %d", source, spec.label, spec.label)
        cells[spec.column] = {"F1": 100.0 * single_class_f1(pred, spec.label)}
        counts[spec.column] = int(pred.size)
        correct.append(int((pred == spec.label).sum()))
        rows.append(np.bincount(pred, minlength=_N_CLASSES))
        scored.append(spec.column)
    if not scored:
        raise ProtocolError(f"No set of {protocol.name} could be scored")
    complete = len(scored) == len(protocol.sets)
    cells["AVG"] = {"F1": float(np.mean([cells[c]["F1"] for c in scored]))}
    if not complete:
        log.warning("AVG of %s is over %d of %d columns", protocol.name, len(scored), len(protocol.sets))
    if n_bootstrap > 0:
        per_set, mean = bootstrap_single_class(correct, [counts[c] for c in scored], n_resamples=n_bootstrap, seed=seed)
        for col, ci in zip(scored + ["AVG"], per_set + [mean]):
            cells[col].update(F1_CI95_low=100.0 * ci.low, F1_CI95_high=100.0 * ci.high)
    width = max(r.size for r in rows)
    confusion = np.stack([np.pad(r, (0, width - r.size)) for r in rows])
    return ProtocolResult(
        protocol=protocol,
        cells={c: cells[c] for c in [*protocol.columns] if c in cells},
        counts=counts,
        source=str(predictions_dir if predictions_dir is not None else dumps_dir),
        confusion=confusion,
        confusion_rows=tuple(scored),
        confusion_cols=tuple(str(c) for c in range(width)),
        settings={"n_bootstrap": n_bootstrap, "seed": seed, "complete": complete},
    )


def score_protocol(
    protocol: str | Protocol,
    *,
    predictions_dir: PathLike | None = None,
    dumps_dir: PathLike | None = None,
    data_dir: PathLike | None = None,
    n_bootstrap: int = 1000,
    n_bootstrap_ood: int = 100,
    seed: int = DEFAULT_SEED,
    skip_missing: bool = False,
    device: str = "cpu",
) -> ProtocolResult:
    """Scores one protocol from prediction files or dumps (exactly one of the two).

    Args:
        protocol: A protocol name (``"id_robustness"``), a TOML path, or a loaded `Protocol`.
        predictions_dir: Official result folder (ID protocols only).
        dumps_dir: Folder of ``<set>.npz`` dumps (any protocol; required by ``ood_open_set``).
        data_dir: Dataset root, for label files.
        n_bootstrap: Bootstrap replicates of the ID intervals (0 = none).
        n_bootstrap_ood: Bootstrap replicates per OOD cell (0 = none).
        seed: Bootstrap seed.
        skip_missing: Skip sets whose files are missing (AVG then covers the scored columns only), and on the
            closed set score only the predicted files of a label file that lists more.
        device: Torch device for the KNN detector.

    Returns:
        The protocol's cells (percent) and plot data.

    Raises:
        ProtocolError: On a bad combination of inputs or a missing/malformed file (the path is named).
    """
    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    if (predictions_dir is None) == (dumps_dir is None):
        raise ProtocolError("Give exactly one of predictions_dir (--predictions) and dumps_dir (--dumps)")
    for what, folder in (("predictions", predictions_dir), ("dumps", dumps_dir), ("data", data_dir)):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise ProtocolError(f"--{what} {folder} is a file, not a folder")
        if folder is not None and not Path(folder).is_dir():
            raise ProtocolError(f"The {what} folder does not exist: {folder}")
    if proto.kind == "open_set":
        if dumps_dir is None:
            raise ProtocolError(
                f"{proto.name} needs embeddings and logits: give --dumps DIR with "
                f"{proto.bank_dump}.npz, {proto.id_dump}.npz and one dump per condition; result files hold "
                "only the max softmax of ID sets"
            )
        result = score_open_set(
            proto, dumps_dir, n_bootstrap=n_bootstrap_ood, seed=seed, skip_missing=skip_missing, device=device,
            codecs=_codec_names(data_dir),
        )  # fmt: skip
    elif proto.kind == "closed_set":
        result = _score_closed_set(
            proto, predictions_dir, dumps_dir, data_dir, n_bootstrap, seed, skip_missing, _codec_names(data_dir)
        )
    elif proto.kind == "taxonomy":
        from ncst.benchmark.taxonomy import score_taxonomy

        if dumps_dir is None:
            raise ProtocolError(f"{proto.name} needs the taxonomy heads' logits: give --dumps DIR or --checkpoint")
        result = score_taxonomy(proto, dumps_dir, data_dir=data_dir)
    else:
        result = _score_single_class(proto, predictions_dir, dumps_dir, n_bootstrap, seed, skip_missing)
    result = _record_run(result, skip_missing, predictions_dir if proto.kind != "open_set" else None)
    not_scored = unscored_inputs(dumps_dir, data_dir, proto.ood_label_min if proto.kind == "open_set" else 7)
    for name in not_scored:
        log.warning("Not scored by any protocol: %s", name)
    return dataclasses.replace(result, not_scored=tuple(not_scored))


def _record_run(result: ProtocolResult, skip_missing: bool, predictions_dir: PathLike | None) -> ProtocolResult:
    """Adds ``skip_missing``, the skipped columns and (for result files) the layout read to the settings."""
    proto = result.protocol
    scored = {col.split("/", 1)[0] for col in result.cells}
    settings: dict[str, Any] = {
        **result.settings,
        "skip_missing": skip_missing,
        "skipped": [c for c in (*proto.columns, *(c.name for c in proto.conditions)) if c != "AVG" and c not in scored],
    }
    if predictions_dir is not None:
        layout = result_layout(predictions_dir, [spec.result_file for spec in proto.sets])
        log.info("Read the %s result layout from %s", layout, predictions_dir)
        settings["predictions_layout"] = layout
    return replace(result, settings=settings)


def run_protocol(
    protocol: str | Protocol,
    out_dir: PathLike,
    *,
    plots: bool = True,
    **kwargs: object,
) -> ProtocolResult:
    """Scores a protocol and writes ``report.md``, ``report.json`` and the PNG plots into `out_dir`.

    Args:
        protocol: A protocol name, TOML path or `Protocol`.
        out_dir: Output folder (created).
        plots: Write the PNG plots.
        **kwargs: Passed to `score_protocol`.

    Returns:
        The scored result.

    Raises:
        ProtocolError: As `score_protocol`, or when `out_dir` is a file or cannot be written.
    """
    from ncst.benchmark.report import write_report
    from ncst.benchmark.report_html import write_html_report

    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    result = score_protocol(protocol, **kwargs)  # type: ignore[arg-type]
    try:
        write_report(result, out_dir)
        write_html_report(result, out_dir)
        if plots:
            from ncst.benchmark.plots import write_plots

            write_plots(result, out_dir)
    except OSError as err:
        raise ProtocolError(f"Cannot write the report into {out_dir}: {err}") from err
    return result


def check_out_dir(out_dir: Path) -> None:
    """Raises `ProtocolError` if `out_dir`, or the nearest of its parents that exists, is not a folder."""
    for folder in (out_dir, *out_dir.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "is a file" if folder == out_dir else f"is inside {folder}, which is a file"
                raise ProtocolError(f"--out {out_dir} {what}, not a folder; give a folder path")
            return
