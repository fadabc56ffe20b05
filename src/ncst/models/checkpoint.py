"""Checkpoints that are safe to load: tensors, numbers, strings and lists only, read with `weights_only=True`.

A checkpoint is a dict::

    format      "ncst-checkpoint/1"
    model       registry name ("mel-lcnn", or an entry-point name)
    config      the model's constructor arguments (JSON-able)
    state_dict  the model's tensors (`checkpoint_state()`; W2V2-AASIST omits its pretrained front end)
    epoch       0-based index of the last finished epoch
    ... training state (optimizer, RNG states, history, best dev loss) in training checkpoints

No Python object is pickled, so `torch.load(weights_only=True)` reads it; a checkpoint that needs
unpickling is refused.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ncst.errors import NcstError, WeightsError
from ncst.io import PathLike, atomic_open
from ncst.models.registry import build_model

__all__ = ["CHECKPOINT_FORMAT", "save_checkpoint", "read_checkpoint", "load_model"]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ncst-checkpoint/1"


def save_checkpoint(path: PathLike, payload: dict[str, Any]) -> Path:
    """Writes a checkpoint atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    json.dumps(payload.get("config", {}))  # fails early on a config that is not JSON-able
    with atomic_open(path, "wb") as fh:
        torch.save({"format": CHECKPOINT_FORMAT, **payload}, fh)
    return path


def read_checkpoint(path: PathLike, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a checkpoint with `weights_only=True` and checks its format.

    Raises:
        WeightsError: The file is missing, needs unpickling of arbitrary objects, or is not an ncst checkpoint.
    """
    from ncst.io import load_checkpoint

    path = Path(path)
    ckpt = load_checkpoint(path, trust=False, map_location=map_location)  # weights_only=True, never unpickles
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path}: not an ncst checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    for key in ("model", "config", "state_dict"):
        if key not in ckpt:
            raise WeightsError(f"{path}: checkpoint lacks {key!r}")
    return ckpt


def load_model(
    path: PathLike, *, model_name: str | None = None, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuilds the model a checkpoint records, in eval mode on `device`.

    Args:
        path: Checkpoint file.
        model_name: Registry name to use instead of the recorded one.
        device: Torch device.

    Returns:
        `(model, checkpoint dict)`.
    """
    ckpt = read_checkpoint(path)
    name = model_name or str(ckpt["model"])
    model = build_model(name, dict(ckpt["config"]))
    missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    kept = set(getattr(model, "checkpoint_state", model.state_dict)().keys())
    missing = [k for k in missing if k in kept]
    if missing or unexpected:
        raise NcstError(
            f"{path}: weights do not fit model {name!r}: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    log.info("Loaded %s (epoch %s) from %s", name, ckpt.get("epoch"), path)
    return model.to(device).eval(), ckpt
