"""The codec interface: `Codec` (what a codec does), with `CodecCard` (what it is, `ncst.codecs.card`),
`Codes` (what it emits, `ncst.codecs.codes`) and `WeightsSpec` (`ncst.codecs.weights`) re-exported here.

An adapter subclasses `Codec`, declares its variants as `CodecCard`s in a `VARIANTS` dict, and
implements five small hooks: `_build_random(seed)`, `_load_pretrained()` and `_load_local(path)` each
return the upstream model (official architecture, with random, downloaded or local weights), and
`_encode` / `_decode` run it. The base class owns everything that must be the same for every codec: the
weights dispatch, the `model` attribute and its not-built guard, safe checkpoint reading
(`_load_checkpoint`), dtype/device handling, `inference_mode`, seeding without touching global RNG
state, and cropping/padding the output back to the input length. See docs/adding_a_codec.md.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Sequence

import torch

from ncst.codecs.card import ARCHITECTURE_SOURCES, CodecCard
from ncst.codecs.checkpoints import WeightFile, hf_weight_file, is_offline, torch_hub_weight_file
from ncst.codecs.codes import Codes
from ncst.codecs.weights import WeightsSpec, parse_weights
from ncst.errors import MissingDependencyError, NotFittedError, WeightsError
from ncst.io import load_checkpoint

__all__ = ["ARCHITECTURE_SOURCES", "CodecCard", "Codes", "Codec", "WeightsSpec", "parse_weights", "fit_length"]

log = logging.getLogger(__name__)


def fit_length(wav: torch.Tensor, length: int) -> torch.Tensor:
    """Crops or zero-pads the last axis to `length` samples."""
    t = wav.shape[-1]
    if t == length:
        return wav
    if t > length:
        return wav[..., :length]
    return torch.nn.functional.pad(wav, (0, length - t))


class Codec(ABC):
    """A neural audio codec behind one uniform interface.

    Subclasses set `VARIANTS` and `DEFAULT_VARIANT` and implement `_build_random`, `_load_pretrained`,
    `_load_local`, `_encode` and `_decode` (and optionally `_prepare_model`). `__init__` only stores
    arguments; nothing is downloaded or built before `load`.

    Example:
        >>> codec = get_codec("encodec@6kbps").load("random")       # doctest: +SKIP
        >>> y = codec.resynthesize(torch.zeros(1, 24000))          # [1, 24000] at 24 kHz
    """

    VARIANTS: ClassVar[dict[str, CodecCard]] = {}
    DEFAULT_VARIANT: ClassVar[str] = ""
    #: True when each item's output ignores the other items of a batch and the zeros padded after it
    #: (causal codecs), so `ncst.codecs.batching` may pad items of different lengths into one batch.
    #: Set it only with a test that batched and unbatched outputs agree (tests/codecs/test_batching.py).
    batch_safe: ClassVar[bool] = False

    def __init__(self, variant: str | None = None, *, device: str | torch.device = "cpu") -> None:
        from ncst.errors import UnknownCodecError

        key = variant or self.DEFAULT_VARIANT
        if key not in self.VARIANTS:
            raise UnknownCodecError(
                f"{type(self).__name__} has no variant {key!r}; choose one of {sorted(self.VARIANTS)}"
            )
        self.card: CodecCard = self.VARIANTS[key]
        self.device = torch.device(device)
        self.weights: WeightsSpec | None = None
        self.seed: int = 0
        #: Whether `load` may fully unpickle a checkpoint that `weights_only` loading refuses.
        self.trust_checkpoint: bool = False
        #: The upstream model (set by `load`; None before).
        self.model: Any = None
        #: Checkpoint files the adapter actually loaded (set by the load hooks); provenance hashes them.
        self.checkpoint_paths: list[Path] = []
        self._loaded = False

    # -- hooks ---------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> Any:
        """Returns the official architecture with random weights (torch's RNG is already seeded with `seed`).

        Random weights must give non-degenerate codes: codebooks that upstream leaves at zero until
        k-means runs in training must be initialised here (see `ncst.codecs.random_init`).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _build_random")

    def _load_pretrained(self) -> Any:
        """Returns the model with the card's checkpoint, fetched the way upstream does (hub, URL, cache).

        Sets `self.checkpoint_paths` to the files read; reads torch files with `self._load_checkpoint`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _load_pretrained")

    def _load_local(self, path: Path) -> Any:
        """Returns the model with weights from a local file or folder (upstream's layout).

        Raises `WeightsError` naming the expected layout when `path` does not hold it; sets
        `self.checkpoint_paths`; reads torch files with `self._load_checkpoint`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _load_local")

    def save_local(self, folder: Path) -> Path:
        """Writes the loaded model's weights to `folder` in upstream's local layout; returns what `load` takes.

        `load(codec.save_local(folder))` gives the same model: the common adapter tests
        (`ncst.testing.check_local_round_trip`) round-trip every codec through it, feed crafted pickles
        through the same layout, and serve its files to mocked downloads.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement save_local")

    def weight_files(self) -> list[WeightFile]:
        """The files `_load_pretrained` reads and where upstream's cache keeps them (`ncst weights list`).

        The default reads the card's checkpoint (`hf://<org>/<repo>/<file>` or a release URL kept by torch
        hub); adapters that read more files, or another cache, override it. Empty: no public checkpoint.
        """
        checkpoint = self.card.checkpoint
        if checkpoint.startswith("hf://"):
            parts = checkpoint[len("hf://") :].split("/")
            if len(parts) > 2:
                return [hf_weight_file("/".join(parts[:2]), "/".join(parts[2:]), self.card.checkpoint_sha256)]
        elif checkpoint.startswith(("https://", "http://")):
            return [torch_hub_weight_file(checkpoint, self.card.checkpoint_sha256)]
        return []

    def _missing_weights_message(self, missing: WeightFile, reason: str) -> str:
        spec = self.card.spec
        return (
            f"{spec}: checkpoint file {missing.name} ({missing.source}) is not in the cache (looked for "
            f"{missing.path}; {reason}); fetch it where there is network with `ncst weights fetch {spec}`, or "
            f"`ncst weights fetch {spec} --dir DIR` and build with --weights-dir DIR"
        )

    def _load_pretrained_checked(self) -> Any:
        """`_load_pretrained`, failing fast and naming the missing file when offline or a download fails."""
        if is_offline():
            missing = [f for f in self.weight_files() if not f.present]
            if missing:
                raise WeightsError(self._missing_weights_message(missing[0], "offline: HF_HUB_OFFLINE is set"))
        try:
            return self._load_pretrained()
        except OSError as err:  # URLError, requests' and huggingface_hub's connection and not-cached errors
            missing = [f for f in self.weight_files() if not f.present]
            if not missing:
                raise
            first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise WeightsError(
                self._missing_weights_message(missing[0], f"download failed: {type(err).__name__}: {first}")
            ) from err

    def _prepare_model(self, model: Any) -> None:
        """Configures or checks the built model, whatever its weights (bandwidth, rate checks); optional."""
        return None  # nothing to do by default

    @abstractmethod
    def _encode(self, wav: torch.Tensor) -> Codes:
        """`[B, 1, T]` float32 at the card rate on `self.device` -> codes."""

    @abstractmethod
    def _decode(self, codes: Codes) -> torch.Tensor:
        """Codes -> `[B, 1, T']` float32 at the card rate (any length; the base class fits it)."""

    def _build(self, weights: WeightsSpec, seed: int) -> Any:
        """Dispatches `weights` to the hook that builds the model, then `_prepare_model`; returns the model.

        Adapters implement the three hooks instead of overriding this.
        """
        if weights.mode == "random":
            model = self._build_random(seed)
        elif weights.mode == "pretrained":
            model = self._load_pretrained_checked()
        elif weights.mode == "path" and weights.path is not None:
            model = self._load_local(weights.path)
        else:
            raise WeightsError(f"unsupported weights {weights!r}; use 'pretrained', 'random' or a path")
        self._prepare_model(model)
        return model

    # -- public API ----------------------------------------------------------------------------------
    def load(
        self, weights: "str | Path | WeightsSpec" = "pretrained", *, seed: int = 0, trust_checkpoint: bool = False
    ) -> "Codec":
        """Builds the model and loads weights; returns `self`.

        Args:
            weights: `"pretrained"` downloads (or reuses the cache of) the upstream checkpoint,
                `"random"` builds the official architecture with seeded random weights (offline
                smoke tests only), a path loads a local checkpoint.
            seed: Seed of random weights and of any sampling the decoder does (SNAC's noise blocks).
            trust_checkpoint: Allow full unpickling of a checkpoint that holds more than tensors (it can
                run code stored in the file; `--trust-checkpoint` on the command line). Without it such a
                file raises `UntrustedCheckpointError`.
        """
        spec = parse_weights(weights)
        self.seed = seed
        self.trust_checkpoint = trust_checkpoint
        self.checkpoint_paths = []
        self._loaded = False
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            model = self._build(spec, seed)
        if model is not None:
            if isinstance(model, torch.nn.Module):
                model = model.to(self.device).eval()
            self.model = model
        self.weights = spec
        self._loaded = True
        log.info("loaded %s (%s weights) on %s", self.card.spec, spec.describe(), self.device)
        return self

    @classmethod
    def shared_model_key(cls, card: CodecCard) -> str:
        """Variants with equal keys load the same checkpoint into the same model; default: no sharing.

        An adapter whose variants differ only in settings `_prepare_model` applies (EnCodec's bandwidth,
        FunCodec's bit width read at encode time) returns one key for them, so a build loads the model once
        (`share_model`). Only for loaded checkpoints: random weights are never shared.
        """
        return card.spec

    def share_model(self, owner: "Codec") -> "Codec":
        """Uses `owner`'s loaded model for this variant (same `shared_model_key`); returns `self`.

        The model object is shared, so `_prepare_model` runs again here: whoever switches between variants
        of one model calls it before using the other variant (`ncst.build_dataset.jobs.JobRunner` does).
        """
        owner._check_loaded()
        self.model = owner.model
        self.weights = owner.weights
        self.seed = owner.seed
        self.trust_checkpoint = owner.trust_checkpoint
        self.checkpoint_paths = list(owner.checkpoint_paths)
        self._prepare_model(self.model)
        self._loaded = True
        return self

    def release(self) -> None:
        """Drops the model (a build holds one codec at a time); `load` again to use this codec."""
        self.model = None
        self._loaded = False

    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def encode(self, wav: torch.Tensor) -> Codes:
        """Encodes mono `[B, T]` float audio at `card.sample_rate_hz`."""
        self._check_loaded()
        x = self._prepare(wav)
        with torch.inference_mode(), torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(self.seed)
            return self._encode(x)

    def decode(self, codes: Codes, *, length: int | None = None) -> torch.Tensor:
        """Decodes to `[B, T]` float32; `length` crops/pads to that many samples."""
        self._check_loaded()
        with torch.inference_mode(), torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(self.seed)
            y = self._decode(codes)
        y = y.reshape(y.shape[0], -1).float()
        return fit_length(y, length) if length is not None else y

    def resynthesize(self, wav: torch.Tensor) -> torch.Tensor:
        """Encode then decode: mono `[B, T]` in, `[B, T]` out, both at `card.sample_rate_hz`.

        The output has exactly the input length, and the same input gives the same output (all
        randomness is seeded from `load(seed=...)` without changing the caller's RNG state).
        """
        length = int(wav.shape[-1])
        codes = self.encode(wav)
        return self.decode(codes, length=length).cpu()

    # -- helpers for adapters ------------------------------------------------------------------------
    def _prepare(self, wav: torch.Tensor) -> torch.Tensor:
        if wav.ndim == 1:
            wav = wav.unsqueeze(0)
        if wav.ndim != 2:
            raise ValueError(f"{self.card.spec}: expected mono audio [B, T], got shape {tuple(wav.shape)}")
        return wav.to(device=self.device, dtype=torch.float32).unsqueeze(1)

    def _import_upstream(self, module: str) -> ModuleType:
        """Imports an upstream module lazily; if it is missing, names the extra that installs it.

        Adapters call this inside their load hooks, so a missing package only disables its own codec.
        """
        try:
            return importlib.import_module(module)
        except ImportError as err:
            card = self.card
            raise MissingDependencyError(
                f"{card.family} needs the '{card.upstream_package}' package ({err}); "
                f"install it with: {card.install_hint}"
            ) from err

    def _load_checkpoint(self, path: Path) -> Any:
        """Reads a torch checkpoint file safely (`ncst.io.load_checkpoint`, honouring `trust_checkpoint`)."""
        return load_checkpoint(path, trust=self.trust_checkpoint)

    def _frame_codes(self, codes: torch.Tensor, hop_samples: int, input_samples: int, **extra: Any) -> Codes:
        """Wraps one code level `[B, n_q, F]` of a codec with `hop_samples` samples per frame as `Codes`.

        `covered_samples` is `F * hop_samples` (the input after the codec's own padding); `extra` gets
        `input_samples` plus any side information given.
        """
        return Codes(
            levels=(codes,),
            codebook_size=self.card.codebook_size,
            covered_samples=int(codes.shape[-1]) * hop_samples,
            sample_rate_hz=self.card.sample_rate_hz,
            extra={"input_samples": int(input_samples), **extra},
        )

    def _check_levels(self, codes: Codes, n_levels: int = 1, n_quantizers: int | None = None) -> None:
        """Raises `ValueError` unless `codes` has `n_levels` levels (and `n_quantizers` codebooks in level 0)."""
        if len(codes.levels) != n_levels:
            raise ValueError(f"{self.card.spec}: expected {n_levels} code level(s), got {len(codes.levels)}")
        if n_quantizers is not None and codes.levels[0].shape[1] != n_quantizers:
            raise ValueError(f"{self.card.spec}: expected {n_quantizers} codebooks, got {codes.levels[0].shape[1]}")

    def _check_loaded(self) -> None:
        if not self._loaded:
            raise NotFittedError(f"{self.card.spec}: call .load(weights) before encoding")

    def _rng_devices(self) -> Sequence[int]:
        if self.device.type == "cuda":
            return [self.device.index or 0]
        return []

    def upstream_versions(self) -> dict[str, str]:
        """Versions of torch and the upstream package (or the port's upstream commit), for provenance."""
        from importlib import metadata

        versions: dict[str, str] = {"torch": str(torch.__version__)}
        card = self.card
        if card.source == "port":
            versions[f"port:{card.upstream_repo or card.name}"] = card.upstream_commit or "unknown"
        for dist in card.upstream_package.split(","):
            dist = dist.strip()
            if not dist:
                continue
            try:
                versions[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                versions[dist] = "not-installed"
        return versions

    def __repr__(self) -> str:
        state = self.weights.describe() if self.weights else "not loaded"
        return f"{type(self).__name__}({self.card.spec!r}, device={str(self.device)!r}, weights={state})"
