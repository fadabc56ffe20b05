"""Rendering jobs: read the source, resample, resynthesise, encode the file in memory, describe it.

`JobRunner` holds one loaded codec model at a time (variants sharing a checkpoint share it) and renders jobs into
`Rendered` results (the file's bytes and its provenance row) or per-file `JobFailure`s. It never writes:
the build runner (`ncst.build_dataset.runner`) writes every file and records every row, whichever executor
rendered it (this process, a pool worker, a Ray actor). `start_worker` is the one way a worker process or
actor sets itself up, and `JobRunner.preload` the one way every path checks its codecs' weights before the first
file; `group_by_codec` the order every executor hands jobs over in, so that each model is loaded once.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import importlib
import logging
import pickle
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np
import torch
import yaml

import ncst
from ncst.audio import (
    SOXR_QUALITY,
    encode_audio,
    format_for_path,
    full_scale_of,
    read_audio,
    resample,
    to_mono,
    validate_audio,
)
from ncst.build_dataset.plan import Job
from ncst.build_dataset.provenance import ncst_git_commit, plugin_record
from ncst.build_dataset.records import JobFailure, ProvenanceRow
from ncst.codecs import Codec, codec_class, get_card, get_codec, register_codec
from ncst.codecs.batching import BatchLimits, choose_batch_limits, encode_decode_many
from ncst.codecs.weight_plan import ResolvedWeights, WeightsPlan, as_weights_plan
from ncst.errors import AudioError, MissingDependencyError, NcstError, NotFittedError, UnknownCodecError, WeightsError
from ncst.io import sha256_file

__all__ = [
    "BUILD_ERRORS",
    "PER_FILE_ERRORS",
    "JobSettings",
    "JobRunner",
    "JobFailure",
    "Rendered",
    "CodecSource",
    "codec_sources",
    "group_by_codec",
    "start_worker",
]

log = logging.getLogger(__name__)

#: What a failed model build or checkpoint load raises (torch's load_state_dict: RuntimeError on wrong
#: keys or shapes; torch.load: RuntimeError, EOFError or UnpicklingError on a corrupt file; JSON/UTF-8
#: errors are ValueErrors, too-deep nesting a RuntimeError). Named ncst
#: errors pass through unchanged.
_LOAD_ERRORS = (
    RuntimeError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    OSError,
    EOFError,
    pickle.UnpicklingError,
    yaml.YAMLError,  # a damaged config.yaml beside local weights (AudioDec, FunCodec, WavTokenizer)
)


#: Errors that concern one file (unreadable, empty, NaN or clipped input; a codec error on that input):
#: the build records them in failures.csv and goes on.
PER_FILE_ERRORS: tuple[type[Exception], ...] = (AudioError, RuntimeError, ValueError)
#: Errors that would hit every file (missing package, bad weights, an adapter used before load, an
#: unknown codec): they stop the build. Checked first, since some subclass `PER_FILE_ERRORS`.
BUILD_ERRORS: tuple[type[Exception], ...] = (MissingDependencyError, WeightsError, NotFittedError, UnknownCodecError)


@dataclass(frozen=True, slots=True)
class JobSettings:
    """What every job of a build shares."""

    out_dir: Path
    #: One value for every codec (`pretrained`, `random`, a path) or per-codec weights (`WeightsPlan`).
    weights: str | WeightsPlan = "pretrained"
    device: str = "cpu"
    seed: int = 0
    trust_checkpoint: bool = False


@dataclass(frozen=True, slots=True)
class _Source:
    """A job's source read, checked and resampled to the codec rate (`x`, float32 `[T]`)."""

    x: np.ndarray
    source_rate: int
    source_samples: int
    size_bytes: int
    mtime_ns: int
    resampling: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """A generated file still in memory: the bytes to write at `row.file` and its provenance row."""

    row: ProvenanceRow
    wav_bytes: bytes


_T = TypeVar("_T")


class JobRunner:
    """Renders jobs holding at most `max_loaded` codec models at a time (one by default).

    A model is loaded on first use and released when another is needed, so memory is bounded by the
    largest codec, not the sum of the plan's codecs. Variants that share a checkpoint (EnCodec's bandwidths,
    FunCodec's bit widths: `Codec.shared_model_key`) share one loaded model. Executors hand jobs over
    grouped by codec (`group_by_codec`), so each model is loaded once per process.

    Args:
        settings: What every job of the build shares.
        preload: Codec specs whose weights are checked before the first job is rendered (`preload()`), so
            that bad weights of any codec stop the build before a file is written, whichever job comes first.
        max_loaded: Models kept loaded at once (least recently used ones are released).
    """

    def __init__(self, settings: JobSettings, preload: Iterable[str] = (), *, max_loaded: int = 1) -> None:
        self.settings = settings
        self.max_loaded = max(1, max_loaded)
        self._models: OrderedDict[tuple[str, ...], Codec] = OrderedDict()  # share key -> the model's owner
        self._views: dict[str, tuple[tuple[str, ...], Codec]] = {}  # spec -> (share key, codec using it)
        self._active: dict[tuple[str, ...], str] = {}  # share key -> spec whose settings the model has now
        self._resolved: dict[str, ResolvedWeights] = {}
        self._checkpoint_sha: dict[str, dict[str, str]] = {}
        self._plugins: dict[str, dict[str, str]] = {}  # codec name -> plugin_record, looked up once
        self._file_sha: dict[str, str] = {}
        self._auto_limits: dict[str, BatchLimits] = {}
        self._pending = list(dict.fromkeys(preload))
        #: Models loaded so far (a model reloaded after release counts again); for tests and logs.
        self.loads = 0

    def preload(self) -> None:
        """Checks the weights of the codecs named at construction (idempotent): loads each, keeps none but one.

        Each codec is loaded and released in turn, last to first, so that only the first one stays loaded
        for the first jobs. `render` and `render_batch` call it first, so a pool worker or Ray actor, which
        must not raise while it starts, raises the `WeightsError` with its first job instead, before writing
        anything; in-process builds call it before their first job.
        """
        pending, self._pending = self._pending, []
        for spec in reversed(pending):
            self.codec(spec)

    def weights_for(self, spec: str) -> ResolvedWeights:
        """The weights codec `spec` loads in this build (and the option that chose them)."""
        if spec not in self._resolved:
            self._resolved[spec] = as_weights_plan(self.settings.weights).resolve(spec)
        return self._resolved[spec]

    def _share_key(self, spec: str) -> tuple[str, ...]:
        resolved = self.weights_for(spec).spec
        if resolved.is_random:
            return (spec, "random")
        card = get_card(spec)
        cls = codec_class(card.name)
        return (f"{cls.__module__}.{cls.__qualname__}", cls.shared_model_key(card), resolved.describe())

    def codec(self, spec: str) -> Codec:
        """The loaded codec of `spec`: loaded on first use, releasing the least recently used model first.

        Raises:
            WeightsError: The weights cannot be loaded (wrong keys or shapes, a corrupt file); this stops
                the build, since every file would fail the same way.
        """
        key = self._share_key(spec)
        view = self._views.get(spec)
        if view is None or view[0] not in self._models:
            owner = self._models.get(key)
            if owner is None:
                self._make_room()
                owner = self._load(spec)
                self._models[key] = owner
                self._active[key] = spec
                codec = owner
            else:
                codec = get_codec(spec, device=self.settings.device).share_model(owner)
                self._active[key] = spec
            self._views[spec] = (key, codec)
            if spec not in self._checkpoint_sha:  # variants of one checkpoint hash its files once
                files = [str(p) for p in codec.checkpoint_paths if Path(p).is_file()]
                for file in files:
                    if file not in self._file_sha:
                        self._file_sha[file] = sha256_file(Path(file))
                self._checkpoint_sha[spec] = {file: self._file_sha[file] for file in files}
        codec = self._views[spec][1]
        self._models.move_to_end(key)
        if self._active.get(key) != spec:  # another variant of this model ran last: apply this one's settings
            codec._prepare_model(codec.model)
            self._active[key] = spec
        return codec

    def _make_room(self) -> None:
        """Releases least recently used models until one more fits under `max_loaded`."""
        while len(self._models) >= self.max_loaded:
            key, owner = self._models.popitem(last=False)
            for spec in [s for s, (k, _) in self._views.items() if k == key]:
                self._views.pop(spec)[1].release()
            self._active.pop(key, None)
            owner.release()
            log.debug("released %s", owner.card.spec)
        gc.collect()
        if self.settings.device.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _load(self, spec: str) -> Codec:
        resolved = self.weights_for(spec)
        try:
            codec = get_codec(spec, device=self.settings.device).load(
                resolved.spec, seed=self.settings.seed, trust_checkpoint=self.settings.trust_checkpoint
            )
        except NcstError:
            raise
        except _LOAD_ERRORS as err:
            lines = [line.strip().rstrip(":") for line in str(err).splitlines() if line.strip()][:4]
            detail = "; ".join(line if len(line) <= 200 else f"{line[:200]}..." for line in lines)
            raise WeightsError(
                f"cannot load {spec} with weights {resolved.spec.describe()!r}: {type(err).__name__}: {detail} "
                f"(from {resolved.source})"
            ) from err
        self.loads += 1
        return codec

    def render(self, job: Job) -> Rendered | JobFailure:
        """Makes `job`'s file in memory (its bytes and provenance row), or a `JobFailure` for a bad input.

        Bad input (unreadable, empty, NaN, clipped, too long) and codec errors on that input are
        returned as failures; errors that would hit every file (`BUILD_ERRORS`) propagate.
        """
        self.preload()
        return self._per_file(job, self._render_one)

    def _render_one(self, job: Job) -> Rendered:
        start = time.perf_counter()
        source = self._prepare(job)
        codec = self.codec(job.card.spec)
        wav = torch.from_numpy(source.x).unsqueeze(0)
        codes = codec.encode(wav)  # what resynthesize does, keeping the codes for the measured bitrate
        y = codec.decode(codes, length=int(wav.shape[-1]))[0].cpu().numpy()
        return self._finish(job, source, y, codes.bitrate_bps(), time.perf_counter() - start)

    def render_batch(self, jobs: Sequence[Job], *, max_items: int) -> list[Rendered | JobFailure]:
        """Renders jobs of any codec specs through batched codec calls, outcomes in the order of `jobs`.

        Jobs are grouped by codec spec; see `_render_spec_batch` for how one group is batched.
        """
        self.preload()
        by_spec: dict[str, list[int]] = {}
        for index, job in enumerate(jobs):
            by_spec.setdefault(job.card.spec, []).append(index)
        outcomes: dict[int, Rendered | JobFailure] = {}
        for indices in by_spec.values():
            group = self._render_spec_batch([jobs[i] for i in indices], max_items=max_items)
            outcomes.update(zip(indices, group))
        return [outcomes[i] for i in range(len(jobs))]

    def _render_spec_batch(self, jobs: Sequence[Job], *, max_items: int) -> list[Rendered | JobFailure]:
        """Renders jobs of one codec spec through batched codec calls (`ncst.codecs.batching`).

        Args:
            jobs: Jobs that all use the same codec spec.
            max_items: Files per codec call; 0 = as many as fit the device's memory.

        Returns:
            One outcome per job, in order. A source that cannot be read is a `JobFailure`; if a batch
            fails in the codec, its files are retried one by one so that one bad file fails alone.
        """
        outcomes: dict[int, Rendered | JobFailure] = {}
        ready: list[tuple[int, Job, _Source]] = []
        for index, job in enumerate(jobs):
            source = self._per_file(job, self._prepare)
            if isinstance(source, JobFailure):
                outcomes[index] = source
            else:
                ready.append((index, job, source))
        if ready:
            codec = self.codec(jobs[0].card.spec)
            limits = self._batch_limits(codec, max_items, max(src.x.shape[-1] for _, _, src in ready))
            start = time.perf_counter()
            try:
                results = encode_decode_many(codec, [torch.from_numpy(src.x) for _, _, src in ready], limits)
            except BUILD_ERRORS:
                raise
            except PER_FILE_ERRORS as err:
                log.warning("batch of %d failed (%s); running its files one by one", len(ready), err)
                for index, job, _ in ready:
                    outcomes[index] = self._per_file(job, self._render_one)
            else:
                share = (time.perf_counter() - start) / len(ready)
                for (index, job, src), (y, bitrate) in zip(ready, results):
                    finish = functools.partial(
                        self._finish, source=src, y=y.numpy(), bitrate_bps=bitrate, seconds=share
                    )
                    outcomes[index] = self._per_file(job, finish)
        return [outcomes[i] for i in range(len(jobs))]

    def _batch_limits(self, codec: Codec, max_items: int, longest_samples: int) -> BatchLimits:
        if max_items > 0:
            return BatchLimits(max_items=max_items)
        key = codec.card.spec
        if key not in self._auto_limits:
            self._auto_limits[key] = choose_batch_limits(codec, longest_samples=longest_samples)
        return self._auto_limits[key]

    def _prepare(self, job: Job) -> _Source:
        """Reads, checks and resamples `job`'s source to the codec rate."""
        card = job.card
        src = job.utterance.path
        audio, source_rate = read_audio(src, mono=False)  # clipping is checked per channel, at the format's scale
        source_stat = src.stat()
        validate_audio(audio, source_rate, name=str(src), full_scale=full_scale_of(src))
        audio = to_mono(audio)
        chain = (
            "none"
            if source_rate == card.sample_rate_hz
            else f"soxr {SOXR_QUALITY} {source_rate}->{card.sample_rate_hz}"
        )
        return _Source(
            x=resample(audio, source_rate, card.sample_rate_hz),
            source_rate=source_rate,
            source_samples=int(audio.shape[-1]),
            size_bytes=source_stat.st_size,
            mtime_ns=source_stat.st_mtime_ns,
            resampling=chain,
        )

    def _finish(self, job: Job, source: _Source, y: np.ndarray, bitrate_bps: float, seconds: float) -> Rendered:
        """Checks the codec output, encodes the file and describes it."""
        card = job.card
        src = job.utterance.path
        codec = self.codec(card.spec)
        x = source.x
        if y.shape[-1] != x.shape[-1]:
            raise RuntimeError(f"{card.spec} returned {y.shape[-1]} samples for {x.shape[-1]}: adapter bug")
        if not np.isfinite(y).all():
            raise AudioError(f"{card.spec} produced NaN/Inf for {src}")
        wav_bytes = encode_audio(y, card.sample_rate_hz, fmt=format_for_path(Path(job.rel_path)))
        row = ProvenanceRow(
            file=job.rel_path,
            utt_id=job.utterance.utt_id,
            source_path=str(src),
            source_sha256=sha256_file(src),
            source_size_bytes=source.size_bytes,
            source_mtime_ns=source.mtime_ns,
            source_sample_rate_hz=source.source_rate,
            source_samples=source.source_samples,
            codec_spec=card.spec,
            class_id=job.class_id,
            weights=codec.weights.describe() if codec.weights else self.weights_for(card.spec).spec.describe(),
            checkpoint=card.checkpoint,
            checkpoint_sha256=self._checkpoint_sha.get(card.spec, {}),
            upstream_versions=codec.upstream_versions(),
            resampling=source.resampling,
            sample_rate_hz=card.sample_rate_hz,
            input_samples=int(x.shape[-1]),
            output_samples=int(y.shape[-1]),
            output_peak=float(np.abs(y).max()) if y.size else 0.0,
            output_sha256=hashlib.sha256(wav_bytes).hexdigest(),
            seed=self.settings.seed,
            ncst_version=ncst.__version__,
            git_commit=ncst_git_commit(),
            created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            seconds=round(seconds, 4),
            extra={
                "measured_bitrate_bps": round(bitrate_bps, 3),
                "weights_source": self.weights_for(card.spec).source,
                **({"plugin": plugin} if (plugin := self._plugin(card.name)) else {}),
            },
        )
        return Rendered(row=row, wav_bytes=wav_bytes)

    def _plugin(self, name: str) -> dict[str, str]:
        """The plug-in distribution that provides codec `name` ({} for a built-in), looked up once per codec."""
        if name not in self._plugins:
            self._plugins[name] = plugin_record(name)
        return self._plugins[name]

    def _per_file(self, job: Job, step: Callable[[Job], _T]) -> _T | JobFailure:
        try:
            return step(job)
        except BUILD_ERRORS:
            raise
        except PER_FILE_ERRORS as err:
            log.warning("failed %s: %s", job.rel_path, err)
            return JobFailure(
                file=job.rel_path,
                utt_id=job.utterance.utt_id,
                source_path=str(job.utterance.path),
                codec_spec=job.card.spec,
                error=type(err).__name__,
                message=str(err),
            )


# -- worker processes and actors ----------------------------------------------------------------------
def group_by_codec(jobs: Sequence[Job]) -> list[Job]:
    """`jobs` reordered so that each codec's jobs are contiguous, variants of one family next to each other.

    Families and specs keep the order of their first job, and jobs keep theirs within a spec. A runner
    holding one model at a time (`JobRunner`) then loads each model once.
    """
    family_rank: dict[str, int] = {}
    spec_rank: dict[str, int] = {}
    for job in jobs:
        family_rank.setdefault(job.card.name, len(family_rank))
        spec_rank.setdefault(job.card.spec, len(spec_rank))
    return sorted(jobs, key=lambda job: (family_rank[job.card.name], spec_rank[job.card.spec]))


#: Where a codec class comes from: (registry name, module, class name), enough to register it in another process.
CodecSource = tuple[str, str, str]


def codec_sources(jobs: Sequence[Job]) -> tuple[CodecSource, ...]:
    """The registry name, module and class of every codec of `jobs`, for a worker to register.

    A codec registered at run time with `register_codec` (a user's script, a test) is not in a spawned
    worker's or a Ray actor's registry; `start_worker` imports its class from its module and registers it
    there under the same name, so registration stays an explicit call in the parent, never an import side effect.
    """
    names = sorted({job.card.name for job in jobs})
    return tuple((name, codec_class(name).__module__, codec_class(name).__qualname__) for name in names)


def start_worker(
    settings: JobSettings, threads: int, sources: Sequence[CodecSource], specs: Sequence[str]
) -> JobRunner:
    """Sets up a worker process or actor: registers the codecs of `sources`, sets torch threads, returns its runner.

    The runner loads `specs` with its first job (`JobRunner.preload`), not here: a pool initializer that
    raises is respawned by the pool, so the error must come from a job.
    """
    for name, module, qualname in sources:
        cls = getattr(importlib.import_module(module), qualname)
        try:
            known = codec_class(name)
        except UnknownCodecError:
            known = None
        if known is not cls:
            register_codec(name)(cls)
    torch.set_num_threads(max(1, threads))
    return JobRunner(settings, preload=specs)


_WORKER: JobRunner | None = None


def init_worker(
    settings: JobSettings, threads: int, sources: tuple[CodecSource, ...] = (), specs: tuple[str, ...] = ()
) -> None:
    """Process-pool initializer: one `JobRunner` (one codec model at a time) per worker process."""
    global _WORKER
    _WORKER = start_worker(settings, threads, sources, specs)


def render_in_worker(job: Job) -> Rendered | JobFailure:
    """Process-pool task: renders `job` with this worker's runner (loading its codecs first)."""
    if _WORKER is None:
        raise RuntimeError("worker not initialised")
    return _WORKER.render(job)
