"""A build killed with SIGKILL resumes with no partial file, no duplicate row and nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ncst.build_dataset import verify_build
from ncst.testing import add_utterance

SCRIPT = """
import sys

import ncst.testing
from ncst.cli.build_dataset import main
ncst.testing.register_fake_codec()
sys.argv = ["build-dataset", "--codec", "fakecodec", "--corpus", {manifest!r}, "--out", {out!r}, "--weights", "random"]
main()
"""


def _run(manifest: Path, out: Path, delay: str) -> subprocess.Popen:
    env = dict(os.environ, NCST_FAKE_DELAY=delay, OMP_NUM_THREADS="1")
    code = SCRIPT.format(manifest=str(manifest), out=str(out))
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_then_resume_loses_nothing(tiny_corpus: Path, tmp_path: Path) -> None:
    for i in range(9):
        add_utterance(tiny_corpus, f"more{i}", np.full(2000 + 100 * i, 0.05 * (i + 1), dtype=np.float32))
    out = tmp_path / "out"
    prov = out / "provenance.jsonl"
    proc = _run(tiny_corpus, out, delay="0.4")
    deadline = time.time() + 120
    while time.time() < deadline:
        if prov.exists() and len(prov.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(prov.read_text().splitlines())
    assert 3 <= done_before < 12, "the kill must land mid-build"

    resumed = _run(tiny_corpus, out, delay="0")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr.decode()

    lines = prov.read_text().splitlines()
    files = [json.loads(line)["file"] for line in lines]
    assert len(files) == len(set(files)) == 12  # no duplicate, nothing lost
    assert not list((out / "wav").glob(".*.tmp"))  # no partial file left behind
    assert sorted(p.name for p in (out / "wav").glob("*.wav")) == sorted(Path(f).name for f in files)
    report = verify_build(out)
    assert report.ok
    assert report.n_ok == 12
    assert not report.untracked
    assert len((out / "label.txt").read_text().splitlines()) == 12
