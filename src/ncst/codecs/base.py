"""The codec interface: `CodecCard` (what a codec is), `Codes` (what it emits) and `Codec` (what it does).

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
import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Mapping, Sequence

import torch

from ncst.errors import MissingDependencyError, NotFittedError, WeightsError
from ncst.io import load_checkpoint

__all__ = ["ARCHITECTURE_SOURCES", "CodecCard", "Codes", "Codec", "WeightsSpec", "parse_weights", "fit_length"]

log = logging.getLogger(__name__)

#: Values of `CodecCard.source`.
ARCHITECTURE_SOURCES = ("pip", "port")


@dataclass(frozen=True, slots=True)
class CodecCard:
    """Everything fixed about one codec variant.

    Attributes:
        name: Registry key of the family, e.g. `"encodec"`.
        variant: Variant key inside the family, e.g. `"6kbps"`.
        family: Human-readable family name, e.g. `"EnCodec"`.
        class_id: ST-Codecfake class id (0-11) of the audio this variant makes, or None.
        file_prefix: Prefix of generated file names (`encodec_<utt>.wav`, `C4-1_<utt>.wav`).
        sample_rate_hz: Rate the model runs at; input is resampled to it and output is written at it.
        n_quantizers: Codebooks used per frame (summed over levels for multi-scale codecs).
        frame_rate_hz: Token frames per second (of the finest level for multi-scale codecs).
        codebook_size: Entries per codebook.
        nominal_bitrate_bps: Bitrate as the paper's table states it.
        effective_bitrate_bps: tokens/s x log2(codebook_size), what the codes really carry.
        checkpoint: Where real weights come from (hub id, URL or file name).
        checkpoint_sha256: Expected sha256 of the checkpoint file, where known.
        upstream_package: Distribution that provides the architecture (`source="pip"`), or "" for a port.
        pip_extra: ncst extra that installs it (`pip install ncst[<extra>]`); "" when nothing is needed.
        licence: Licence of code and weights.
        quantizer: Taxonomy: quantiser type (RVQ, multi-scale RVQ, FSQ, ...).
        decoder_type: Taxonomy: decoder domain (time, frequency/iSTFT, ...).
        notes: Settings, evidence and caveats worth reading before trusting the audio.
        extra: Adapter-specific settings (bandwidth, bit_width, ...).
        source: Where the architecture comes from: `"pip"` (an upstream package, `upstream_package` at
            `upstream_version`) or `"port"` (our own modules in `ncst.codecs.ports`, checked against
            `upstream_repo` at `upstream_commit`).
        upstream_version: Version of `upstream_package` the adapter was written and tested against.
        upstream_repo: Upstream repository URL (required for a port).
        upstream_commit: Full commit hash of `upstream_repo` a port was checked against.
        pad_multiple: The codec pads its input to a multiple of this many samples (its hop, or a larger
            block); the conformance check verifies that the codes cover such a multiple.
    """

    name: str
    variant: str
    family: str
    class_id: int | None
    file_prefix: str
    sample_rate_hz: int
    n_quantizers: int
    frame_rate_hz: float
    codebook_size: int
    nominal_bitrate_bps: float
    effective_bitrate_bps: float
    checkpoint: str
    upstream_package: str
    pip_extra: str
    licence: str
    quantizer: str
    decoder_type: str
    checkpoint_sha256: str | None = None
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    source: str = "pip"
    upstream_version: str = ""
    upstream_repo: str = ""
    upstream_commit: str = ""
    pad_multiple: int = 1

    def __post_init__(self) -> None:
        if self.source not in ARCHITECTURE_SOURCES:
            raise ValueError(f"{self.spec}: card source {self.source!r} is not one of {ARCHITECTURE_SOURCES}")
        if self.pad_multiple < 1:
            raise ValueError(f"{self.spec}: pad_multiple must be >= 1, got {self.pad_multiple}")

    @property
    def spec(self) -> str:
        """Canonical spec string, e.g. `"encodec@6kbps"`."""
        return f"{self.name}@{self.variant}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra"] = dict(self.extra)
        d["spec"] = self.spec
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CodecCard":
        fields = {k: v for k, v in d.items() if k != "spec"}
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class Codes:
    """Discrete codes of a batch.

    Attributes:
        levels: One LongTensor `[B, n_q, T_level]` per temporal level (one level for plain RVQ codecs,
            several for multi-scale codecs such as SNAC).
        codebook_size: Entries per codebook (bits per code = log2 of it).
        covered_samples: Input samples (at the codec rate, after the codec's own padding) the codes
            stand for; the measured bitrate divides by this duration.
        sample_rate_hz: Codec rate.
        extra: Side information a decoder needs besides the codes (scales, speaker embeddings, the
            original length), never used for the bitrate.
    """

    levels: tuple[torch.Tensor, ...]
    codebook_size: int
    covered_samples: int
    sample_rate_hz: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def tokens_per_item(self) -> int:
        """Codes per batch item, summed over levels and quantizers."""
        return sum(int(level.shape[1] * level.shape[2]) for level in self.levels)

    @property
    def n_quantizers(self) -> int:
        return sum(int(level.shape[1]) for level in self.levels)

    def bitrate_bps(self) -> float:
        """Measured bitrate: tokens/s x log2(codebook_size), from the actual codes."""
        duration_s = self.covered_samples / self.sample_rate_hz
        return self.tokens_per_item * math.log2(self.codebook_size) / duration_s

    def distinct_codes(self) -> int:
        """Number of distinct code values over the whole batch (a degenerate quantiser gives 1)."""
        return int(torch.unique(torch.cat([lv.reshape(-1) for lv in self.levels])).numel())


@dataclass(frozen=True, slots=True)
class WeightsSpec:
    """Which weights to load: `"pretrained"` (upstream hub/URL/cache), `"random"` or a local path."""

    mode: str  # "pretrained" | "random" | "path"
    path: Path | None = None

    @property
    def is_random(self) -> bool:
        return self.mode == "random"

    def describe(self) -> str:
        return str(self.path) if self.mode == "path" else self.mode


def parse_weights(weights: "str | Path | WeightsSpec") -> WeightsSpec:
    """Parses `--weights`: `pretrained`, `random`, or a path to a local checkpoint file or folder."""
    if isinstance(weights, WeightsSpec):
        return weights
    if isinstance(weights, Path):
        return _path_weights(weights)
    if weights in ("pretrained", "random"):
        return WeightsSpec(weights)
    return _path_weights(Path(weights))


def _path_weights(path: Path) -> WeightsSpec:
    if not path.exists():
        raise WeightsError(f"weights {str(path)!r} is neither 'pretrained', 'random' nor an existing file or folder")
    return WeightsSpec("path", path.resolve())


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
            model = self._load_pretrained()
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
                f"install it with: pip install ncst[{card.pip_extra}]"
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
