"""Checkpoints that are safe to load: tensors, numbers, strings and lists only, read with `weights_only=True`.

A checkpoint is a dict::

    format      "ncst-checkpoint/1"
    model       registry name ("mel-lcnn", or an entry-point name)
    config      the model's constructor arguments (JSON-able)
    state_dict  the model's tensors (`checkpoint_state()`; W2V2-AASIST omits its pretrained front end)
    epoch       0-based index of the last finished epoch
    ... training state (optimizer, RNG states, history, best dev loss) in training checkpoints

No Python object is pickled, so `torch.load(weights_only=True)` reads it; a checkpoint that needs
unpickling is refused. A checkpoint may be crafted, so its layout, config, tensor shapes and training state
are all checked before a model is built from it or a run resumes from it (`read_checkpoint`, `load_model`).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ncst.errors import WeightsError
from ncst.io import PathLike, atomic_open
from ncst.models.registry import build_model, meta_model
from ncst.models.validate import (
    ModelConfigError,
    check_device,
    check_forward,
    check_model_config,
    check_plain_json,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "MAX_EPOCHS",
    "check_state_fits",
    "load_model",
    "load_state",
    "read_checkpoint",
    "save_checkpoint",
]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ncst-checkpoint/1"


def save_checkpoint(path: PathLike, payload: dict[str, Any]) -> Path:
    """Writes a checkpoint atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    json.dumps(payload.get("config", {}))  # fails early on a config that is not JSON-able
    with atomic_open(path, "wb") as fh:
        torch.save({"format": CHECKPOINT_FORMAT, **payload}, fh)
    return path


#: Largest epoch index a checkpoint may record.
MAX_EPOCHS = 100_000
#: Keys a training checkpoint (``last.pt``) holds besides those of every checkpoint.
TRAINING_KEYS = ("optimizer", "rng", "best_dev_loss", "history", "train_config")


def read_checkpoint(
    path: PathLike, *, map_location: str | torch.device = "cpu", training: bool = False
) -> dict[str, Any]:
    """Reads a checkpoint with `weights_only=True` and checks that it has the layout ncst writes.

    Checked before anything is built from it: torch's zip format (as `save_checkpoint` writes; the legacy
    format allocates storages at sizes written in the file, before reading them); a dict of format
    `CHECKPOINT_FORMAT`; `model` a name; `config` a plain JSON object with sizes in range
    (`check_model_config`); `state_dict` a dict of string keys to tensors without NaN; `epoch` an integer
    in [0, MAX_EPOCHS). With `training`, also the training state of ``last.pt`` (optimizer and RNG states,
    history, best dev loss, settings).

    Raises:
        WeightsError: The file is missing, needs unpickling of arbitrary objects, or is not an ncst
            checkpoint; the message names the file and the key.
    """
    from ncst.io import load_checkpoint

    path = Path(path)
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(2) != b"PK":  # torch's legacy format sizes storages from numbers in the pickle
                raise WeightsError(f"{path}: not an ncst checkpoint (ncst writes torch's zip format)")
    ckpt = load_checkpoint(path, trust=False, map_location=map_location)  # weights_only=True, never unpickles
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path}: not an ncst checkpoint (expected a dict with format {CHECKPOINT_FORMAT!r})")
    for key in ("model", "config", "state_dict", *(("epoch", *TRAINING_KEYS) if training else ())):
        if key not in ckpt:
            what = "a training checkpoint (resume state)" if key in TRAINING_KEYS else "an ncst checkpoint"
            raise WeightsError(f"{path}: checkpoint lacks {key!r}, which {what} holds")
    model = ckpt["model"]
    if not isinstance(model, str) or not model or len(model) > 200:
        raise WeightsError(f"{path}: 'model' must be a model name, got {_short(model)}")
    try:
        check_model_config(ckpt["config"], source=f"{path}: config")
    except ModelConfigError as err:
        raise WeightsError(str(err)) from err
    _check_state(path, "state_dict", ckpt["state_dict"])
    if "epoch" in ckpt:
        _check_int(path, "epoch", ckpt["epoch"], 0, MAX_EPOCHS - 1)
    if training:
        _check_training_state(path, ckpt)
    return ckpt


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_int(path: Path, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WeightsError(f"{path}: {key!r} must be an integer in [{low}, {high}], got {_short(value)}")
    return value


def _check_state(path: Path, key: str, state: Any) -> None:
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: {key!r} must be a dict of tensors, got {type(state).__name__}")
    for name, tensor in state.items():
        if not isinstance(name, str):
            raise WeightsError(f"{path}: {key!r} has a key {_short(name)} that is not a string")
        if not isinstance(tensor, torch.Tensor):
            raise WeightsError(f"{path}: {key}[{name!r}] is a {type(tensor).__name__}, not a tensor")
        if tensor.layout != torch.strided or tensor.is_quantized or tensor.is_nested:
            raise WeightsError(
                f"{path}: {key}[{name!r}] is a {tensor.layout} or quantized tensor; ncst saves dense ones"
            )
        if (tensor.is_floating_point() or tensor.is_complex()) and bool(torch.isnan(tensor).any()):
            raise WeightsError(f"{path}: {key}[{name!r}] holds NaN")


def _check_training_state(path: Path, ckpt: dict[str, Any]) -> None:
    opt = ckpt["optimizer"]
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)):
        raise WeightsError(f"{path}: 'optimizer' is not an optimizer state (a dict with 'state' and 'param_groups')")
    rng = ckpt["rng"]
    if not isinstance(rng, dict):
        raise WeightsError(f"{path}: 'rng' must be a dict of RNG states, got {type(rng).__name__}")
    for key in ("torch", "sampler", "loader"):
        state = rng.get(key)
        if not (isinstance(state, torch.Tensor) and state.dtype == torch.uint8 and state.ndim == 1):
            raise WeightsError(f"{path}: rng[{key!r}] is not an RNG state (a 1-D uint8 tensor)")
    best = ckpt["best_dev_loss"]
    if isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best):
        raise WeightsError(f"{path}: 'best_dev_loss' must be a number, got {_short(best)}")
    history = ckpt["history"]
    if not (isinstance(history, list) and all(isinstance(r, dict) for r in history)):
        raise WeightsError(f"{path}: 'history' must be a list of per-epoch records")
    if len(history) > ckpt["epoch"] + 1:
        raise WeightsError(f"{path}: 'history' has {len(history)} records for {ckpt['epoch'] + 1} epochs")
    if not isinstance(ckpt["train_config"], dict):
        raise WeightsError(f"{path}: 'train_config' must be a dict of training settings")
    try:
        check_plain_json(ckpt["train_config"], source=f"{path}: train_config")
        check_plain_json(history, source=f"{path}: history")
    except ModelConfigError as err:
        raise WeightsError(str(err)) from err


def load_state(model: nn.Module, state: dict[str, Any], *, path: PathLike, name: str) -> None:
    """Loads `state` into `model`; keys or shapes that do not fit raise `WeightsError` naming the file.

    Every tensor the model saves (`checkpoint_state()`) must be present with its shape, and no other key
    may be; W2V2-AASIST's pretrained front end is not saved and so may be absent.
    """
    check_state_fits(model, state, path=path, name=name)
    try:
        model.load_state_dict(state, strict=False)
    except (RuntimeError, TypeError, ValueError) as err:
        raise WeightsError(f"{path}: weights do not fit model {name!r}: {err}") from err


def check_state_fits(model: nn.Module, state: dict[str, Any], *, path: PathLike, name: str) -> None:
    """Compares keys and shapes of `state` with `model`'s (also on the ``meta`` device: nothing is allocated)."""
    own = model.state_dict()
    kept = set(getattr(model, "checkpoint_state", model.state_dict)().keys())
    missing = sorted(k for k in kept if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit model {name!r}: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    wrong = [f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}" for k in state if state[k].shape != own[k].shape]
    if wrong:
        raise WeightsError(f"{path}: weights do not fit model {name!r}: shapes {wrong[:5]}")


def load_model(
    path: PathLike, *, model_name: str | None = None, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuilds the model a checkpoint records, in eval mode on `device`.

    Everything is checked before the model runs: the checkpoint's layout and config (`read_checkpoint`),
    the device, the state dict's keys and shapes against a dry build on the ``meta`` device (so a
    checkpoint cannot size the model beyond its own tensors), and one forward pass.

    Args:
        path: Checkpoint file.
        model_name: Registry name to use instead of the recorded one.
        device: Torch device.

    Returns:
        `(model, checkpoint dict)`.

    Raises:
        WeightsError: The checkpoint is not one ncst wrote, or its weights do not fit the model.
        NcstError: The device does not exist here, or the model cannot be built or run from the config.
    """
    check_device(device)
    ckpt = read_checkpoint(path)
    name = model_name or str(ckpt["model"])
    source = f"{path}: config"
    config = dict(ckpt["config"])
    probe = meta_model(name, config, source=source)
    if probe is not None:
        check_state_fits(probe, ckpt["state_dict"], path=path, name=name)
    model = build_model(name, config, source=source)
    load_state(model, ckpt["state_dict"], path=path, name=name)
    model = model.to(device).eval()
    check_forward(model, source=str(path), device=device)
    log.info("Loaded %s (epoch %s) from %s", name, ckpt.get("epoch"), path)
    return model, ckpt
