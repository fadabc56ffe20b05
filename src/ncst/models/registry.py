"""Model registry: the three built-in baselines plus third-party models from the ``ncst.models`` entry points.

A third-party package registers a model class in its ``pyproject.toml``::

    [project.entry-points."ncst.models"]
    my-model = "my_pkg.model:MyModel"

The class must take keyword arguments only, return `(embedding [B, D], logits [B, 7])` from
`forward(wave [B, 64600])`, and expose `config() -> dict` (JSON-able constructor arguments); subclassing
`ncst.models.SourceTracingModel` gives all of that. See ``docs/training.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import torch
from torch import nn

from ncst.errors import NcstError
from ncst.models.validate import MAX_MODEL_ELEMENTS, ModelConfigError, check_model_config, count_elements

__all__ = [
    "ENTRY_POINT_GROUP",
    "ModelInfo",
    "UnknownModelError",
    "available_models",
    "build_model",
    "meta_model",
    "model_class",
    "describe_models",
]

log = logging.getLogger(__name__)

#: Entry-point group third-party packages use to register models.
ENTRY_POINT_GROUP = "ncst.models"

_BUILTINS = {
    "mel-lcnn": "ncst.models.lcnn:MelLCNN",
    "aasist": "ncst.models.aasist:RawAASIST",
    "w2v2-aasist": "ncst.models.w2v2_aasist:W2V2AASIST",
}


class UnknownModelError(NcstError, KeyError):
    """A model name is neither built in nor registered under the ``ncst.models`` entry points."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One row of ``ncst models``: parameter counts as built with default arguments."""

    name: str
    target: str
    input_description: str
    embedding_dim: int
    trainable_parameters: int
    frozen_parameters: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Returns the row as a JSON-ready dict."""
        return {s: getattr(self, s) for s in self.__slots__}


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_models() -> list[str]:
    """Names of the built-in and entry-point models, built-ins first."""
    extra = sorted(n for n in _entry_points() if n not in _BUILTINS)
    return [*_BUILTINS, *extra]


def _target(name: str) -> str:
    if name in _BUILTINS:
        return _BUILTINS[name]
    eps = _entry_points()
    if name in eps:
        return eps[name].value
    raise UnknownModelError(
        f"unknown model {name!r}; choose one of {available_models()} or register a class under the "
        f"{ENTRY_POINT_GROUP!r} entry-point group (docs/training.md)"
    )


def model_class(name: str) -> type[nn.Module]:
    """The class registered as `name`."""
    module_name, _, attr = _target(name).partition(":")
    import importlib

    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise UnknownModelError(f"model {name!r} points to {_target(name)!r}, which cannot be imported: {err}") from err
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise UnknownModelError(f"model {name!r} ({_target(name)}) is not a torch.nn.Module subclass")
    return cls


def build_model(name: str, config: dict[str, Any] | None = None, *, source: str | None = None) -> nn.Module:
    """Builds model `name` from its JSON-able config (the constructor's keyword arguments).

    The config is checked first (`ncst.models.validate.check_model_config`), then the model is built on
    torch's ``meta`` device, which allocates nothing, and refused if it would hold more than
    `MAX_MODEL_ELEMENTS` parameters and buffers; only then is it built for real. A model whose class says
    it `loads_pretrained(config)` (W2V2-AASIST with a hub front end) skips the dry build: its size is the
    pretrained model's.

    Args:
        name: Registry name.
        config: Constructor arguments.
        source: What to name in errors (the checkpoint's path); default ``"model NAME config"``.

    Raises:
        UnknownModelError: No such model.
        ModelConfigError: The config is not plain JSON, has a size out of range, or the model would be too large.
        NcstError: The constructor refuses the config.
    """
    where = source or f"model {name!r} config"
    config = dict(check_model_config({} if config is None else config, source=where))
    cls = model_class(name)
    probe = meta_model(name, config, source=where)
    if probe is not None:
        elements = count_elements(probe)
        if elements > MAX_MODEL_ELEMENTS:
            raise ModelConfigError(
                f"{where}: model {name!r} would hold {elements:,} parameters and buffers "
                f"(at most {MAX_MODEL_ELEMENTS:,}); check its sizes"
            )
    return _construct(cls, name, config, where)


def meta_model(name: str, config: dict[str, Any], *, source: str) -> nn.Module | None:
    """Model `name` built on the ``meta`` device (shapes only, no memory), or None where that cannot be done.

    None for a model that loads pretrained weights and for one that does not build on ``meta`` (Mel-LCNN:
    torchaudio's mel filter bank reads a value; its size is bounded by `n_samples`); the global RNG is left
    as it was.
    """
    cls = model_class(name)
    loads_pretrained = getattr(cls, "loads_pretrained", None)
    if callable(loads_pretrained) and loads_pretrained(config):
        return None
    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            return cls(**config)
    except Exception as err:  # meta tensors refuse some ops (.item()); a bad config fails the real build too
        log.debug("model %s cannot be built on the meta device (%s); its size is not checked first", name, err)
        return None


def _construct(cls: type[nn.Module], name: str, config: dict[str, Any], source: str) -> nn.Module:
    try:
        return cls(**config)
    except NcstError:
        raise
    except (TypeError, ValueError, RuntimeError, IndexError, KeyError, OverflowError) as err:
        raise ModelConfigError(f"{source}: model {name!r} does not accept config {config}: {err}") from err


def describe_models(*, build_w2v2_frontend: bool = False) -> list[ModelInfo]:
    """Parameter counts and inputs of every registered model.

    The W2V2-AASIST row counts its back end only (the frozen XLS-R 300M front end has 315,438,720 parameters
    and needs the downloaded weights); `build_w2v2_frontend` builds the real front end to count it.
    """
    rows = []
    for name in available_models():
        cls = model_class(name)
        if name == "w2v2-aasist" and not build_w2v2_frontend:
            from ncst.models.w2v2_aasist import W2V2Backend

            backend = W2V2Backend()
            n_train = sum(p.numel() for p in backend.parameters())
            rows.append(
                ModelInfo(name, _target(name), str(getattr(cls, "input_description", "")), 160, n_train, 315_438_720,
                          "front end not built; frozen count from the XLS-R 300M config")
            )  # fmt: skip
            continue
        info = (name, _target(name), str(getattr(cls, "input_description", "")), int(getattr(cls, "embedding_dim", 0)))
        try:
            model = cls()
        except Exception as err:  # a third-party model may need arguments or weights: list it anyway
            log.warning("model %s cannot be built with default arguments: %s", name, err)
            rows.append(ModelInfo(*info, 0, 0, f"not built with default arguments: {type(err).__name__}: {err}"))
            continue
        params = list(model.parameters())
        n_train = sum(p.numel() for p in params if p.requires_grad)
        n_frozen = sum(p.numel() for p in params if not p.requires_grad)
        rows.append(ModelInfo(*info, n_train, n_frozen))
    return rows
