"""Runs build jobs on a Ray cluster: one actor per core (or per GPU), one codec model at a time per actor.

The driver (the `build-dataset` process) keeps everything that makes a build resumable: it plans the
jobs, skips finished ones, appends provenance rows and writes the label files, exactly as a local run
does. Actors only render, as every executor does: each reads its source, resynthesises it and returns the
encoded WAV bytes with the provenance row, and the driver's build runner writes the bytes atomically. So the output
folder need only exist where the driver runs, a killed driver resumes like a local build, and the files
are byte-identical to a local run's (both go through `ncst.build_dataset.jobs.JobRunner.render`).
Sources must be readable at the same path on every node (a shared file system), as on any cluster.

Needs `pip install ncst[ray]`. `address=None` starts a local Ray instance; `"auto"` or
`"ray://host:10001"` joins an existing cluster.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Iterator, Sequence

from ncst.build_dataset.jobs import CodecSource, JobSettings, Rendered, codec_sources, group_by_codec, start_worker
from ncst.build_dataset.plan import Job
from ncst.build_dataset.records import JobFailure
from ncst.errors import MissingDependencyError, NcstError

__all__ = ["RayExecutor", "import_ray"]

log = logging.getLogger(__name__)


def import_ray() -> Any:
    """Imports Ray, or says which extra installs it."""
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise MissingDependencyError(f"--executor ray needs the 'ray' package ({err}); pip install ncst[ray]") from err


class _RenderActor:
    """Holds one `JobRunner` (so one loaded model per codec) for the actor's lifetime."""

    def __init__(
        self, settings: JobSettings, threads: int, sources: tuple[CodecSource, ...], specs: tuple[str, ...] = ()
    ) -> None:
        self._runner = start_worker(settings, threads, sources, specs)

    def render(self, job: Job) -> Rendered | JobFailure:
        return self._runner.render(job)  # checks every codec first: bad weights raise before anything renders


class RayExecutor:
    """Renders jobs on Ray actors, yielding outcomes as they finish (the build runner writes them).

    Args:
        address: Ray cluster address; None starts a local Ray instance for this run.
        actors: Number of actors (one model each); 0 = one per CPU of the cluster (per GPU for CUDA).
        threads: Torch threads per actor (each actor reserves that many CPUs, or 1 GPU for CUDA).
    """

    def __init__(self, *, address: str | None = None, actors: int = 0, threads: int = 1) -> None:
        self.address = address
        self.actors = actors
        self.threads = max(1, threads)

    def run(self, jobs: Sequence[Job], settings: JobSettings) -> Iterator[Rendered | JobFailure]:
        """Starts Ray (or joins the cluster) and the actors now; the returned iterator streams outcomes.

        Raises:
            MissingDependencyError: Ray is not installed.
            NcstError: Ray could not start or connect.
        """
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            except Exception as err:  # noqa: BLE001 - Ray raises many types for an unreachable cluster
                raise NcstError(f"could not start or join Ray (address={self.address!r}): {err}") from err
        try:
            cuda = settings.device.startswith("cuda")
            resources: dict[str, float] = {"num_gpus": 1} if cuda else {"num_cpus": self.threads}
            available = ray.cluster_resources().get("GPU" if cuda else "CPU", 1)
            n_actors = self.actors or max(1, int(available // (1 if cuda else self.threads)))
            n_actors = max(1, min(n_actors, len(jobs)))
            sources = codec_sources(jobs)
            actor_cls = ray.remote(**resources)(_RenderActor)
            jobs = group_by_codec(jobs)  # actors move through the codecs together, one model each
            specs = tuple(dict.fromkeys(job.card.spec for job in jobs))
            actors = [actor_cls.remote(settings, self.threads, sources, specs) for _ in range(n_actors)]
            log.info("Ray: %d actors (%s each) for %d jobs", n_actors, resources, len(jobs))
        except BaseException:
            if started_here:
                ray.shutdown()
            raise
        return self._stream(ray, actors, jobs, started_here)

    @staticmethod
    def _stream(
        ray: Any, actors: list[Any], jobs: Sequence[Job], started_here: bool
    ) -> Iterator[Rendered | JobFailure]:
        try:
            pool = ray.util.ActorPool(actors)
            for outcome in pool.map_unordered(lambda actor, job: actor.render.remote(job), list(jobs)):
                yield outcome
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, Exception):
                raise cause from None  # the actor's WeightsError etc., not Ray's wrapper with its traceback text
            raise
        finally:
            if started_here:
                ray.shutdown()
