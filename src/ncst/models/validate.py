"""Checks on what a model is built from: its config, the device, and the forward pass, before any allocation.

A model config comes from `--model-config` or from a checkpoint, and a checkpoint may be crafted: a config
with ``n_samples: 4e8`` or a front end of 65,536-wide layers must not size a buffer, a layer or a feature cache.
So every model is built from a config that passed `check_model_config` (plain JSON values, lengths and class
counts in range), after a dry build on torch's ``meta`` device (no memory) has counted its parameters and
buffers. `check_forward` then runs one zero waveform through the real model, so a config that builds but
cannot run (an input too short for the model's pooling) fails before training or inference starts.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import nn

from ncst.errors import NcstError
from ncst.models.base import N_SAMPLES, SAMPLE_RATE_HZ

__all__ = [
    "MAX_N_SAMPLES",
    "MIN_N_SAMPLES",
    "MAX_N_CLASSES",
    "MAX_CONFIG_INT",
    "MAX_MODEL_ELEMENTS",
    "ModelConfigError",
    "check_model_config",
    "check_plain_json",
    "check_device",
    "check_forward",
    "count_elements",
]

log = logging.getLogger(__name__)

#: Longest model input: 60 s at 16 kHz (the reference uses 64,600 samples, 4.04 s).
MAX_N_SAMPLES = 60 * SAMPLE_RATE_HZ
#: Shortest model input: 25 ms (each model may need more; `check_forward` finds out).
MIN_N_SAMPLES = 400
#: Most classes a model may have (the paper's models have 7).
MAX_N_CLASSES = 1024
#: Largest magnitude of any other integer in a model config, at any depth (widths, layer counts, kernel
#: sizes); seeds (keys ending in ``seed``) may be any 64-bit value.
MAX_CONFIG_INT = 1 << 20
#: Most parameters and buffers a model may have (2**31 float32 elements = 8 GiB; XLS-R 300M has 0.32e9).
MAX_MODEL_ELEMENTS = 1 << 31
_MAX_DEPTH = 8
_MAX_NODES = 100_000
_MAX_STR = 4096


class ModelConfigError(NcstError, ValueError):
    """A model config (from `--model-config` or a checkpoint) has a wrong type or an out-of-range value."""


def check_model_config(config: Any, *, source: str) -> dict[str, Any]:
    """Returns `config` unchanged if it is a plain JSON object with sizes in range.

    Args:
        config: The constructor arguments.
        source: What to name in errors (``"ckpt.pt: config"``, ``"--model-config"``).

    Raises:
        ModelConfigError: Not a dict with string keys; a value that is not JSON (or NaN/Inf, or too deep,
            too long); ``n_samples`` outside [MIN_N_SAMPLES, MAX_N_SAMPLES]; ``n_classes`` outside
            [1, MAX_N_CLASSES]; any other integer beyond +-MAX_CONFIG_INT.
    """
    if not isinstance(config, dict):
        raise ModelConfigError(
            f"{source}: expected a JSON object of constructor arguments, got {type(config).__name__}"
        )
    for key, low, high in (("n_samples", MIN_N_SAMPLES, MAX_N_SAMPLES), ("n_classes", 1, MAX_N_CLASSES)):
        if key in config:
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ModelConfigError(f"{source}: {key} must be an integer in [{low}, {high}], got {value!r:.40}")
    _check_value(config, source, "", 0, [0])
    return config


def check_plain_json(value: Any, *, source: str) -> None:
    """Refuses anything but JSON values (dicts with string keys, lists, strings, numbers, booleans, None).

    Unlike `check_model_config` numbers are not bounded: the values are compared, never used as sizes.

    Raises:
        ModelConfigError: A tensor or other object, a non-string key, or nesting deeper than 8 levels.
    """
    _check_value(value, source, "", 0, [0], bounded=False)


def _check_value(value: Any, source: str, key: str, depth: int, nodes: list[int], *, bounded: bool = True) -> None:
    nodes[0] += 1
    where = f"{source}: {key or 'value'}"
    if nodes[0] > _MAX_NODES or depth > _MAX_DEPTH:
        raise ModelConfigError(f"{source}: config is too large or nested too deeply")
    if value is None or isinstance(value, bool):
        return
    if not bounded and isinstance(value, (int, float)):
        return
    if isinstance(value, int):
        if key.rsplit(".", 1)[-1].endswith("seed"):
            if not -(2**63) <= value < 2**64:
                raise ModelConfigError(f"{where} = {value} is not a 64-bit seed")
        elif abs(value) > MAX_CONFIG_INT:
            raise ModelConfigError(f"{where} = {value} is out of range (|value| <= {MAX_CONFIG_INT})")
        return
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_CONFIG_INT:
            raise ModelConfigError(f"{where} = {value} is not a finite number in range")
        return
    if isinstance(value, str):
        if len(value) > _MAX_STR or "\x00" in value:
            raise ModelConfigError(f"{where}: string too long or holds a NUL byte")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_value(item, source, f"{key}[{i}]", depth + 1, nodes, bounded=bounded)
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise ModelConfigError(f"{where}: key {k!r} is not a string")
            _check_value(item, source, f"{key}.{k}" if key else k, depth + 1, nodes, bounded=bounded)
        return
    raise ModelConfigError(f"{where} has type {type(value).__name__}; only JSON values are allowed")


def count_elements(model: nn.Module) -> int:
    """Parameters plus buffers of a model (works on the ``meta`` device)."""
    return sum(t.numel() for t in model.parameters()) + sum(t.numel() for t in model.buffers())


def check_device(device: str | torch.device) -> torch.device:
    """Returns `device` as a torch device once it is known to exist here.

    Raises:
        NcstError: Not a device name, or a CUDA/MPS device this machine does not have.
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as err:
        raise NcstError(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:0): {err}") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise NcstError(f"--device {device}: no CUDA GPU is available here; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise NcstError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise NcstError(f"--device {device}: MPS is not available here; use --device cpu")
    elif dev.type != "cpu":
        try:
            torch.empty(0, device=dev)
        except Exception as err:  # torch raises several types for a backend that is not built in
            raise NcstError(f"--device {device}: not usable here ({type(err).__name__}: {err})") from err
    return dev


def check_forward(model: nn.Module, *, source: str, device: str | torch.device = "cpu") -> int:
    """Runs one zero waveform through `model` in eval mode; returns the width of its logits.

    The global RNG and the model's train/eval mode are left as they were.

    Raises:
        ModelConfigError: The forward pass fails, or does not return `(embedding [1, D], logits [1, C])`.
    """
    n_samples = int(getattr(model, "n_samples", N_SAMPLES))
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            out = model(torch.zeros(1, n_samples, device=device))
    except NcstError:
        raise
    except Exception as err:  # a model may fail on its input in many ways (shapes, index errors)
        raise ModelConfigError(
            f"{source}: the model fails on a [1, {n_samples}] input ({type(err).__name__}: {err}); "
            "check n_samples and the model config"
        ) from err
    finally:
        model.train(was_training)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)):
        raise ModelConfigError(f"{source}: forward must return (embedding [B, D], logits [B, C])")
    embedding, logits = out
    if embedding.ndim != 2 or logits.ndim != 2 or embedding.shape[0] != 1 or logits.shape[0] != 1:
        raise ModelConfigError(
            f"{source}: forward returned shapes {tuple(embedding.shape)} and {tuple(logits.shape)} for one input; "
            "expected (embedding [1, D], logits [1, C])"
        )
    if not 1 <= logits.shape[1] <= MAX_N_CLASSES:
        raise ModelConfigError(f"{source}: the model has {logits.shape[1]} classes (at most {MAX_N_CLASSES})")
    return int(logits.shape[1])
