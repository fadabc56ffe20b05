"""Where a build's jobs run: in this process, or in a pool of worker processes (Ray plugs in the same way).

An executor takes the jobs still to do and the settings they share, and yields one outcome per job (a
`ProvenanceRow` for a written file, a `JobFailure` for a file that failed) in any order. Errors that
would hit every file (missing package, bad weights) propagate out of it and stop the build.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from typing import Iterator, Protocol, Sequence, Union

from ncst.build_dataset.jobs import JobRunner, JobSettings, init_worker, run_in_worker
from ncst.build_dataset.plan import Job
from ncst.build_dataset.records import JobFailure, ProvenanceRow
from ncst.codecs import codec_class

__all__ = ["Executor", "InProcessExecutor", "Outcome", "ProcessPoolExecutor", "make_executor"]

log = logging.getLogger(__name__)

#: What an executor yields per job.
Outcome = Union[ProvenanceRow, JobFailure]


class Executor(Protocol):
    """Runs jobs and yields their outcomes."""

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        """Yields one `ProvenanceRow` or `JobFailure` per job, in any order."""
        ...


class InProcessExecutor:
    """Runs jobs one after the other in this process, each codec loaded once."""

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        runner = JobRunner(settings)
        for spec in dict.fromkeys(job.card.spec for job in jobs):
            runner.codec(spec)  # load every model first: bad weights stop the build before the first file
        for job in jobs:
            yield runner.try_run(job)


class ProcessPoolExecutor:
    """Runs jobs in `workers` spawned processes, one model per codec per worker.

    Torch threads are split evenly over the workers. The module of every codec the jobs use is imported
    in each worker first, so codecs registered at run time (a user's script, a test) exist there too, and
    each worker loads every codec before its first job, so bad weights stop the build before any file.
    """

    def __init__(self, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a process pool needs at least 2 workers, got {workers}")
        self.workers = workers

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Outcome]:
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        modules = tuple(sorted({codec_class(job.card.name).__module__ for job in jobs}))
        specs = tuple(dict.fromkeys(job.card.spec for job in jobs))  # each worker loads them all before its first job
        ctx = mp.get_context("spawn")  # CUDA and torch threads are not fork-safe
        initargs = (settings, threads, modules, specs)
        with ctx.Pool(self.workers, initializer=init_worker, initargs=initargs) as pool:
            yield from pool.imap_unordered(run_in_worker, jobs, chunksize=1)


def make_executor(workers: int, n_jobs: int) -> Executor:
    """The in-process executor for `workers <= 1` or a single job, else a process pool."""
    if workers <= 1 or n_jobs <= 1:
        return InProcessExecutor()
    return ProcessPoolExecutor(workers)
