"""Reading the model weights out of an official WavTokenizer Lightning checkpoint without running its code.

The published files (`WavTokenizer_small_{320,600}_24k_4096.ckpt`) are PyTorch Lightning checkpoints:
a pickled dict with `state_dict` (model, discriminators and loss networks), optimizer and scheduler
states, callback states and hyperparameters. `torch.load(weights_only=True)` reads them when every
object in the pickle is a tensor or a plain container. When it refuses (a callback or scheduler state
pickled as an object of some class), `read_tensor_state` reads the archive with a restricted unpickler
instead: tensors and plain containers are rebuilt, and every other class named in the pickle is
replaced by an inert placeholder that is never called, so no code from the file runs. The names it
replaced are returned so that the caller can report them.
"""

from __future__ import annotations

import collections
import pickle
import types
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["CheckpointFormatError", "read_tensor_state", "state_dict_of"]

#: Globals the restricted unpickler may resolve: tensor rebuilding and plain containers, nothing callable
#: beyond constructors of data.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
}


class CheckpointFormatError(ValueError):
    """The file is not a readable torch checkpoint, or holds no model state dict."""


class _Placeholder:
    """Stands in for an object of a class the restricted unpickler does not load; ignores everything."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> _Placeholder:
        return _Placeholder()

    def __setstate__(self, state: object) -> None:
        pass

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def append(self, item: object) -> None:
        pass

    def extend(self, items: object) -> None:
        pass


def _restricted_pickle_module(replaced: list[str]) -> types.ModuleType:
    """A `pickle`-like module whose Unpickler resolves only `_ALLOWED` (plus torch dtypes)."""

    class RestrictedUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _ALLOWED:
                return _ALLOWED[(module, name)]
            if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
                return getattr(torch, name)
            replaced.append(f"{module}.{name}")
            return _Placeholder

    module = types.ModuleType("ncst_restricted_pickle")
    module.Unpickler = RestrictedUnpickler  # type: ignore[attr-defined]
    module.load = pickle.load  # type: ignore[attr-defined]  # only used by torch for pre-1.6 files, refused below
    return module


def read_tensor_state(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """Loads a torch checkpoint on the CPU without executing code from it.

    Returns:
        The unpickled top-level object and the sorted names of the classes replaced by placeholders
        (empty when `weights_only=True` loaded the file as it is).

    Raises:
        CheckpointFormatError: Not a zip-format torch file, or the top level is not a dict.
    """
    file = Path(path)
    if not zipfile.is_zipfile(file):
        raise CheckpointFormatError(f"{file}: not a zip-format torch checkpoint (torch.save since torch 1.6)")
    replaced: list[str] = []
    try:
        try:
            obj = torch.load(file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # a non-tensor object in the pickle: read it with placeholders
            obj = torch.load(
                file, map_location="cpu", weights_only=False, pickle_module=_restricted_pickle_module(replaced)
            )
    except (RuntimeError, EOFError, KeyError, pickle.UnpicklingError) as err:
        raise CheckpointFormatError(f"{file}: unreadable torch checkpoint ({type(err).__name__}: {err})") from err
    if not isinstance(obj, dict):
        raise CheckpointFormatError(f"{file}: expected a dict at the top level, got {type(obj).__name__}")
    return obj, sorted(set(replaced))


def state_dict_of(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensor state dict of a Lightning checkpoint (`checkpoint["state_dict"]`) or of a bare one."""
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict) or not state:
        raise CheckpointFormatError("no state dict in the checkpoint")
    bad = [key for key, value in state.items() if not isinstance(value, torch.Tensor)]
    if bad:
        raise CheckpointFormatError(f"state dict entries that are not tensors: {bad[:5]}")
    return state
