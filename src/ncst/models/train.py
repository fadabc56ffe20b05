"""`train()`: the reference training recipe for any registered model, resumable after a kill.

Recipe (`docs/reference_system.md` §9): cross-entropy on 7 classes, Adam (lr 5e-4, betas (0.9, 0.999), eps 1e-8,
coupled L2 weight decay 5e-4), lr halved every 10 epochs, 50 epochs, batch 24, a fresh random permutation
of the training set every epoch, a dev pass in eval mode after each epoch (dev loss = mean of the per-batch
mean losses), and the best model = lowest dev loss (strict ``<``).

Output folder::

    last.pt        full training state after the last finished epoch (written every epoch)
    best.pt        model of the epoch with the lowest dev loss (what inference uses)
    history.json   one record per finished epoch
    feature_cache/ frozen front-end features (W2V2-AASIST only)

Task ``taxonomy`` (`ncst.models.taxonomy`) adds one head per taxonomy axis on the embedding; the loss is
the class cross-entropy plus the axis cross-entropies times `axis_weights`, the dev loss the same sum.

Resume: when ``last.pt`` exists, training continues after its epoch with the model, optimiser, sampler and
dropout RNG states it saved, so a killed and resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ncst.errors import NcstError, WeightsError
from ncst.models.base import N_SAMPLES
from ncst.models.checkpoint import MAX_EPOCHS, load_state, read_checkpoint, save_checkpoint
from ncst.models.data import Item, check_audio, read_set
from ncst.models.features import FeatureDataset, cached_features
from ncst.models.registry import build_model
from ncst.models.taxonomy import (
    TASKS,
    TaxonomyHeads,
    TaxonomyTable,
    axis_loss,
    checkpoint_entries,
    embedding_width,
    load_taxonomy_heads,
    parse_axis_weights,
)
from ncst.models.validate import ModelConfigError, check_device, check_forward, check_model_config, check_plain_json

__all__ = [
    "MAX_BATCH_SIZE",
    "TrainConfig",
    "TrainResult",
    "StepCallback",
    "EpochCallback",
    "check_train_config",
    "train",
    "lr_at_epoch",
]

log = logging.getLogger(__name__)

#: Called after each training step with (epoch, step, n_steps, mean loss so far, accuracy so far).
StepCallback = Callable[[int, int, int, float, float], None]
#: Called after each finished (and checkpointed) epoch with its history record.
EpochCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (defaults: the reference recipe)."""

    model: str
    data_dir: Path
    out_dir: Path
    model_config: dict[str, Any] = field(default_factory=dict)
    epochs: int = 50
    batch_size: int = 24
    lr: float = 5e-4
    weight_decay: float = 5e-4
    lr_halve_every: int = 10
    seed: int = 688
    workers: int = 0
    device: str = "cpu"
    cache_features: bool = True
    cache_dtype: str = "float32"
    task: str = "class"
    axis_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    class_taxonomy: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-ready dict."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["data_dir"], d["out_dir"] = str(self.data_dir), str(self.out_dir)
        d["axis_weights"] = list(self.axis_weights)
        return d


@dataclass(slots=True)
class TrainResult:
    """Where a run's outputs are, and its per-epoch history."""

    best_path: Path
    last_path: Path
    history: list[dict[str, Any]]


def lr_at_epoch(config: TrainConfig, epoch: int) -> float:
    """`lr * 0.5 ** floor(epoch / lr_halve_every)` for the 0-based `epoch`."""
    return config.lr * 0.5 ** (epoch // config.lr_halve_every)


#: Largest batch size `train` accepts (the reference uses 24).
MAX_BATCH_SIZE = 4096
#: Most DataLoader worker processes.
MAX_WORKERS = 256


def check_train_config(config: TrainConfig) -> None:
    """Refuses settings no run can use, before anything is built or written.

    Raises:
        NcstError: A value of the wrong type or out of range (the message names the setting).
    """

    def _int(key: str, low: int, high: int) -> None:
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise NcstError(f"training setting {key} must be an integer in [{low}, {high}], got {value!r}")

    _int("epochs", 1, MAX_EPOCHS)
    _int("batch_size", 1, MAX_BATCH_SIZE)
    _int("lr_halve_every", 1, MAX_EPOCHS)
    _int("workers", 0, MAX_WORKERS)
    _int("seed", 0, 2**63 - 1)
    for key, positive in (("lr", True), ("weight_decay", False)):
        value = getattr(config, key)
        bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        if bad or value < 0 or (positive and value == 0) or value > 1e3:
            raise NcstError(
                f"training setting {key} must be a finite number in {'(0' if positive else '[0'}, 1000], got {value!r}"
            )
    if config.cache_dtype not in ("float32", "float16"):
        raise NcstError(f"training setting cache_dtype must be float32 or float16, got {config.cache_dtype!r}")
    if config.task not in TASKS:
        raise NcstError(f"training setting task must be one of {list(TASKS)}, got {config.task!r}")
    parse_axis_weights(config.axis_weights)
    if not isinstance(config.model, str) or not config.model:
        raise NcstError(f"training setting model must be a model name, got {config.model!r}")


def _check_labels(items: list[Item], n_classes: int, set_name: str, data_dir: Path) -> None:
    """Every label of a training or dev set must be one of the model's classes."""
    for item in items:
        if not 0 <= item.label < n_classes:
            raise NcstError(
                f"{item.origin or data_dir}: class {item.label} of {item.utt_id!r} is not one of the model's "
                f"{n_classes} classes (0-{n_classes - 1}); the {set_name} set may only hold those"
            )


# Settings that must not change when a run resumes (epochs may grow, device and workers may change).
_FIXED = (
    "model",
    "model_config",
    "batch_size",
    "lr",
    "weight_decay",
    "lr_halve_every",
    "seed",
    "data_dir",
    "task",
    "axis_weights",
    "class_taxonomy",
)
#: What a `last.pt` written before a setting existed ran with.
_DEFAULTS: dict[str, Any] = {"task": "class", "axis_weights": [1.0, 1.0, 1.0], "class_taxonomy": {}}


def _datasets(
    model: nn.Module, config: TrainConfig, out_dir: Path, train_items: list[Item], dev_items: list[Item]
) -> tuple[Dataset, Dataset, bool]:
    from ncst.models.data import WaveformDataset

    log.info("train: %d utterances, dev: %d utterances (%s)", len(train_items), len(dev_items), config.data_dir)
    if config.cache_features and getattr(model, "caches_features", False):
        cache = out_dir / "feature_cache"
        kw = {"batch_size": config.batch_size, "device": config.device, "workers": config.workers}
        train_feats = cached_features(model, train_items, cache, "train", dtype=config.cache_dtype, **kw)  # type: ignore[arg-type]
        dev_feats = cached_features(model, dev_items, cache, "dev", dtype=config.cache_dtype, **kw)  # type: ignore[arg-type]
        return FeatureDataset(train_feats, train_items), FeatureDataset(dev_feats, dev_items), True
    n_samples = int(getattr(model, "n_samples", N_SAMPLES))
    return WaveformDataset(train_items, n_samples), WaveformDataset(dev_items, n_samples), False


def _forward(model: nn.Module, x: torch.Tensor, features: bool) -> tuple[torch.Tensor, torch.Tensor]:
    embedding, logits = model.forward_features(x) if features else model(x)  # type: ignore[operator]
    return embedding, logits


@dataclass(slots=True)
class _Axes:
    """The taxonomy task's heads, class table and loss weights (None on the class task)."""

    heads: TaxonomyHeads
    table: TaxonomyTable
    weights: tuple[float, float, float]

    def loss(self, embedding: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, tuple[int, int]]]:
        return axis_loss(self.heads(embedding), self.table.targets(y), self.weights)


def _rng_state(gen: torch.Generator, loader_gen: torch.Generator) -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "sampler": gen.get_state()}
    state["loader"] = loader_gen.get_state()
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any], gen: torch.Generator, loader_gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    gen.set_state(state["sampler"])
    loader_gen.set_state(state["loader"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _resume(
    last: Path,
    config: TrainConfig,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    gens: tuple[torch.Generator, torch.Generator],
    axes: _Axes | None = None,
) -> tuple[int, float, list[dict[str, Any]]]:
    ckpt = read_checkpoint(last, map_location="cpu", training=True)  # RNG states must stay CPU tensors
    saved = ckpt["train_config"]
    now = json.loads(json.dumps(config.to_dict()))
    changed = [k for k in _FIXED if saved.get(k, _DEFAULTS.get(k)) != now.get(k)]
    if changed:
        diff = ", ".join(f"{k}: {saved.get(k)!r} -> {now.get(k)!r}" for k in changed)
        raise NcstError(
            f"{last} was trained with other settings ({diff}); use another --out folder, or delete it to start over"
        )
    if ckpt["model"] != config.model:
        raise NcstError(f"{last} holds model {ckpt['model']!r}, not {config.model!r}; use another --out folder")
    load_state(model, ckpt["state_dict"], path=last, name=config.model)
    if axes is not None:
        loaded = load_taxonomy_heads(ckpt, path=last, embedding_dim=axes.heads.embedding_dim, device=config.device)
        if loaded is None:
            raise WeightsError(f"{last} holds no taxonomy heads; use another --out folder for --task taxonomy")
        axes.heads.load_state_dict(loaded[0].state_dict())
    _check_optimizer_state(ckpt["optimizer"], opt, last)
    try:
        opt.load_state_dict(ckpt["optimizer"])
        _set_rng_state(ckpt["rng"], *gens)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
        raise WeightsError(f"{last}: the training state does not fit this run ({type(err).__name__}: {err})") from err
    log.info("Resuming %s after epoch %d from %s", config.model, ckpt["epoch"], last)
    return int(ckpt["epoch"]) + 1, float(ckpt["best_dev_loss"]), list(ckpt["history"])


def _check_optimizer_state(saved: dict[str, Any], opt: torch.optim.Optimizer, path: Path) -> None:
    """Refuses a saved Adam state this run could not step with; torch's load_state_dict checks little of it.

    The parameter groups must be this run's (same parameters; betas, eps, weight decay and the other
    settings equal where both have them; lr a finite number, reset every epoch anyway), and each
    parameter's state exactly ``step`` (a finite scalar) and ``exp_avg`` / ``exp_avg_sq`` (finite, the
    parameter's shape, the second not negative).
    """
    fresh = opt.state_dict()
    groups = saved["param_groups"]
    try:
        check_plain_json(groups, source=f"{path}: optimizer param_groups")
    except ModelConfigError as err:
        raise WeightsError(str(err)) from err
    if len(groups) != len(fresh["param_groups"]):
        raise WeightsError(
            f"{path}: optimizer has {len(groups)} parameter groups, this run {len(fresh['param_groups'])}"
        )
    shapes: dict[Any, torch.Size] = {}
    for group, own, params in zip(groups, fresh["param_groups"], (g["params"] for g in opt.param_groups)):
        if not isinstance(group, dict):
            raise WeightsError(f"{path}: optimizer parameter group is a {type(group).__name__}, not a dict")
        for key in ("params", "lr", "betas", "eps", "weight_decay"):
            if key not in group:
                raise WeightsError(f"{path}: optimizer parameter group lacks {key!r}")
        if group["params"] != own["params"]:
            raise WeightsError(f"{path}: optimizer parameters {_short(group['params'])} are not this model's")
        lr = group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
            raise WeightsError(f"{path}: optimizer lr {_short(lr)} is not a finite number")
        for key, value in own.items():
            if key not in ("params", "lr") and key in group and group[key] != value:
                raise WeightsError(f"{path}: optimizer setting {key} is {_short(group[key])}, this run uses {value!r}")
        shapes.update(zip(own["params"], (p.shape for p in params)))
    state = saved["state"]
    for index, entry in state.items():
        if index not in shapes or not isinstance(entry, dict) or set(entry) != {"step", "exp_avg", "exp_avg_sq"}:
            raise WeightsError(
                f"{path}: optimizer state {_short(index)} is not Adam's state of one of this model's parameters"
            )
        step = entry["step"]
        for key in ("exp_avg", "exp_avg_sq"):
            moment = entry[key]
            if not (isinstance(moment, torch.Tensor) and moment.is_floating_point() and moment.shape == shapes[index]):
                raise WeightsError(
                    f"{path}: optimizer state {index}.{key} is not a float tensor of shape {tuple(shapes[index])}"
                )
            if not bool(torch.isfinite(moment).all()) or (key == "exp_avg_sq" and bool((moment < 0).any())):
                raise WeightsError(f"{path}: optimizer state {index}.{key} holds NaN, Inf or negative values")
        if not (isinstance(step, torch.Tensor) and step.is_floating_point() and step.ndim == 0):
            raise WeightsError(f"{path}: optimizer state {index}.step is not a scalar float tensor")
        if not (math.isfinite(float(step)) and float(step) >= 0):
            raise WeightsError(f"{path}: optimizer state {index}.step is {float(step)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dev_pass(
    model: nn.Module, loader: DataLoader, device: str, features: bool, axes: _Axes | None = None
) -> tuple[float, float, dict[str, float]]:
    """Dev loss (mean of batch losses, axis terms included), class accuracy and per-axis accuracy."""
    model.eval()
    if axes is not None:
        axes.heads.eval()
    losses, correct, total = [], 0, 0
    axis_counts: dict[str, list[int]] = {}
    with torch.no_grad():
        for x, y, _ in loader:
            x, y = x.to(device), y.to(device)
            embedding, logits = _forward(model, x, features)
            loss = F.cross_entropy(logits, y)
            if axes is not None:
                extra, stats = axes.loss(embedding, y)
                loss = loss + extra
                for axis, (ok, n) in stats.items():
                    counts = axis_counts.setdefault(axis, [0, 0])
                    counts[0], counts[1] = counts[0] + ok, counts[1] + n
            losses.append(loss.item())
            correct += int((logits.argmax(dim=1) == y).sum())
            total += int(y.numel())
    axis_acc = {f"dev_acc_{a}": ok / max(n, 1) for a, (ok, n) in axis_counts.items()}
    return float(np.nanmean(losses)), correct / max(total, 1), axis_acc


def train(
    config: TrainConfig,
    *,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Trains (or resumes) `config.model` on `config.data_dir`; see the module docstring.

    Seeds torch's global RNG with `config.seed` (model initialisation and dropout), as the reference does.

    Every input is checked before the first step, and each check names the file: the settings and
    model config (`check_train_config`, `check_model_config`), the device, the train and dev label files
    (present, not empty, names inside their folders, classes the model has), every train and dev audio file
    (`check_audio`), one forward pass, and a ``last.pt`` to resume from (`read_checkpoint(training=True)`,
    keys and shapes of the weights and optimizer state).

    Raises:
        NcstError: Any of those checks fails (`WeightsError` for a checkpoint, `CorpusLayoutError` for a label
            file, `AudioError` for audio), or ``last.pt`` was made with other settings.
    """
    check_train_config(config)
    check_device(config.device)
    model_config = check_model_config(dict(config.model_config), source="model config")
    train_items, dev_items = read_set(config.data_dir, "train"), read_set(config.data_dir, "dev")
    for set_name, items in (("train", train_items), ("dev", dev_items)):
        if not items:
            raise NcstError(f"{config.data_dir}: the {set_name} set is empty (its label file lists no files)")
    out_dir = Path(config.out_dir)
    last_path, best_path = out_dir / "last.pt", out_dir / "best.pt"
    torch.manual_seed(config.seed)
    model = build_model(config.model, model_config).to(config.device)
    n_classes = check_forward(model, source=f"model {config.model!r}", device=config.device)
    _check_labels(train_items, n_classes, "train", config.data_dir)
    _check_labels(dev_items, n_classes, "dev", config.data_dir)
    axes = _make_axes(config, model, train_items)
    log.info("Checking the audio of %d train and %d dev files", len(train_items), len(dev_items))
    check_audio(train_items + dev_items)
    params = [p for p in model.parameters() if p.requires_grad]
    params += [] if axes is None else list(axes.heads.parameters())
    opt = torch.optim.Adam(params, lr=config.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(config.seed)  # epoch permutations
    loader_gen = torch.Generator().manual_seed(config.seed)  # DataLoader worker seeds (keeps the global RNG out)
    start, best = 0, math.inf
    history: list[dict[str, Any]] = []
    if last_path.is_file():
        start, best, history = _resume(last_path, config, model, opt, (gen, loader_gen), axes)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_set, dev_set, features = _datasets(model, config, out_dir, train_items, dev_items)
    dev_loader = DataLoader(dev_set, batch_size=config.batch_size, num_workers=config.workers, generator=loader_gen)
    cfg_json = json.loads(json.dumps(config.to_dict()))
    get_config = getattr(model, "config", None)
    model_config = get_config() if callable(get_config) else dict(model_config)
    get_state = getattr(model, "checkpoint_state", model.state_dict)
    for epoch in range(start, config.epochs):
        t0 = time.perf_counter()
        lr = lr_at_epoch(config, epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        order = torch.randperm(len(train_set), generator=gen).tolist()  # type: ignore[arg-type]
        loader = DataLoader(
            train_set, batch_size=config.batch_size, sampler=order, num_workers=config.workers, generator=loader_gen
        )
        model.train()
        if axes is not None:
            axes.heads.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for step, (x, y, _) in enumerate(loader):
            x, y = x.to(config.device), y.to(config.device)
            embedding, logits = _forward(model, x, features)
            loss = F.cross_entropy(logits, y)
            if axes is not None:
                loss = loss + axes.loss(embedding, y)[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * y.numel()
            correct += int((logits.argmax(dim=1) == y).sum())
            seen += int(y.numel())
            if on_step:
                on_step(epoch, step + 1, len(loader), loss_sum / seen, correct / seen)
        dev_loss, dev_acc, dev_axis_acc = _dev_pass(model, dev_loader, config.device, features, axes)
        record = {
            "epoch": epoch,
            "lr": lr,
            "train_loss": loss_sum / max(seen, 1),
            "train_acc": correct / max(seen, 1),
            "dev_loss": dev_loss,
            "dev_acc": dev_acc,
            **dev_axis_acc,
            "time_s": round(time.perf_counter() - t0, 3),
            "best": dev_loss < best,
        }
        history.append(record)
        state = get_state()
        common = {"model": config.model, "config": model_config, "state_dict": state, "epoch": epoch}
        if axes is not None:
            trained = axes.table.trained_values([it.label for it in train_items])
            common.update(checkpoint_entries(axes.heads, axes.table, trained, axes.weights))
        if dev_loss < best:
            best = dev_loss
            save_checkpoint(best_path, {**common, "dev_loss": dev_loss})
        save_checkpoint(
            last_path,
            {**common, "optimizer": opt.state_dict(), "rng": _rng_state(gen, loader_gen), "best_dev_loss": best,
             "history": history, "train_config": cfg_json},
        )  # fmt: skip
        (out_dir / "history.json").write_text(json.dumps(history, indent=2))
        log.info(
            "epoch %d: lr %.3g train loss %.4f acc %.3f | dev loss %.4f acc %.3f%s",
            *(epoch, lr, record["train_loss"], record["train_acc"], dev_loss, dev_acc),
            " (best)" if record["best"] else "",
        )
        if on_epoch:
            on_epoch(record)
    if not best_path.is_file():
        raise NcstError(f"no epoch finished in {out_dir} (epochs={config.epochs})")
    return TrainResult(best_path, last_path, history)


def _make_axes(config: TrainConfig, model: nn.Module, train_items: list[Item]) -> _Axes | None:
    """The taxonomy heads of the run (built after the model, so the class task's initialisation is unchanged)."""
    if config.task != "taxonomy":
        return None
    table = TaxonomyTable.for_root(config.data_dir, config.class_taxonomy)
    missing = sorted({it.label for it in train_items} - set(table.classes))
    if missing:
        log.warning("classes %s have no taxonomy row: their files train the class head only", missing)
    heads = TaxonomyHeads(embedding_width(model, config.device)).to(config.device)
    trained = table.trained_values([it.label for it in train_items])
    log.info("taxonomy task: training values %s", trained)
    return _Axes(heads, table, parse_axis_weights(config.axis_weights))
