"""Executors: batched in-process runs, the pool's start method, Ray; all give the local run's files and rows."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from ncst.build_dataset import BuildConfig, build
from ncst.build_dataset.executors import ExecutorSpec, pool_start_method
from ncst.errors import NcstError, WeightsError
from ncst.testing import write_tiny_corpus

torch.set_num_threads(1)

#: Provenance fields that describe when and how fast a file was made, not what it is.
_TIMING_FIELDS = {"created_utc", "seconds"}


def _rows(out: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(out.glob("provenance*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            rows[row["file"]] = {k: v for k, v in row.items() if k not in _TIMING_FIELDS}
    return rows


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "wav").glob("*.wav"))}


def test_executor_spec_rejects_bad_combinations() -> None:
    with pytest.raises(NcstError, match="unknown executor 'slurm'"):
        ExecutorSpec(kind="slurm")
    with pytest.raises(NcstError, match="--batch-size batches in one process"):
        ExecutorSpec(workers=2, batch_size=8)
    with pytest.raises(NcstError, match="--address is for --executor ray"):
        ExecutorSpec(address="auto")


def test_pool_forks_on_a_cpu_without_other_threads_and_spawns_otherwise() -> None:
    assert pool_start_method("cuda:0") == "spawn"
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert pool_start_method("cpu") == "spawn"  # forking while another thread may hold a lock is unsafe
    finally:
        stop.set()
        helper.join()
    if threading.active_count() == 1:
        assert pool_start_method("cpu") == "fork"


def test_batched_build_matches_the_per_file_build(tmp_path: Path) -> None:
    manifest = write_tiny_corpus(tmp_path / "corpus", durations_s=(0.31, 0.37, 0.29, 0.31))
    outs = {}
    for batch_size in (1, 4):
        out = tmp_path / f"b{batch_size}"
        result = build(
            BuildConfig(codecs=("encodec",), corpus=str(manifest), out_dir=out, weights="random", batch_size=batch_size)
        )
        assert result.ok
        assert result.done == 4
        outs[batch_size] = out
    single, batched = _rows(outs[1]), _rows(outs[4])
    assert single.keys() == batched.keys()
    for name in single:
        a, _ = sf.read(outs[1] / name, dtype="float32")
        b, _ = sf.read(outs[4] / name, dtype="float32")
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 1e-4
        keep = {k: v for k, v in single[name].items() if k not in {"output_sha256", "output_peak", "extra"}}
        assert keep == {k: v for k, v in batched[name].items() if k in keep}


def test_build_rejects_bad_executor_options_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(NcstError, match="unknown executor"):
        build(BuildConfig(codecs=("fakecodec",), out_dir=out, weights="random", executor="nope"))
    assert not out.exists()


def test_ray_build_is_byte_identical_to_the_local_build(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    local = build(BuildConfig(codecs=("fakecodec",), out_dir=tmp_path / "local", weights="random"))
    on_ray = build(
        BuildConfig(codecs=("fakecodec",), out_dir=tmp_path / "ray", weights="random", executor="ray", workers=2)
    )
    assert local.ok
    assert on_ray.ok
    assert on_ray.done == local.done == 13
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    assert _rows(tmp_path / "ray") == _rows(tmp_path / "local")
    assert (tmp_path / "ray" / "label.txt").read_bytes() == (tmp_path / "local" / "label.txt").read_bytes()
    rerun = build(
        BuildConfig(codecs=("fakecodec",), out_dir=tmp_path / "ray", weights="random", executor="ray", workers=2)
    )
    assert rerun.skipped == 13
    assert rerun.done == 0


def test_ray_build_with_bad_weights_raises_the_actors_error_and_writes_nothing(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    bad = tmp_path / "bad.th"
    bad.write_bytes(b"not a checkpoint at all")
    out = tmp_path / "ray"
    config = BuildConfig(codecs=("encodec",), out_dir=out, weights=str(bad), executor="ray", workers=1, limit=2)
    with pytest.raises(WeightsError, match="bad.th: not a torch checkpoint") as info:
        build(config)
    assert type(info.value) is WeightsError  # the actor's own error, not Ray's wrapper
    assert not list((out / "wav").glob("*.wav"))
