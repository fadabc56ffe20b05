"""`BuildLock`: one run per build folder and shard; the holder is named; a dead holder's lock is taken over."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ncst.build_dataset.lock import BuildLock, lock_path
from ncst.errors import BuildLockedError

HOLD = """
import sys, time
from pathlib import Path
from ncst.build_dataset.lock import BuildLock
lock = BuildLock(Path(sys.argv[1]), sys.argv[2], "x")
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""


def _hold(out: Path, suffix: str = "") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out), suffix], stdout=subprocess.PIPE, env=dict(os.environ)
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"locked"
    return proc


def test_second_lock_of_the_same_shard_names_the_holder(tmp_path: Path) -> None:
    with BuildLock(tmp_path, "", "0/1"):
        holder = json.loads(lock_path(tmp_path).read_text())
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
        with pytest.raises(BuildLockedError) as err:
            BuildLock(tmp_path, "", "0/1").acquire()
    message = str(err.value)
    assert f"pid {os.getpid()} on host {socket.gethostname()} (started {holder['started_utc']})" in message
    assert "shard 0/1 is already being built" in message
    assert str(lock_path(tmp_path)) in message
    assert lock_path(tmp_path).read_text() == ""  # released: emptied, not deleted
    BuildLock(tmp_path).acquire()  # and free again


def test_other_shards_lock_separately(tmp_path: Path) -> None:
    with BuildLock(tmp_path, ".shard-0-of-2", "0/2"), BuildLock(tmp_path, ".shard-1-of-2", "1/2"):
        with pytest.raises(BuildLockedError, match="shard 1/2"):
            BuildLock(tmp_path, ".shard-1-of-2", "1/2").acquire()


def test_lock_held_by_another_live_process_is_refused(tmp_path: Path) -> None:
    proc = _hold(tmp_path)
    try:
        with pytest.raises(BuildLockedError, match=rf"by pid {proc.pid} on host "):
            BuildLock(tmp_path).acquire()
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_a_killed_process_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    proc = _hold(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads(lock_path(tmp_path).read_text())["pid"] == proc.pid  # the dead holder's record is left
    with caplog.at_level(logging.WARNING), BuildLock(tmp_path):
        assert json.loads(lock_path(tmp_path).read_text())["pid"] == os.getpid()
    assert f"taking over the lock of pid {proc.pid}" in caplog.text


BUILD = """
import sys

import ncst.testing
from ncst.cli.build_dataset import main
ncst.testing.register_fake_codec()
sys.argv = ["build-dataset", "--codec", "fakecodec", "--corpus", {manifest!r}, "--out", {out!r}, "--weights", "random"]
main()
"""


def test_second_build_of_a_running_shard_is_refused_and_nothing_is_doubled(tiny_corpus: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ncst.build_dataset import BuildConfig, build, read_provenance, verify_build
    from ncst.cli.build_dataset import app

    out = tmp_path / "out"
    code = BUILD.format(manifest=str(tiny_corpus), out=str(out))
    env = dict(os.environ, NCST_FAKE_DELAY="1.0", OMP_NUM_THREADS="1")
    first = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (lock_path(out).is_file() and lock_path(out).read_text()):
            time.sleep(0.05)
        config = BuildConfig(codecs=("fakecodec",), corpus=str(tiny_corpus), out_dir=out, weights="random")
        with pytest.raises(BuildLockedError, match=rf"shard 0/1 is already being built by pid {first.pid} on host"):
            build(config)
        args = ["--codec", "fakecodec", "--corpus", str(tiny_corpus), "--out", str(out), "--weights", "random"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert f"pid {first.pid}" in result.output
    finally:
        _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr.decode()
    lines = (out / "provenance.jsonl").read_text().splitlines()
    assert len(lines) == len(read_provenance([out / "provenance.jsonl"])) == 3  # each file generated once
    assert verify_build(out).ok
