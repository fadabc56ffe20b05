"""`build()`: resynthesise a corpus through codecs into a resumable, verifiable build folder.

Layout of a build folder::

    build.json                  settings every run of this folder must share (weights, seed)
    wav/<prefix>_<utt>.wav      generated audio at the codec's rate, 16-bit PCM
    provenance[.shard-I-of-N].jsonl   one row per generated file (source of truth)
    failures[.shard-I-of-N].csv       inputs that could not be processed this run, with the reason
    manifest.csv                one row per generated file (rewritten from provenance)
    label.txt                   official three-column label file: `<file> fake <class id>`

Resume: a job is skipped when its provenance row exists, was made with the same settings and the file
on disk still has the recorded sha256. Files are renamed into place before their row is appended, so a
SIGKILL at any point loses at most the file in flight and never leaves a partial file or a duplicate.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ncst.build_dataset.executors import ExecutorSpec, make_executor
from ncst.build_dataset.jobs import JobSettings, Rendered
from ncst.build_dataset.labels import write_failures, write_labels_and_manifest
from ncst.build_dataset.lock import BuildLock
from ncst.build_dataset.plan import WAV_DIR, Job, Shard, plan_jobs
from ncst.build_dataset.provenance import ProvenanceLog, read_provenance
from ncst.build_dataset.records import JobFailure, ProvenanceRow
from ncst.codecs import get_card
from ncst.codecs.weight_plan import WeightsPlan, as_weights_plan, weights_label
from ncst.corpora import load_corpus
from ncst.errors import NcstError
from ncst.io import atomic_write_bytes, atomic_write_text, parse_temp_name, read_json, sha256_file

__all__ = ["BuildConfig", "BuildResult", "build", "run_jobs", "ProgressCallback"]

log = logging.getLogger(__name__)

#: Called after each finished job with (done, total, failed_so_far).
ProgressCallback = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class BuildConfig:
    """Everything `build-dataset` takes.

    Attributes:
        codecs: Codec spec strings (`encodec`, `encodec@3kbps`, ...).
        corpus: `"demo"` or a manifest CSV path.
        out_dir: Build folder (created).
        weights: `pretrained`, `random` or a local checkpoint path for every codec, or a `WeightsPlan`
            (per-codec `--weights SPEC=VALUE` and `--weights-dir`).
        device: Torch device.
        workers: 0 or 1 = in this process; N > 1 = a pool of N processes, one model each (Ray: actors).
        shard: Part of the jobs this run does.
        limit: Use only the first N utterances of the corpus.
        seed: Seed of random weights and decoder sampling.
        trust_checkpoint: Allow full unpickling of checkpoints that hold more than tensors (can run code).
        executor: `local` or `ray` (see `ncst.build_dataset.executors.ExecutorSpec`).
        address: Ray cluster address for `executor="ray"` (None starts a local Ray instance).
        batch_size: Files per codec call in this process (1; N; 0 = as many as fit the device).
    """

    codecs: tuple[str, ...]
    corpus: str = "demo"
    out_dir: Path = Path("ncst_build")
    weights: str | WeightsPlan = "pretrained"
    device: str = "cpu"
    workers: int = 0
    shard: Shard = field(default_factory=Shard)
    limit: int | None = None
    seed: int = 0
    trust_checkpoint: bool = False
    executor: str = "local"
    address: str | None = None
    batch_size: int = 1

    @property
    def executor_spec(self) -> ExecutorSpec:
        return ExecutorSpec(kind=self.executor, workers=self.workers, address=self.address, batch_size=self.batch_size)


@dataclass(slots=True)
class BuildResult:
    """Counts of one run, and where its outputs are."""

    out_dir: Path
    planned: int = 0
    skipped: int = 0
    done: int = 0
    failures: list[JobFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def build(config: BuildConfig, *, progress: ProgressCallback | None = None) -> BuildResult:
    """Runs (or resumes) a build; see the module docstring for the folder layout.

    Raises:
        NcstError: The folder was built with other settings, a codec spec is unknown, or codecs collide.
    """
    if not config.codecs:
        raise NcstError("no codec given; pass at least one --codec, e.g. --codec encodec")
    config.executor_spec  # noqa: B018 - checks the executor options before any work
    label = weights_label(config.weights)
    cards = [get_card(spec) for spec in config.codecs]
    utterances = load_corpus(config.corpus)
    out = Path(config.out_dir)
    _make_out_dir(out)
    (out / WAV_DIR).mkdir(parents=True, exist_ok=True)
    _check_settings(out, label, config.seed)

    jobs = plan_jobs(utterances, cards, shard=config.shard, limit=config.limit)
    settings = JobSettings(
        out_dir=out,
        weights=config.weights,
        device=config.device,
        seed=config.seed,
        trust_checkpoint=config.trust_checkpoint,
    )
    by_id = {u.utt_id: u for u in utterances}
    return run_jobs(
        jobs,
        settings,
        executor=config.executor_spec,
        shard=config.shard,
        progress=progress,
        finish=lambda rows: write_labels_and_manifest(out, rows, by_id),
    )


def run_jobs(
    jobs: Sequence[Job],
    settings: JobSettings,
    *,
    workers: int = 0,
    executor: ExecutorSpec | None = None,
    shard: Shard = Shard(),
    progress: ProgressCallback | None = None,
    finish: Callable[[list[ProvenanceRow]], object] | None = None,
    lock_held: bool = False,
) -> BuildResult:
    """Runs (or resumes) planned jobs into `settings.out_dir`, whatever folders they write to.

    The resume rules of `build` apply: a job whose provenance row matches and whose file still hashes to
    the recorded sha256 is skipped. `finish` is called with every provenance row of the folder (all
    shards) once this run ends, even when it is interrupted by an exception, to rewrite label files.

    Only one run at a time may run the jobs of a given folder and shard: the run holds `BuildLock`
    (`lock_held`: the caller already holds it, having taken it before writing files of its own).
    `executor` says where the jobs run (default: `workers` local processes, see `ExecutorSpec`).

    Raises:
        BuildLockedError: Another live run holds this folder and shard (the message names it).
        WeightsError: The weights cannot be loaded; raised before the first file is written.
        NcstError: The folder was built with other weights or another seed.
    """
    _make_out_dir(settings.out_dir)
    if lock_held:
        return _run_jobs_locked(jobs, settings, executor or ExecutorSpec(workers=workers), shard, progress, finish)
    with BuildLock(settings.out_dir, shard.suffix, str(shard)):
        return _run_jobs_locked(jobs, settings, executor or ExecutorSpec(workers=workers), shard, progress, finish)


def _run_jobs_locked(
    jobs: Sequence[Job],
    settings: JobSettings,
    executor: ExecutorSpec,
    shard: Shard,
    progress: ProgressCallback | None,
    finish: Callable[[list[ProvenanceRow]], object] | None,
) -> BuildResult:
    out = settings.out_dir
    label = weights_label(settings.weights)
    _check_settings(out, label, settings.seed)
    per_spec = _weights_per_spec(jobs, settings)
    for folder in sorted({j.folder for j in jobs}):
        if (out / folder).is_dir():
            _remove_stale_temp_files(out / folder, shard)
    prov_path = out / f"provenance{shard.suffix}.jsonl"
    existing = read_provenance(sorted(out.glob("provenance*.jsonl")))
    todo = [j for j in jobs if not _is_done(out, j, existing.get(j.rel_path), per_spec[j.card.spec], settings.seed)]
    result = BuildResult(out_dir=out, planned=len(jobs), skipped=len(jobs) - len(todo))
    stale = sum(1 for j in todo if j.rel_path in existing)
    log.info(
        "%d jobs planned (shard %s), %d already done, %d to run%s, weights=%s",
        len(jobs),
        shard,
        result.skipped,
        len(todo),
        f" ({stale} of them regenerate stale outputs)" if stale else "",
        label,
    )
    failures_path = out / f"failures{shard.suffix}.csv"
    total = len(todo)
    with ProvenanceLog(prov_path) as prov:
        try:
            # started before the progress bar: a pool forks only while this process has no other thread
            outcomes = make_executor(executor, len(todo)).run(todo, settings) if todo else iter(())
            if progress:
                progress(0, total, 0)
            for outcome in outcomes:
                if isinstance(outcome, Rendered):  # the file first, then its row: a kill never leaves a row without it
                    atomic_write_bytes(out / outcome.row.file, outcome.wav_bytes)
                    prov.append(outcome.row)
                    result.done += 1
                else:
                    result.failures.append(outcome)
                    write_failures(failures_path, result.failures)
                if progress:
                    progress(result.done + len(result.failures), total, len(result.failures))
        finally:
            write_failures(failures_path, result.failures)
            if finish is not None:
                finish(list(read_provenance(sorted(out.glob("provenance*.jsonl"))).values()))
    log.info("done: %d written, %d skipped, %d failed -> %s", result.done, result.skipped, len(result.failures), out)
    return result


def _weights_per_spec(jobs: Sequence[Job], settings: JobSettings) -> dict[str, str]:
    """What each codec's provenance rows record as `weights` in this run (resume compares it per file).

    Resolving also checks, before any work, that every codec has weights (`--weights-dir` holds its folder).
    """
    plan = as_weights_plan(settings.weights)
    return {spec: plan.resolve(spec).spec.describe() for spec in dict.fromkeys(j.card.spec for j in jobs)}


def _is_done(out: Path, job: Job, row: ProvenanceRow | None, weights: str, seed: int) -> bool:
    if row is None or row.codec_spec != job.card.spec or row.weights != weights or row.seed != seed:
        return False
    path = out / job.rel_path
    if not path.is_file():
        log.warning("%s: provenance row present but file missing; regenerating", job.rel_path)
        return False
    if sha256_file(path) != row.output_sha256:
        log.warning("%s: sha256 differs from provenance (corrupt or edited); regenerating", job.rel_path)
        return False
    changed = _source_change(job, row)
    if changed:
        log.warning("%s: %s; regenerating", job.rel_path, changed)
        return False
    return True


def _source_change(job: Job, row: ProvenanceRow) -> str | None:
    """Why the output of `row` no longer matches the job's source, or None if it still does.

    Size and mtime equal to the recorded ones count as unchanged; otherwise the source is re-hashed
    (a touched but identical file is not regenerated). A source that is gone keeps its output.
    """
    src = job.utterance.path
    if str(src) != row.source_path:
        return f"the manifest now points at {src}, the output was made from {row.source_path}"
    try:
        stat = src.stat()
    except OSError:
        return None
    if (stat.st_size, stat.st_mtime_ns) == (row.source_size_bytes, row.source_mtime_ns):
        return None
    if sha256_file(src) != row.source_sha256:
        return f"the source {src} changed since the output was made (sha256 differs from provenance)"
    return None


def _check_settings(out: Path, weights_label: str, seed: int) -> None:
    """Refuses to mix weights or seeds in one folder; records them on first use."""
    path = out / "build.json"
    wanted = {"weights": weights_label, "seed": seed}
    if path.exists():
        recorded = read_json(path, error=NcstError)
        if not isinstance(recorded, dict):
            raise NcstError(f"{path}: not a JSON object; fix or delete it")
        diff = {k: (recorded.get(k), v) for k, v in wanted.items() if recorded.get(k) != v}
        if diff:
            detail = ", ".join(f"{k}: folder has {a!r}, this run asks {b!r}" for k, (a, b) in diff.items())
            raise NcstError(f"{out} was built with other settings ({detail}); use another --out folder")
        return
    atomic_write_text(path, json.dumps(wanted, indent=2) + "\n")


def _remove_stale_temp_files(wav_dir: Path, shard: Shard) -> None:
    """Deletes temp files (`ncst.io.temp_name`) of this shard's jobs left by dead processes.

    Other shards may be writing theirs, and a temp file whose writer is still alive on this host is kept
    (the shard lock already keeps a second run of this shard out; this guards overlapping shardings).
    """
    stale = []
    for p in wav_dir.glob(".*.tmp"):
        parsed = parse_temp_name(p.name)
        if parsed is not None and shard.owns(parsed.target) and not _pid_alive(parsed.pid):
            stale.append(p)
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        log.info("removed %d temp files left by an interrupted run", len(stale))


def _make_out_dir(out: Path) -> None:
    """Creates the build folder; raises `NcstError` when it, or a parent, is a file or cannot be made."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "is a file" if folder == out else f"is inside {folder}, which is a file"
                raise NcstError(f"--out {out} {where}, not a folder; give a folder path")
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NcstError(f"cannot create the build folder {out}: {err}") from err


def _pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid runs on this host (False for None: names without a pid)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
