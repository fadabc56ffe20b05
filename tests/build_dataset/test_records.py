"""Build layering: records without torch, the explicit per-file error tuple, executors behind one interface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ncst.build_dataset.executors import ExecutorSpec, InProcessExecutor, ProcessPoolExecutor, make_executor
from ncst.build_dataset.jobs import BUILD_ERRORS, PER_FILE_ERRORS, JobRunner, JobSettings, Rendered
from ncst.build_dataset.plan import plan_jobs
from ncst.build_dataset.records import JobFailure
from ncst.codecs import get_card
from ncst.corpora import read_manifest
from ncst.errors import AudioError, MissingDependencyError, NotFittedError, WeightsError


def test_label_and_record_modules_import_without_torch_or_the_job_runner() -> None:
    code = (
        "import sys, ncst.build_dataset.labels, ncst.build_dataset.records; "
        "assert 'torch' not in sys.modules and 'ncst.build_dataset.jobs' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_failure_record_round_trips() -> None:
    failure = JobFailure("wav/a.wav", "a", "/src/a.wav", "fakecodec@16k", "AudioError", "clipped")
    assert JobFailure.from_dict(failure.to_dict()) == failure


def _one_job(tiny_corpus: Path):  # noqa: ANN202
    return plan_jobs(read_manifest(tiny_corpus), [get_card("fakecodec")])[0]


@pytest.mark.parametrize("error", [AudioError("bad"), RuntimeError("adapter"), ValueError("odd")])
def test_per_file_errors_become_failures(
    error: Exception, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = JobRunner(JobSettings(out_dir=tmp_path, weights="random"))

    def fail(job: object) -> None:
        raise error

    monkeypatch.setattr(runner, "_render_one", fail)
    outcome = runner.render(_one_job(tiny_corpus))
    assert isinstance(outcome, JobFailure)
    assert outcome.error == type(error).__name__
    assert isinstance(error, PER_FILE_ERRORS)


@pytest.mark.parametrize(
    "error", [MissingDependencyError("pip install ncst[x]"), WeightsError("bad keys"), NotFittedError("not loaded")]
)
def test_errors_that_hit_every_file_stop_the_build(
    error: Exception, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = JobRunner(JobSettings(out_dir=tmp_path, weights="random"))

    def fail(job: object) -> None:
        raise error

    monkeypatch.setattr(runner, "_render_one", fail)
    with pytest.raises(type(error)):
        runner.render(_one_job(tiny_corpus))
    assert isinstance(error, BUILD_ERRORS)


def test_make_executor_picks_in_process_or_pool() -> None:
    assert isinstance(make_executor(ExecutorSpec(workers=0), 10), InProcessExecutor)
    assert isinstance(make_executor(ExecutorSpec(workers=4), 1), InProcessExecutor)
    pool = make_executor(ExecutorSpec(workers=3), 10)
    assert isinstance(pool, ProcessPoolExecutor)
    assert pool.workers == 3
    with pytest.raises(ValueError, match="at least 2"):
        ProcessPoolExecutor(1)


def test_in_process_executor_yields_one_outcome_per_job(tiny_corpus: Path, tmp_path: Path) -> None:
    jobs = plan_jobs(read_manifest(tiny_corpus), [get_card("fakecodec")])
    outcomes = list(InProcessExecutor().run(jobs, JobSettings(out_dir=tmp_path, weights="random")))
    assert sorted(o.row.file for o in outcomes if isinstance(o, Rendered)) == sorted(j.rel_path for j in jobs)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_in_process_executor_only_renders(batch_size: int, tiny_corpus: Path, tmp_path: Path) -> None:
    jobs = plan_jobs(read_manifest(tiny_corpus), [get_card("fakecodec")])
    out = tmp_path / "out"
    list(InProcessExecutor(batch_size=batch_size).run(jobs, JobSettings(out_dir=out, weights="random")))
    assert not out.exists()


def test_runner_preload_raises_before_rendering(tiny_corpus: Path, tmp_path: Path) -> None:
    job = _one_job(tiny_corpus)
    runner = JobRunner(JobSettings(out_dir=tmp_path, weights=str(tmp_path / "missing.pt")), preload=["fakecodec"])
    with pytest.raises(WeightsError):
        runner.render(job)


def test_importing_the_test_helpers_registers_no_codec() -> None:
    code = "import ncst.testing; from ncst.codecs import available_codecs; assert 'fakecodec' not in available_codecs()"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_worker_registers_the_parents_runtime_codecs(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from ncst.build_dataset.jobs import JobSettings, start_worker; "
        "from ncst.codecs import available_codecs; "
        f"settings = JobSettings(out_dir=Path({str(tmp_path)!r})); "
        "start_worker(settings, 1, [('fakecodec', 'ncst.testing', 'FakeCodec')], ()); "
        "assert 'fakecodec' in available_codecs()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_codec_sources_name_module_and_class(tiny_corpus: Path) -> None:
    from ncst.build_dataset.jobs import codec_sources

    assert codec_sources([_one_job(tiny_corpus)]) == (("fakecodec", "ncst.testing", "FakeCodec"),)
