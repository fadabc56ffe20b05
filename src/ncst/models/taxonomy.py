"""Taxonomy heads: one linear head per taxonomy axis on a model's shared embedding, next to its class head.

`ncst train --task taxonomy` trains any model (Mel-LCNN, AASIST, W2V2-AASIST, a plug-in) with three extra
heads, one per axis of `ncst.taxonomy` (quantiser, auxiliary objective, decoder domain); the loss is the
class cross-entropy plus each axis's cross-entropy times its weight. The heads sit outside the model,
on its `[B, D]` embedding, so no model needs to know about them and one checkpoint serves both tasks.

Per-file axis targets come from the class id through the class table (`TaxonomyTable`: class id -> the
three values of its codec card); real speech is `real` on every axis and a class whose codec states
no value (`unknown`) is left out of that axis's loss (target `IGNORE`).

A checkpoint of this task adds three keys to the usual ones (`ncst.models.checkpoint`): ``task``
(``"taxonomy"``), ``taxonomy`` (the table, the axis vocabularies in logit order, the values the training
set held, the weights; plain JSON) and ``taxonomy_heads`` (the heads' tensors). A checkpoint without them
is a class-only one and loads as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ncst.errors import NcstError, TaxonomyError, WeightsError
from ncst.io import PathLike
from ncst.models.base import N_SAMPLES
from ncst.taxonomy import AXES, TAXONOMY_FILE, UNKNOWN, Taxonomy, axis_values, read_taxonomy_csv

__all__ = [
    "IGNORE",
    "TASKS",
    "TaxonomyHeads",
    "TaxonomyTable",
    "embedding_width",
    "head_logits",
    "load_taxonomy_heads",
    "parse_axis_weights",
    "taxonomy_sets",
]

log = logging.getLogger(__name__)

#: Training tasks: the class head alone, or the class head plus one head per taxonomy axis.
TASKS = ("class", "taxonomy")
#: Target of a file whose class has no value on an axis (cross-entropy's ignore index).
IGNORE = -100
_MAX_CLASSES = 1000


class TaxonomyHeads(nn.Module):
    """One `Linear(D, len(axis_values(axis)))` per axis: `[B, D]` embeddings -> `{axis: logits [B, K]}`."""

    def __init__(self, embedding_dim: int) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.heads = nn.ModuleDict({a: nn.Linear(embedding_dim, len(axis_values(a))) for a in AXES})

    def forward(self, embedding: Tensor) -> dict[str, Tensor]:
        return {a: head(embedding) for a, head in self.heads.items()}


@dataclass(frozen=True, slots=True)
class TaxonomyTable:
    """Class id -> the three axis values of its codec, as training and inference use it.

    Attributes:
        classes: Class id -> `Taxonomy` (real speech: `REAL_TAXONOMY`).
    """

    classes: Mapping[int, Taxonomy]

    @classmethod
    def for_root(cls, data_dir: Path, given: Mapping[str, Sequence[str]] | None = None) -> "TaxonomyTable":
        """The table given as `{class id: [q, a, d]}` (the CLI joins the cards), else `<root>/taxonomy.csv`."""
        if given:
            return cls.from_json(given, source="training setting class_taxonomy")
        path = Path(data_dir) / TAXONOMY_FILE
        if not path.is_file():
            raise NcstError(
                f"{data_dir} has no {TAXONOMY_FILE}: give TrainConfig.class_taxonomy (ncst train --task taxonomy "
                "joins the codec cards to the class table itself) or rebuild the root with build-recipe"
            )
        return cls({k: row.taxonomy for k, row in read_taxonomy_csv(path).items()})

    def to_json(self) -> dict[str, list[str]]:
        return {str(k): list(self.classes[k].values()) for k in sorted(self.classes)}

    @classmethod
    def from_json(cls, raw: Any, *, source: str) -> "TaxonomyTable":
        """Reads `{class id: [quantizer, auxiliary, decoder]}`, every value checked against the vocabulary."""
        if not isinstance(raw, Mapping) or len(raw) > _MAX_CLASSES:
            raise TaxonomyError(f"{source}: the class table must map at most {_MAX_CLASSES} class ids to axes")
        classes: dict[int, Taxonomy] = {}
        for key, values in raw.items():
            text = str(key)
            if not text.isdigit() or len(text) > 6:
                raise TaxonomyError(f"{source}: class id {key!r} is not a class id (0, 1, ...)")
            if not (isinstance(values, (list, tuple)) and len(values) == 3 and all(isinstance(v, str) for v in values)):
                raise TaxonomyError(f"{source}: class {key} must have three axis values, got {values!r}")
            try:
                classes[int(text)] = Taxonomy(*values)
            except TaxonomyError as err:
                raise TaxonomyError(f"{source}: class {key}: {err}") from err
        return cls(classes)

    def targets(self, labels: Tensor) -> dict[str, Tensor]:
        """`{axis: [B] int64}` value indices (`axis_values` order) of each class id; `IGNORE` where unknown."""
        out: dict[str, Tensor] = {}
        for axis in AXES:
            values = axis_values(axis)
            lookup = {k: values.index(t.value(axis)) for k, t in self.classes.items() if t.value(axis) != UNKNOWN}
            idx = [lookup.get(int(c), IGNORE) for c in labels.tolist()]
            out[axis] = torch.tensor(idx, dtype=torch.int64, device=labels.device)
        return out

    def trained_values(self, labels: Sequence[int]) -> dict[str, list[str]]:
        """Per axis, the values the classes in `labels` (the training set) take, in vocabulary order."""
        present = {int(c) for c in labels}
        out: dict[str, list[str]] = {}
        for axis in AXES:
            seen = {self.classes[c].value(axis) for c in present if c in self.classes}
            out[axis] = [v for v in axis_values(axis) if v in seen]
        return out


def parse_axis_weights(text: str | Sequence[float]) -> tuple[float, float, float]:
    """`"1,1,1"` (quantizer, auxiliary, decoder) -> three finite weights >= 0."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        weights = tuple(float(p) for p in parts)
    except (TypeError, ValueError) as err:
        raise NcstError(f"axis weights must be three numbers (quantizer,auxiliary,decoder), got {text!r}") from err
    if len(weights) != 3 or not all(np.isfinite(w) and 0 <= w <= 1e3 for w in weights):
        raise NcstError(
            f"axis weights must be three finite numbers in [0, 1000] (quantizer,auxiliary,decoder), got {text!r}"
        )
    return (weights[0], weights[1], weights[2])


def axis_loss(
    logits: Mapping[str, Tensor], targets: Mapping[str, Tensor], weights: Sequence[float]
) -> tuple[Tensor, dict[str, tuple[int, int]]]:
    """Weighted sum of per-axis cross-entropies (mean over the files with a known value; 0 when none).

    Returns:
        `(loss, {axis: (correct, counted)})`.
    """
    total = torch.zeros((), device=next(iter(logits.values())).device)
    stats: dict[str, tuple[int, int]] = {}
    for axis, weight in zip(AXES, weights):
        y = targets[axis]
        known = y != IGNORE
        n = int(known.sum())
        if n:
            total = total + weight * F.cross_entropy(logits[axis], y, ignore_index=IGNORE, reduction="sum") / n
        correct = int((logits[axis].argmax(dim=1)[known] == y[known]).sum()) if n else 0
        stats[axis] = (correct, n)
    return total, stats


def embedding_width(model: nn.Module, device: str | torch.device = "cpu") -> int:
    """Width D of the model's embedding: `embedding_dim`, else from one zero input (RNG and mode kept)."""
    width = int(getattr(model, "embedding_dim", 0) or 0)
    if width > 0:
        return width
    n_samples = int(getattr(model, "n_samples", N_SAMPLES))
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            embedding, _ = model(torch.zeros(1, n_samples, device=device))
    finally:
        model.train(was_training)
    return int(embedding.shape[1])


def head_logits(
    heads: TaxonomyHeads, embeddings: np.ndarray, device: str | torch.device = "cpu"
) -> dict[str, np.ndarray]:
    """`{axis: [N, K] float32}` logits of each head on dumped embeddings `[N, D]`."""
    heads = heads.to(device).eval()
    with torch.no_grad():
        out = heads(torch.as_tensor(embeddings, dtype=torch.float32, device=device))
    return {a: t.float().cpu().numpy() for a, t in out.items()}


def checkpoint_entries(heads: TaxonomyHeads, table: TaxonomyTable, trained: Mapping[str, list[str]],
                       weights: Sequence[float]) -> dict[str, Any]:  # fmt: skip
    """The three keys a taxonomy checkpoint adds: task, taxonomy (plain JSON), taxonomy_heads (tensors)."""
    meta = {
        "axes": {a: list(axis_values(a)) for a in AXES},
        "classes": table.to_json(),
        "trained_values": {a: list(trained[a]) for a in AXES},
        "axis_weights": [float(w) for w in weights],
    }
    return {"task": "taxonomy", "taxonomy": meta, "taxonomy_heads": dict(heads.state_dict())}


def load_taxonomy_heads(
    ckpt: Mapping[str, Any], *, path: Path, embedding_dim: int, device: str | torch.device = "cpu"
) -> tuple[TaxonomyHeads, dict[str, Any]] | None:
    """The heads and metadata of a taxonomy checkpoint, checked; None for a class-only checkpoint.

    Raises:
        WeightsError: The task, metadata or head tensors are not what `train --task taxonomy` writes.
    """
    task = ckpt.get("task", "class")
    if task not in TASKS:
        raise WeightsError(f"{path}: 'task' is {task!r}, not one of {list(TASKS)}")
    if task == "class":
        return None
    meta = ckpt.get("taxonomy")
    if not isinstance(meta, dict) or set(meta) != {"axes", "classes", "trained_values", "axis_weights"}:
        raise WeightsError(f"{path}: 'taxonomy' must hold axes, classes, trained_values and axis_weights")
    if meta["axes"] != {a: list(axis_values(a)) for a in AXES}:
        raise WeightsError(f"{path}: taxonomy axes {str(meta['axes'])[:200]} are not this ncst's vocabulary")
    try:
        TaxonomyTable.from_json(meta["classes"], source=f"{path}: taxonomy.classes")
    except TaxonomyError as err:
        raise WeightsError(str(err)) from err
    trained = meta["trained_values"]
    if not (isinstance(trained, dict) and set(trained) == set(AXES)
            and all(isinstance(v, list) and set(v) <= set(axis_values(a)) for a, v in trained.items())):  # fmt: skip
        raise WeightsError(f"{path}: taxonomy.trained_values must list values of each axis")
    heads = TaxonomyHeads(embedding_dim)
    state = ckpt.get("taxonomy_heads")
    own = heads.state_dict()
    if not isinstance(state, dict) or set(state) != set(own):
        raise WeightsError(f"{path}: 'taxonomy_heads' must hold exactly {sorted(own)}")
    for key, tensor in state.items():
        ok = isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and tensor.shape == own[key].shape
        if not ok or not bool(torch.isfinite(tensor).all()):
            raise WeightsError(f"{path}: taxonomy_heads[{key!r}] must be a finite float tensor of shape "
                               f"{tuple(own[key].shape)}")  # fmt: skip
    heads.load_state_dict(state)
    return heads.to(device).eval(), dict(meta)


def taxonomy_sets(data_dir: PathLike) -> list[str]:
    """The sets the taxonomy protocol reads from a root: every set but train and dev (it scores each OOD class)."""
    from ncst.models.data import list_sets

    return [s.name for s in list_sets(Path(data_dir)) if s.name not in ("train", "dev")]
