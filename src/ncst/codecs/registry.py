"""Codec registry: built-in adapters plus third-party ones from the `ncst.codecs` entry-point group.

A spec string names a codec and optionally a variant: `encodec`, `encodec@3kbps`, `wavtokenizer:small40`
(`@` and `:` are equivalent; `@` is canonical). Built-in adapter modules are listed explicitly and
imported lazily, so importing ncst never imports an upstream codec package.

A third-party package ships a codec by declaring, in its own pyproject.toml::

    [project.entry-points."ncst.codecs"]
    mycodec = "my_package.adapter:MyCodec"
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Callable, TypeVar

import torch

from ncst.codecs.base import Codec, CodecCard
from ncst.errors import UnknownCodecError

__all__ = [
    "ENTRY_POINT_GROUP",
    "CodecSpec",
    "parse_spec",
    "register_codec",
    "codec_class",
    "available_codecs",
    "get_codec",
    "get_card",
    "list_cards",
    "PluginDistribution",
    "plugin_distribution",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ncst.codecs"

#: Built-in adapters: registry key -> "module:Class". Imported only when asked for.
BUILTIN_CODECS: dict[str, str] = {
    "mimi": "ncst.codecs.mimi:MimiCodec",
    "speechtokenizer": "ncst.codecs.speechtokenizer:SpeechTokenizerCodec",
    "funcodec": "ncst.codecs.funcodec:FunCodecCodec",
    "encodec": "ncst.codecs.encodec:EncodecCodec",
    "snac": "ncst.codecs.snac:SnacCodec",
    "dac": "ncst.codecs.dac:DacCodec",
    "soundstream": "ncst.codecs.soundstream:SoundStreamCodec",
    "facodec": "ncst.codecs.facodec:FacodecCodec",
    "wavtokenizer": "ncst.codecs.wavtokenizer:WavTokenizerCodec",
    "audiodec": "ncst.codecs.audiodec:AudioDecCodec",
    "hificodec": "ncst.codecs.hificodec:HiFiCodecCodec",
    "real": "ncst.codecs.real:RealCodec",
    "vocos": "ncst.codecs.vocos:VocosCodec",
}

_REGISTERED: dict[str, type[Codec]] = {}

C = TypeVar("C", bound=type[Codec])


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """A parsed spec string: registry key plus variant (None = the family's default)."""

    name: str
    variant: str | None = None

    def __str__(self) -> str:
        return self.name if self.variant is None else f"{self.name}@{self.variant}"


def parse_spec(spec: str) -> CodecSpec:
    """Parses `name`, `name@variant` or `name:variant` (case-insensitive name)."""
    text = spec.strip()
    if not text:
        raise UnknownCodecError("empty codec spec; expected e.g. 'encodec' or 'encodec@3kbps'")
    for sep in ("@", ":"):
        if sep in text:
            name, variant = text.split(sep, 1)
            if not name or not variant:
                raise UnknownCodecError(f"malformed codec spec {spec!r}; expected NAME{sep}VARIANT")
            return CodecSpec(name.lower(), variant)
    return CodecSpec(text.lower(), None)


def register_codec(name: str) -> Callable[[C], C]:
    """Class decorator that registers an adapter under `name` (used by tests and plug-ins)."""

    def decorator(cls: C) -> C:
        if name in _REGISTERED and _REGISTERED[name] is not cls:
            log.warning("codec %r re-registered: %s replaces %s", name, cls, _REGISTERED[name])
        _REGISTERED[name] = cls
        return cls

    return decorator


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


@dataclass(frozen=True, slots=True)
class PluginDistribution:
    """The installed distribution whose `ncst.codecs` entry point provides a codec (for provenance)."""

    name: str
    version: str
    entry_point: str

    def to_dict(self) -> dict[str, str]:
        return {"distribution": self.name, "version": self.version, "entry_point": self.entry_point}


def plugin_distribution(name: str) -> PluginDistribution | None:
    """The distribution of the entry point that provides codec `name`, or None for a built-in.

    None too for a class registered at run time (`register_codec`) that is not the entry point's own
    class: provenance must name the code that really ran. Works the same in a worker process, which
    finds the entry point again rather than being told.
    """
    key = name.lower()
    if key in BUILTIN_CODECS and key not in _REGISTERED:
        return None
    ep = _entry_points().get(key)
    if ep is None:
        return None
    if key in _REGISTERED:
        cls = _REGISTERED[key]
        if (cls.__module__, cls.__qualname__) != (ep.module, ep.attr):
            return None
    dist = ep.dist
    if dist is None:
        return PluginDistribution("unknown", "unknown", ep.value)
    return PluginDistribution(str(dist.metadata["Name"] or dist.name), str(dist.version), f"{ep.module}:{ep.attr}")


def available_codecs(*, runtime: bool = True) -> list[str]:
    """Registry keys: built-ins, installed entry points and (with `runtime`) classes registered at run time."""
    names = set(BUILTIN_CODECS) | set(_entry_points())
    return sorted(names | set(_REGISTERED) if runtime else names)


def codec_class(name: str) -> type[Codec]:
    """Returns the adapter class for registry key `name`, importing its module on first use.

    Importing the adapter module never imports the upstream package (adapters import lazily), so
    this works even when the codec's extra is not installed.
    """
    key = name.lower()
    if key in _REGISTERED:
        return _REGISTERED[key]
    if key in BUILTIN_CODECS:
        module_name, cls_name = BUILTIN_CODECS[key].split(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
    else:
        eps = _entry_points()
        if key not in eps:
            raise UnknownCodecError(f"unknown codec {name!r}; available: {', '.join(available_codecs())}")
        cls = eps[key].load()
    if not (isinstance(cls, type) and issubclass(cls, Codec)):
        raise UnknownCodecError(f"codec {name!r} resolves to {cls!r}, which is not an ncst.codecs.Codec subclass")
    _REGISTERED[key] = cls
    return cls


def get_card(spec: str | CodecSpec) -> CodecCard:
    """The `CodecCard` of a spec string, without building anything."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    cls = codec_class(parsed.name)
    variant = parsed.variant or cls.DEFAULT_VARIANT
    if variant not in cls.VARIANTS:
        raise UnknownCodecError(
            f"codec {parsed.name!r} has no variant {variant!r}; choose one of {sorted(cls.VARIANTS)}"
        )
    return cls.VARIANTS[variant]


def get_codec(spec: str | CodecSpec, *, device: str | torch.device = "cpu") -> Codec:
    """An unloaded adapter instance for `spec`; call `.load(weights)` next."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    return codec_class(parsed.name)(parsed.variant, device=device)


def list_cards(*, runtime: bool = True) -> list[CodecCard]:
    """Every variant of every codec whose adapter module imports (see `available_codecs` for `runtime`)."""
    cards: list[CodecCard] = []
    for name in available_codecs(runtime=runtime):
        try:
            cls = codec_class(name)
        except (ImportError, UnknownCodecError) as err:
            log.warning("skipping codec %r: %s", name, err)
            continue
        cards.extend(cls.VARIANTS[k] for k in cls.VARIANTS)
    return cards
