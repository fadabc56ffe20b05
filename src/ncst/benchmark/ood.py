"""Score the open-set protocol (paper Table 5) from dumps: fit each detector once, score, compute metrics.

The ID test set (``eval_id``) is scored once per detector and reused for every condition; each
condition adds its OOD set. Binary target: 1 for labels below ``ood_label_min`` (ID), 0 otherwise.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ncst.benchmark.bootstrap import DEFAULT_SEED, bootstrap_ood
from ncst.benchmark.detectors import make_detector
from ncst.benchmark.dumps import Dump, dump_path, load_dump
from ncst.benchmark.metrics import ood_metrics
from ncst.benchmark.results import OODScores, ProtocolResult
from ncst.errors import ProtocolError
from ncst.io import PathLike
from ncst.protocols import ConditionSpec, Protocol

__all__ = ["score_open_set", "resolve_condition_dumps"]

log = logging.getLogger(__name__)


def resolve_condition_dumps(dumps_dir: PathLike, condition: ConditionSpec) -> list[Path] | None:
    """Returns the dump files of the first complete option of a condition, or None if none is complete."""
    for option in condition.dumps:
        paths = [dump_path(dumps_dir, name) for name in option]
        if all(p.is_file() for p in paths):
            return paths
    return None


def score_open_set(
    protocol: Protocol,
    dumps_dir: PathLike,
    *,
    detectors: tuple[str, ...] | None = None,
    n_bootstrap: int = 100,
    seed: int = DEFAULT_SEED,
    skip_missing: bool = False,
    device: str = "cpu",
) -> ProtocolResult:
    """Scores every detector on every condition of an open-set protocol.

    Args:
        protocol: An ``open_set`` protocol.
        dumps_dir: Folder of ``<set>.npz`` dumps (see `ncst.benchmark.dumps`).
        detectors: Detector names (default: the protocol's).
        n_bootstrap: Bootstrap replicates per cell for the 95% intervals (0 = none).
        seed: Bootstrap seed.
        skip_missing: Skip conditions whose dumps are missing instead of failing.
        device: Torch device for the KNN search.

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
    if (id_set.labels >= protocol.ood_label_min).any():
        raise ProtocolError(f"{id_set.source}: the ID set has labels >= {protocol.ood_label_min}")
    conditions: dict[str, Dump] = {}
    parts: dict[str, list[Dump]] = {}
    for cond in protocol.conditions:
        paths = resolve_condition_dumps(dumps_dir, cond)
        if paths is None:
            expected = " or ".join("+".join(str(dump_path(dumps_dir, d)) for d in opt) for opt in cond.dumps)
            if skip_missing:
                log.warning("Skipping condition %s: no dumps at %s", cond.name, expected)
                continue
            raise ProtocolError(f"Condition {cond.name!r} needs {expected}")
        parts[cond.name] = [load_dump(p) for p in paths]
        conditions[cond.name] = Dump.concat(parts[cond.name])
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
            binary = (labels < protocol.ood_label_min).astype(np.int64)
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
        settings={"n_bootstrap_ood": n_bootstrap, "seed": seed, "detectors": list(names), "bank_size": len(bank)},
    )


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
