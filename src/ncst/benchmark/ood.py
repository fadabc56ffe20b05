"""Score the open-set protocol (paper Table 5) from dumps: fit each detector once, score, compute metrics.

The ID test set (``eval_id``) is scored once per detector and reused for every condition; each
condition adds its OOD set. Binary target: 1 for labels below ``ood_label_min`` (ID), 0 otherwise.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from ncst.benchmark.bootstrap import DEFAULT_SEED, bootstrap_ood
from ncst.benchmark.detectors import make_detector
from ncst.benchmark.dumps import Dump, dump_path, load_dump
from ncst.benchmark.metrics import ood_metrics
from ncst.benchmark.results import OODScores, ProtocolResult
from ncst.errors import ProtocolError
from ncst.io import PathLike
from ncst.protocols import ConditionSpec, Protocol
from ncst.sets import OFFICIAL_CLASS_COUNT

__all__ = ["score_open_set", "resolve_condition_dumps", "extension_conditions", "protocol_dumps"]

log = logging.getLogger(__name__)


def resolve_condition_dumps(dumps_dir: PathLike, condition: ConditionSpec) -> list[Path] | None:
    """Returns the dump files of the first complete option of a condition, or None if none is complete."""
    for option in condition.dumps:
        paths = [dump_path(dumps_dir, name) for name in option]
        if all(p.is_file() for p in paths):
            return paths
    return None


def protocol_dumps(protocol: Protocol) -> set[str]:
    """Every dump name an open-set protocol reads: bank, ID set and each alternative of each condition."""
    names = {protocol.bank_dump, protocol.id_dump}
    names.update(d for cond in protocol.conditions for option in cond.dumps for d in option)
    return names


def extension_conditions(
    protocol: Protocol, dumps_dir: PathLike, codecs: Mapping[int, str] | None = None
) -> tuple[dict[str, Dump], dict[str, str]]:
    """The extension OOD conditions found in `dumps_dir`: one per OOD class of a dump the protocol does not name.

    A dump's labels identify its classes (``eval_ood12.npz`` written from ``label/eval_ood12.txt`` holds
    label 12), so each OOD class id (>= ``ood_label_min``) of a dump outside the paper's conditions becomes
    condition ``ext<id>``, scored against the same ID set. Rows with ID labels in such a dump are left out.

    Args:
        protocol: An ``open_set`` protocol.
        dumps_dir: The dumps folder.
        codecs: Class id -> codec spec (recipe.json's ``classes``), for the titles.

    Returns:
        (condition name -> its OOD rows, condition name -> title such as ``ext12 (vocos@encodec, class 12)``).
    """
    referenced = protocol_dumps(protocol)
    rows: dict[int, list[Dump]] = {}
    for path in sorted(Path(dumps_dir).glob("*.npz")):
        if path.stem in referenced:
            continue
        dump = load_dump(path)
        for class_id in sorted(set(np.unique(dump.labels).tolist())):
            if class_id >= protocol.ood_label_min:
                rows.setdefault(int(class_id), []).append(_rows(dump, dump.labels == class_id))
    out: dict[str, Dump] = {}
    titles: dict[str, str] = {}
    for class_id, parts in sorted(rows.items()):
        name = f"ext{class_id}"
        out[name] = Dump.concat(parts)
        spec = (codecs or {}).get(class_id)
        titles[name] = f"{name} ({spec}, class {class_id})" if spec else f"{name} (class {class_id})"
    return out, titles


def score_open_set(
    protocol: Protocol,
    dumps_dir: PathLike,
    *,
    detectors: tuple[str, ...] | None = None,
    n_bootstrap: int = 100,
    seed: int = DEFAULT_SEED,
    skip_missing: bool = False,
    device: str = "cpu",
    codecs: Mapping[int, str] | None = None,
) -> ProtocolResult:
    """Scores every detector on every condition of an open-set protocol, and on every extension OOD class.

    The paper's conditions are the protocol's; each OOD class found in a dump the protocol does not name
    is an extra condition ``ext<id>`` (`extension_conditions`), reported in its own block.

    Args:
        protocol: An ``open_set`` protocol.
        dumps_dir: Folder of ``<set>.npz`` dumps (see `ncst.benchmark.dumps`).
        detectors: Detector names (default: the protocol's).
        n_bootstrap: Bootstrap replicates per cell for the 95% intervals (0 = none).
        seed: Bootstrap seed.
        skip_missing: Skip conditions whose dumps are missing instead of failing.
        device: Torch device for the KNN search.
        codecs: Class id -> codec spec, to name the extension conditions.

    Returns:
        Cells keyed ``"<condition>/<detector>"`` with AUC, FPR95, EER, EER_tie_robust (and intervals).

    Raises:
        ProtocolError: If a needed dump is missing (naming the expected paths) or inconsistent.
    """
    if protocol.kind != "open_set":
        raise ProtocolError(f"{protocol.name} is not an open-set protocol")
    names = detectors or protocol.detectors
    bank = load_dump(dump_path(dumps_dir, protocol.bank_dump))
    id_set = load_dump(dump_path(dumps_dir, protocol.id_dump))
    paper_ood = (id_set.labels >= protocol.ood_label_min) & (id_set.labels < OFFICIAL_CLASS_COUNT)
    if paper_ood.any():
        raise ProtocolError(
            f"{id_set.source}: the ID set has labels >= {protocol.ood_label_min} (the paper's OOD classes)"
        )
    # An extension class (id 12 and up) in the ID set is ID: trained on, and never an OOD condition.
    id_ext = sorted(int(c) for c in np.unique(id_set.labels) if c >= protocol.ood_label_min)
    conditions: dict[str, Dump] = {}
    parts: dict[str, list[Dump]] = {}
    for cond in protocol.conditions:
        paths = resolve_condition_dumps(dumps_dir, cond)
        if paths is None:
            expected = " or ".join("+".join(str(dump_path(dumps_dir, d)) for d in opt) for opt in cond.dumps)
            if skip_missing:
                log.warning("Skipping condition %s: no dumps at %s", cond.name, expected)
                continue
            raise ProtocolError(
                f"Condition {cond.name!r} needs {expected}; pass --skip-missing to score the conditions whose "
                "dumps exist (the skipped ones are named in report.json)"
            )
        parts[cond.name] = [load_dump(p) for p in paths]
        conditions[cond.name] = Dump.concat(parts[cond.name])
    extra, titles = extension_conditions(protocol, dumps_dir, codecs)
    for name in [n for n in extra if int(n[len("ext") :]) in id_ext]:
        del extra[name], titles[name]
    for name, dump in extra.items():
        conditions[name] = dump
        parts[name] = [dump]
    if not conditions:
        raise ProtocolError(f"No OOD condition of {protocol.name} has its dumps in {dumps_dir}")

    cells: dict[str, dict[str, float]] = {}
    ood: dict[tuple[str, str], OODScores] = {}
    counts = {c: len(id_set) + len(d) for c, d in conditions.items()}
    for det_name in names:
        start = time.perf_counter()
        kwargs = {"device": device} if det_name == "knn" else {}
        detector = make_detector(det_name, **kwargs)
        if detector.requires_fit:
            detector.fit(bank)
        id_scores = detector.score_dump(id_set).double().numpy()
        _check_finite(id_scores, det_name, [id_set], bank)
        for cond_name, ood_set in conditions.items():
            ood_scores = detector.score_dump(ood_set).double().numpy()
            _check_finite(ood_scores, det_name, parts[cond_name], bank)
            scores = np.concatenate([id_scores, ood_scores])
            labels = np.concatenate([id_set.labels, ood_set.labels])
            binary = ((labels < protocol.ood_label_min) | np.isin(labels, id_ext)).astype(np.int64)
            if binary.all():
                raise ProtocolError(f"Condition {cond_name!r}: {ood_set.source} holds no OOD labels")
            cell = {k: 100.0 * v for k, v in ood_metrics(binary, scores).items()}
            if n_bootstrap > 0:
                for metric, ci in bootstrap_ood(binary, scores, n_resamples=n_bootstrap, seed=seed).items():
                    cell[f"{metric}_CI95_low"] = 100.0 * ci.low
                    cell[f"{metric}_CI95_high"] = 100.0 * ci.high
            cells[f"{cond_name}/{det_name}"] = cell
            ood[(cond_name, det_name)] = OODScores(binary, scores)
        log.info("%s: %d conditions scored in %.1f s", det_name, len(conditions), time.perf_counter() - start)
    return ProtocolResult(
        protocol=protocol,
        cells=cells,
        counts=counts,
        source=f"dumps: {dumps_dir}",
        ood=ood,
        extensions=titles,
        settings={"n_bootstrap_ood": n_bootstrap, "seed": seed, "detectors": list(names), "bank_size": len(bank)},
    )


def _rows(dump: Dump, mask: np.ndarray) -> Dump:
    """The rows of `dump` where `mask` holds, as a dump of its own (same source)."""
    return Dump(dump.utt_ids[mask], dump.logits[mask], dump.embeddings[mask], dump.labels[mask], dump.source)


def _check_finite(scores: np.ndarray, detector: str, dumps: list[Dump], bank: Dump) -> None:
    """Raises `ProtocolError` naming the detector, dump file and row of the first NaN/Inf score."""
    bad = ~np.isfinite(scores)
    if not bad.any():
        return
    row = int(np.argmax(bad))
    for dump in dumps:
        if row < len(dump):
            break
        row -= len(dump)
    zero_rows = np.flatnonzero(~np.any(dump.embeddings, axis=1))
    zero_bank = np.flatnonzero(~np.any(bank.embeddings, axis=1))
    if row in zero_rows:
        cause = "its embedding is all zeros"
    elif zero_bank.size:
        cause = f"the bank {bank.source} has {zero_bank.size} all-zero embeddings, e.g. row {int(zero_bank[0])}"
    else:
        cause = "check the embeddings and logits of this row"
    raise ProtocolError(
        f"Detector {detector!r} gave {int(bad.sum())} non-finite scores; the first is {dump.source} row {row} "
        f"({str(dump.utt_ids[row])!r}): {cause}"
    )
