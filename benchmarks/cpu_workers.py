"""CPU build throughput: a naive resynthesis loop against `build-dataset --workers 1` and `--workers 2`.

All three run the same files through the same codec (seeded random weights, so no download), each as a
whole job in a fresh Python process timed from process start: imports, model load and every write are
included on both sides. Throughput is audio seconds processed per wall-clock second. The naive loop is
what a user would write by hand: read, resample, encode + decode, write, one file at a time, one torch
thread (the same thread count each build worker gets).

The files are the bundled demo clips (1.1 to 5.3 s of real speech), repeated under new ids until there
are `--files` of them. A fourth job, `naive_pair`, runs two naive loops at once, each on half of the files:
what two independent processes get out of this machine (shared caches and memory bandwidth make each a
little slower than alone), the practical ceiling for `--workers 2`. The last line printed is
``ratio=<workers-2 throughput / naive throughput>``; 2.0 is the limit on a 2-core machine.

Run: ``python benchmarks/cpu_workers.py [--codec encodec] [--files 117] [--repeats 1]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

NAIVE_LOOP = r"""
import csv, sys
from pathlib import Path
import soundfile as sf, soxr, torch
torch.set_num_threads(1)
from ncst.codecs import get_codec
spec, manifest, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
codec = get_codec(spec).load("random", seed=0)
rate = codec.card.sample_rate_hz
out.mkdir(parents=True, exist_ok=True)
with open(manifest, newline="") as f:
    for row in csv.DictReader(f):
        audio, sr = sf.read(row["path"], dtype="float32", always_2d=True)
        x = soxr.resample(audio.mean(axis=1), sr, rate, quality="HQ")
        y = codec.resynthesize(torch.from_numpy(x).unsqueeze(0))[0].numpy()
        sf.write(out / (row["utt_id"] + ".wav"), y, rate, subtype="PCM_16")
"""


def make_corpus(folder: Path, n_files: int) -> tuple[Path, float]:
    """Writes `n_files` copies of the demo clips and their manifest; returns (manifest, audio seconds)."""
    from ncst.corpora.demo import read_demo

    demo = read_demo()
    wav_dir = folder / "audio"
    wav_dir.mkdir(parents=True)
    rows, seconds = [], 0.0
    for i in range(n_files):
        utt = demo[i % len(demo)]
        target = wav_dir / f"bench_{i:04d}{Path(utt.path).suffix}"
        shutil.copyfile(utt.path, target)
        seconds += sf.info(str(target)).duration
        rows.append({"utt_id": f"bench_{i:04d}", "path": str(target)})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["utt_id", "path"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest, seconds


def timed(*cmds: list[str], env: dict[str, str]) -> float:
    """Runs the commands at once; returns the wall time until the last one ends."""
    start = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in cmds]
    for cmd, proc in zip(cmds, procs):
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return time.perf_counter() - start


def split_manifest(manifest: Path) -> tuple[Path, Path]:
    """Writes the first and second half of `manifest` as two manifests next to it."""
    header, *rows = manifest.read_text().splitlines(keepends=True)
    halves = (rows[: len(rows) // 2], rows[len(rows) // 2 :])
    paths = (manifest.with_name("half0.csv"), manifest.with_name("half1.csv"))
    for path, part in zip(paths, halves):
        path.write_text(header + "".join(part))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codec", default="encodec", help="codec spec (default encodec)")
    parser.add_argument("--files", type=int, default=117, help="number of files (default 117)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each job; the median wall time counts")
    args = parser.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    build_cmd = [sys.executable, "-c", "from ncst.cli.build_dataset import main; main()"]
    with tempfile.TemporaryDirectory(prefix="ncst-bench-") as tmp:
        root = Path(tmp)
        manifest, audio_s = make_corpus(root / "corpus", args.files)
        halves = split_manifest(manifest)
        print(f"codec={args.codec} files={args.files} audio_s={audio_s:.1f} cpus={os.cpu_count()}")

        def build(workers: int):
            return lambda out: [*build_cmd, "--codec", args.codec, "--weights", "random", "--corpus", str(manifest),
                                "--out", str(out), "--workers", str(workers), "--threads", "1"]  # fmt: skip

        def naive(out: Path, source: Path = manifest) -> list[str]:
            return [sys.executable, "-c", NAIVE_LOOP, args.codec, str(source), str(out)]

        jobs = {
            "naive": lambda out: [naive(out)],
            "workers1": lambda out: [build(1)(out)],
            "workers2": lambda out: [build(2)(out)],
            "naive_pair": lambda out: [naive(out / "a", halves[0]), naive(out / "b", halves[1])],
        }
        walls: dict[str, list[float]] = {name: [] for name in jobs}
        for rep in range(args.repeats):
            for name, make_cmd in jobs.items():  # interleaved, so drift in machine load hits all three
                out = root / f"{name}-{rep}"
                walls[name].append(timed(*make_cmd(out), env=env))
                shutil.rmtree(out, ignore_errors=True)
        throughput = {}
        for name, values in walls.items():
            wall = statistics.median(values)
            throughput[name] = audio_s / wall
            print(f"{name}: wall_s={wall:.2f} throughput={throughput[name]:.2f} audio_s/s")
        print(f"ceiling={throughput['naive_pair'] / throughput['naive']:.3f} (two naive loops at once / one)")
        print(f"ratio={throughput['workers2'] / throughput['naive']:.3f}")


if __name__ == "__main__":
    main()
