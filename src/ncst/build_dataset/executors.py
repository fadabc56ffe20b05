"""Where a build's jobs run: in this process (one file or one batch per codec call), in a pool of worker
processes, or on Ray actors (`ncst.build_dataset.ray_executor`).

An executor takes the jobs still to do and the settings they share, and yields one outcome per job in
any order: a `Rendered` file (its bytes and provenance row, not yet written) or a `JobFailure`. Executors
only render; the build runner (`ncst.build_dataset.runner`) writes each file and records its row, so
resume, provenance and the output folder are handled in one place whatever ran the job. Errors that
would hit every file (missing package, bad weights) propagate out of the executor and stop the build.

`run` starts the work before it returns (the process pool forks its workers then), so a caller can
start a progress bar, whose refresh thread would make forking unsafe, only afterwards.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence, Union

from ncst.build_dataset.jobs import (
    JobRunner,
    JobSettings,
    Rendered,
    codec_sources,
    group_by_codec,
    init_worker,
    render_in_worker,
)
from ncst.build_dataset.plan import Job
from ncst.build_dataset.records import JobFailure
from ncst.errors import NcstError

__all__ = [
    "EXECUTOR_KINDS",
    "Executor",
    "ExecutorSpec",
    "InProcessExecutor",
    "Outcome",
    "ProcessPoolExecutor",
    "make_executor",
]

log = logging.getLogger(__name__)

#: What an executor yields per job: a rendered file (not yet written) or a per-file failure.
Outcome = Union[Rendered, JobFailure]

#: Names accepted by `--executor`.
EXECUTOR_KINDS = ("local", "ray")

#: Jobs handed to the batching code at a time (it sorts them by length into batches); bounds memory.
_BATCH_WINDOW = 256


@dataclass(frozen=True, slots=True)
class ExecutorSpec:
    """How to run a build's jobs (`build-dataset --executor/--workers/--address/--batch-size`).

    Attributes:
        kind: `local` (this machine) or `ray` (a Ray cluster).
        workers: Local: 0 or 1 = in this process, N > 1 = N worker processes. Ray: actors (0 = one per CPU,
            or per GPU for a CUDA device).
        address: Ray cluster address (`auto`, `ray://host:10001`); None starts a local Ray instance.
        batch_size: Files per codec call in this process: 1 (the default), N, or 0 = as many as fit the
            device's memory (CUDA; on a CPU this means 1). See `ncst.codecs.batching`.
    """

    kind: str = "local"
    workers: int = 0
    address: str | None = None
    batch_size: int = 1

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise NcstError(f"unknown executor {self.kind!r}; choose one of {list(EXECUTOR_KINDS)}")
        if self.workers < 0 or self.batch_size < 0:
            raise NcstError(f"--workers and --batch-size must be >= 0, got {self.workers} and {self.batch_size}")
        if self.kind == "local" and self.workers > 1 and self.batch_size != 1:
            raise NcstError("--batch-size batches in one process; use it without --workers (or with --workers 1)")
        if self.address is not None and self.kind != "ray":
            raise NcstError("--address is for --executor ray")


class Executor(Protocol):
    """Renders jobs and yields their outcomes."""

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        """Yields one `Rendered` or `JobFailure` per job, in any order; writes nothing."""
        ...


class InProcessExecutor:
    """Runs jobs in this process, one codec model at a time: one file per codec call, or batches of them."""

    def __init__(self, batch_size: int = 1) -> None:
        self.batch_size = batch_size

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        ordered = group_by_codec(jobs)  # one model at a time: each loaded once; windows of one codec batch best
        runner = JobRunner(settings, preload=(job.card.spec for job in ordered))
        runner.preload()  # bad weights stop the build here, before the first file and the progress bar
        if self.batch_size == 1:
            return (runner.render(job) for job in ordered)
        return self._batched(runner, ordered)

    def _batched(self, runner: JobRunner, ordered: Sequence[Job]) -> Iterator[Outcome]:
        for start in range(0, len(ordered), _BATCH_WINDOW):
            yield from runner.render_batch(ordered[start : start + _BATCH_WINDOW], max_items=self.batch_size)


class ProcessPoolExecutor:
    """Runs jobs in `workers` processes, each holding one codec model at a time.

    Torch threads are split evenly over the workers. On Linux with a CPU device the workers are forked
    from this process, so they start with its imports done (a spawned worker re-imports torch and the
    codec packages, seconds each); elsewhere, for CUDA, or once other threads run here, they are spawned.
    Each worker is set up by `ncst.build_dataset.jobs.start_worker`, as a Ray actor is.
    """

    def __init__(self, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a process pool needs at least 2 workers, got {workers}")
        self.workers = workers

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        ordered = group_by_codec(jobs)  # workers move through the codecs together, one model each
        specs = tuple(dict.fromkeys(job.card.spec for job in ordered))
        ctx = mp.get_context(pool_start_method(settings.device))
        pool = ctx.Pool(self.workers, initializer=init_worker, initargs=(settings, threads, codec_sources(jobs), specs))
        return _drain(pool, ordered)


def _drain(pool: Any, jobs: Sequence[Job]) -> Iterator[Outcome]:
    with pool:
        yield from pool.imap_unordered(render_in_worker, jobs, chunksize=1)


def pool_start_method(device: str) -> str:
    """`fork` where it is safe and saves each worker the imports (Linux, CPU, no other thread), else `spawn`.

    Forking is unsafe after CUDA is initialised and while other threads may hold locks.
    """
    if sys.platform.startswith("linux") and device == "cpu" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def make_executor(spec: ExecutorSpec, n_jobs: int) -> Executor:
    """The executor `spec` asks for: Ray, a process pool for `workers > 1`, else this process."""
    if spec.kind == "ray":
        from ncst.build_dataset.ray_executor import RayExecutor

        return RayExecutor(address=spec.address, actors=spec.workers)
    if spec.workers <= 1 or n_jobs <= 1:
        return InProcessExecutor(batch_size=spec.batch_size)
    return ProcessPoolExecutor(spec.workers)
