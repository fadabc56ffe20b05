"""The adapter contract: the checks every codec adapter must pass, shipped so a plug-in's own tests run them.

`check_adapter_contract("mycodec")` (or the adapter class itself) runs, offline:

* `card`: every variant's card says where the architecture comes from (an optional pip package names
  itself and its version; a port names its repository and full commit) and `pad_multiple >= 1`;
* `conformance`: `ncst.codecs.conformance.check_codec` with random weights (length, rate, finiteness,
  determinism, bitrate, padding, architecture source);
* `missing_extra`: with every upstream import blocked, `load("random")` raises `MissingDependencyError`
  naming the card's install command (codecs with an ncst extra only);
* `local_round_trip`: `load(codec.save_local(folder))` sounds like the saved model;
* `crafted_checkpoint`: a pickle that would run code, put in the `save_local` layout, is refused without
  `--trust-checkpoint` and never runs;
* `mocked_pretrained`: `load("pretrained")` works when every download function serves the `save_local`
  files (for cards that name a checkpoint).

A check is skipped, with the reason, when its precondition is missing (the upstream package is not
installed, the adapter has no `save_local`, the card names no checkpoint). The report lists every check;
`raise_on_failure=True` raises one `ContractError` listing every failure. `ncst codecs check --contract
SPEC` is the same function on the command line, and `tests/codecs/test_adapter_contract.py` runs it on
every registered codec.

Each check restores what it patched (imports, download functions, cache variables) when it ends.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from ncst.codecs.base import Codec, CodecCard
from ncst.codecs.registry import codec_class, get_codec, parse_spec
from ncst.errors import ContractError, MissingDependencyError, UntrustedCheckpointError

__all__ = [
    "CONTRACT_CHECKS",
    "CodeOnLoad",
    "ContractCheck",
    "ContractReport",
    "check_adapter_contract",
    "check_crafted_checkpoint_refused",
    "check_local_round_trip",
    "check_missing_extra",
    "check_mocked_pretrained",
    "upstream_missing",
    "write_crafted_checkpoint",
]

log = logging.getLogger(__name__)

#: Every check, in the order they run.
CONTRACT_CHECKS = (
    "card", "conformance", "missing_extra", "local_round_trip", "crafted_checkpoint", "mocked_pretrained",
)  # fmt: skip
#: File suffixes that never hold pickles (a crafted pickle cannot hide in them).
SAFE_SUFFIXES = (".json", ".yaml", ".yml", ".safetensors", ".sft", ".txt")
#: Distribution -> import name, where they differ.
_IMPORT_NAMES = {"descript-audio-codec": "dac", "ms-funcodec": "funcodec"}

#: Makes a fresh, unloaded adapter instance.
CodecFactory = Callable[[], Codec]
#: One check: (factory, adapter class, card, work folder, clip seconds) -> None, raising on failure.
_Check = Callable[[CodecFactory, "type[Codec]", CodecCard, Path, float], None]


@dataclass(frozen=True, slots=True)
class ContractCheck:
    """One check's outcome: `status` is `ok`, `failed` or `skipped`; `detail` says why."""

    name: str
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ContractReport:
    """Every check run on one codec."""

    spec: str
    checks: tuple[ContractCheck, ...]

    @property
    def failures(self) -> list[ContractCheck]:
        return [c for c in self.checks if c.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "ok": self.ok, "checks": [{"name": c.name, "status": c.status,
                                                             "detail": c.detail} for c in self.checks]}  # fmt: skip

    def raise_for_failures(self) -> None:
        """Raises `ContractError` listing every failed check (nothing when all passed or were skipped)."""
        if self.failures:
            listed = "; ".join(f"{c.name}: {c.detail}" for c in self.failures)
            raise ContractError(f"{self.spec} breaks the adapter contract ({len(self.failures)} failed): {listed}")


class _Skip(Exception):
    """A check's precondition is missing; the message says which."""


def check_adapter_contract(
    codec: str | type[Codec],
    *,
    checks: Sequence[str] = CONTRACT_CHECKS,
    work_dir: Path | None = None,
    duration_s: float = 0.25,
    raise_on_failure: bool = False,
) -> ContractReport:
    """Runs the adapter contract on a registered spec (`mycodec`, `mycodec@v2`) or an adapter class.

    Args:
        codec: A spec string, or a `Codec` subclass (its `DEFAULT_VARIANT` is checked; no registration).
        checks: Names from `CONTRACT_CHECKS` to run.
        work_dir: Folder for the checkpoints the checks write (a temporary folder, removed after, if None).
        duration_s: Length of the conformance clip.
        raise_on_failure: Raise `ContractError` listing every failure instead of returning a failed report.

    Raises:
        ValueError: An unknown check name.
        UnknownCodecError: `codec` is not a registered spec.
        ContractError: With `raise_on_failure`, when any check failed.
    """
    unknown = [c for c in checks if c not in CONTRACT_CHECKS]
    if unknown:
        raise ValueError(f"unknown contract checks {unknown}; choose from {list(CONTRACT_CHECKS)}")
    if isinstance(codec, str):
        spec = codec
        cls = codec_class(parse_spec(spec).name)  # raises UnknownCodecError for an unknown spec
        card = get_codec(spec).card

        def make() -> Codec:
            return get_codec(spec)

    else:
        cls = codec
        card = cls.VARIANTS[cls.DEFAULT_VARIANT]

        def make() -> Codec:
            return cls(None)

    results: list[ContractCheck] = []
    with ExitStack() as stack:
        folder = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ncst-contract-")))
        for name in checks:
            results.append(_run(name, _CHECKS[name], (make, cls, card, folder / name, duration_s)))
    report = ContractReport(card.spec, tuple(results))
    log.info("adapter contract %s: %s", card.spec, "ok" if report.ok else f"{len(report.failures)} failed")
    if raise_on_failure:
        report.raise_for_failures()
    return report


def _run(name: str, check: _Check, args: tuple[CodecFactory, type[Codec], CodecCard, Path, float]) -> ContractCheck:
    """Runs one check; any exception of the adapter is that check's failure, so every check gets its turn."""
    try:
        check(*args)
    except _Skip as skip:
        return ContractCheck(name, "skipped", str(skip))
    except Exception as err:  # noqa: BLE001 -- collecting every failure is the point of a contract report
        return ContractCheck(name, "failed", f"{type(err).__name__}: {err}"[:2000])
    return ContractCheck(name, "ok")


def upstream_missing(card: CodecCard) -> str:
    """Which upstream distribution of `card` is not importable, as a sentence, or "" when all are."""
    for dist in (p.strip() for p in card.upstream_package.split(",") if p.strip()):
        module = _IMPORT_NAMES.get(dist, dist.replace("-", "_"))
        if importlib.util.find_spec(module) is None:
            return f"{card.spec}: upstream package {dist} is not installed ({card.install_hint})"
    return ""


def _needs_upstream(card: CodecCard) -> None:
    missing = upstream_missing(card)
    if missing:
        raise _Skip(missing)


def _needs_save_local(cls: type[Codec], card: CodecCard) -> None:
    if cls.save_local is Codec.save_local:
        raise _Skip(f"{card.spec}: the adapter does not implement save_local(folder), which this check needs")


def _card(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    problems = []
    for c in cls.VARIANTS.values():
        if c.source == "pip" and c.pip_extra and not (c.upstream_package and c.upstream_version):
            problems.append(f"{c.spec}: a card with an ncst extra names upstream_package and upstream_version")
        elif c.source == "pip" and not c.upstream_package:
            problems.append(f"{c.spec}: a pip card names its upstream_package")
        elif c.source == "port" and not (c.upstream_repo and len(c.upstream_commit) == 40):
            problems.append(f"{c.spec}: a port card names upstream_repo and the full 40-hex upstream_commit")
        if c.pad_multiple < 1:
            problems.append(f"{c.spec}: pad_multiple {c.pad_multiple} < 1")
    if problems:
        raise ContractError("; ".join(problems))


def _conformance(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    from ncst.codecs.conformance import check_codec

    _needs_upstream(card)
    report = check_codec(make(), weights="random", duration_s=duration_s)
    if not report.ok:
        bad = {k: v for k, v in report.to_dict().items() if k.endswith("_ok") and v is False}
        raise ContractError(f"conformance failed {sorted(bad) or report.source_problem}: {report.to_dict()}")


def _missing_extra(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    if card.source == "port" or not card.pip_extra:
        raise _Skip(f"{card.spec} needs no optional package (a port, or no ncst extra)")
    check_missing_extra(make)


def _local(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    _needs_upstream(card)
    _needs_save_local(cls, card)
    check_local_round_trip(make, folder)


def _crafted(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    _needs_upstream(card)
    _needs_save_local(cls, card)
    check_crafted_checkpoint_refused(make, folder)


def _pretrained(make: CodecFactory, cls: type[Codec], card: CodecCard, folder: Path, duration_s: float) -> None:
    if not card.checkpoint:
        raise _Skip(f"{card.spec}: no public checkpoint (the card names none), so 'pretrained' is refused by design")
    _needs_upstream(card)
    _needs_save_local(cls, card)
    check_mocked_pretrained(make, folder)


_CHECKS: dict[str, _Check] = {
    "card": _card,
    "conformance": _conformance,
    "missing_extra": _missing_extra,
    "local_round_trip": _local,
    "crafted_checkpoint": _crafted,
    "mocked_pretrained": _pretrained,
}


# -- the checks themselves (also importable one by one, as ncst.testing re-exports them) ----------------------
def _factory(codec: str | CodecFactory) -> CodecFactory:
    if isinstance(codec, str):
        return lambda: get_codec(codec)
    return codec


def _clip(sample_rate_hz: int, duration_s: float = 0.25, seed: int = 7) -> torch.Tensor:
    from ncst.codecs.random_init import calibration_signal

    g = torch.Generator().manual_seed(seed)
    return calibration_signal(sample_rate_hz, duration_s, generator=g).reshape(1, -1)


def check_missing_extra(codec: str | CodecFactory) -> None:
    """With every upstream import failing, `load("random")` raises `MissingDependencyError` naming the install.

    Raises:
        ContractError: `load` worked, or its error does not name `card.install_hint`.
    """
    import ncst.codecs.base as base

    adapter = _factory(codec)()
    spec = adapter.card.spec

    class _NoUpstream:
        @staticmethod
        def import_module(name: str) -> Any:
            raise ImportError(f"No module named {name!r} (blocked by ncst.codecs.contract.check_missing_extra)")

    with mock.patch.object(base, "importlib", _NoUpstream):
        try:
            adapter.load("random")
        except MissingDependencyError as err:
            if adapter.card.install_hint not in str(err):
                raise ContractError(f"{spec}: the missing-package error does not name "
                                    f"{adapter.card.install_hint!r}: {err}") from err  # fmt: skip
            return
    raise ContractError(f"{spec}: load() worked with every upstream import blocked; use self._import_upstream")


def check_local_round_trip(codec: str | CodecFactory, folder: Path, *, seed: int = 3) -> Codec:
    """`load(codec.save_local(folder))` gives the same audio as the saved codec; returns the loaded codec."""
    make = _factory(codec)
    saved = make().load("random", seed=seed)
    spec = saved.card.spec
    target = saved.save_local(folder)
    loaded = make().load(target, seed=seed)
    if not loaded.checkpoint_paths or not all(Path(p).is_file() for p in loaded.checkpoint_paths):
        raise ContractError(f"{spec}: checkpoint_paths {loaded.checkpoint_paths} do not name the files read")
    x = _clip(saved.card.sample_rate_hz)
    if not torch.equal(loaded.resynthesize(x), saved.resynthesize(x)):
        raise ContractError(f"{spec}: a model loaded from save_local() sounds different from the saved one")
    return loaded


class CodeOnLoad:
    """Unpickling this creates `marker` (via `Path.touch`): a stand-in for code hidden in a checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.marker,))


def write_crafted_checkpoint(path: Path, marker: Path) -> Path:
    """A torch file that looks like a state dict but creates `marker` if it is ever unpickled."""
    torch.save({"state_dict": {"weight": torch.zeros(1)}, "model": {}, "payload": CodeOnLoad(marker)}, path)
    return path


def check_crafted_checkpoint_refused(codec: str | CodecFactory, folder: Path) -> None:
    """A crafted pickle in the codec's local layout is refused, naming the flag, and never runs.

    Every torch file the codec reads from its `save_local` layout is replaced by a pickle that would
    create a marker file; a codec whose layout has no torch file (safetensors only) gets the crafted
    file as its weights path instead.
    """
    make = _factory(codec)
    saved = make().load("random")
    spec = saved.card.spec
    target = saved.save_local(folder)
    loaded = make().load(target)
    marker = folder.parent / f"{folder.name}.code-ran"
    torch_files = [Path(p) for p in loaded.checkpoint_paths if Path(p).suffix.lower() not in SAFE_SUFFIXES]
    if torch_files:
        for file in torch_files:
            write_crafted_checkpoint(file, marker)
    else:
        target = write_crafted_checkpoint(folder / "crafted.pt", marker)
    try:
        make().load(target)
    except UntrustedCheckpointError as err:
        if "--trust-checkpoint" not in str(err):
            raise ContractError(f"{spec}: the refusal does not name --trust-checkpoint: {err}") from err
    else:
        raise ContractError(f"{spec}: a crafted checkpoint loaded without --trust-checkpoint")
    if marker.exists():
        raise ContractError(f"{spec}: code in a crafted checkpoint ran without --trust-checkpoint")


def check_mocked_pretrained(codec: str | CodecFactory, folder: Path) -> None:
    """`load("pretrained")` works offline when every download function serves the `save_local` files.

    Hugging Face `hf_hub_download`, torch hub (`download_url_to_file`, `load_state_dict_from_url`) and
    `requests.get` are stubbed: a request for file `name` gets `folder/saved/name`, or the one saved file
    with the same suffix. Caches (`TORCH_HOME`, `HOME`, `HF_HOME`, `XDG_CACHE_HOME`) point into `folder`.
    Everything is restored when the check ends.
    """
    make = _factory(codec)
    saved_codec = make().load("random", seed=5)
    spec = saved_codec.card.spec
    saved = saved_codec.save_local(folder / "saved")
    files = [saved] if saved.is_file() else sorted(p for p in saved.iterdir() if p.is_file())
    cache = folder / "cache"
    with _offline_downloads(spec, files, cache):
        loaded = make().load("pretrained", seed=5)
    if not loaded.checkpoint_paths:
        raise ContractError(f"{spec}: pretrained loading did not record the files it read")
    x = _clip(saved_codec.card.sample_rate_hz)
    if not torch.equal(loaded.resynthesize(x), saved_codec.resynthesize(x)):
        raise ContractError(f"{spec}: pretrained loading of the served files sounds different from the saved model")


@contextmanager
def _offline_downloads(spec: str, files: list[Path], cache: Path) -> Iterator[None]:
    def serve(name: str) -> Path:
        base = Path(name).name
        exact = [f for f in files if f.name == base]
        same_suffix = [f for f in files if f.suffix == Path(base).suffix]
        if exact:
            return exact[0]
        if len(same_suffix) == 1:
            return same_suffix[0]
        raise FileNotFoundError(f"{spec}: no saved file for requested {name!r} among {[f.name for f in files]}")

    def hf_hub_download(repo_id: str = "", filename: str = "", *args: Any, **kwargs: Any) -> str:
        return str(serve(filename or str(args[0] if args else "")))

    def download_url_to_file(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(serve(url), dst)

    def load_state_dict_from_url(url: str, model_dir: str | None = None, **kwargs: Any) -> Any:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
        download_url_to_file(url, str(cached))
        return torch.load(cached, map_location="cpu", weights_only=True)

    class _Response:
        status_code = 200

        def __init__(self, url: str) -> None:
            self.content = serve(url).read_bytes()

    env = {var: str(cache / var.lower()) for var in ("TORCH_HOME", "HOME", "HF_HOME", "XDG_CACHE_HOME")}
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env))
        import huggingface_hub

        stack.enter_context(mock.patch.object(huggingface_hub, "hf_hub_download", hf_hub_download))
        stack.enter_context(mock.patch.object(torch.hub, "download_url_to_file", download_url_to_file))
        stack.enter_context(mock.patch.object(torch.hub, "load_state_dict_from_url", load_state_dict_from_url))
        if "requests" in sys.modules or importlib.util.find_spec("requests") is not None:
            import requests

            stack.enter_context(mock.patch.object(requests, "get", lambda url, *a, **k: _Response(url)))
        yield
