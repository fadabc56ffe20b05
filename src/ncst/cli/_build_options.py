"""The options `build-dataset` and `build-recipe` share, defined once so their help and defaults agree."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = [
    "ADDRESS",
    "BATCH_SIZE",
    "CARD",
    "DEVICE",
    "EXECUTOR",
    "OUT",
    "SEED",
    "SHARD",
    "THREADS",
    "TRUST_CHECKPOINT",
    "VERBOSE",
    "WEIGHTS",
    "WEIGHTS_DIR",
    "WORKERS",
]

OUT = typer.Option(Path("ncst_build"), "--out", "-o", help="Output folder (created; reruns resume it).")
WEIGHTS = typer.Option(
    [],
    "--weights",
    help="'pretrained' (the default: download on first use), 'random' (offline smoke runs; marked in provenance) "
    "or a local checkpoint path; repeatable with per-codec overrides SPEC_OR_NAME=VALUE, e.g. --weights pretrained "
    "--weights facodec=/ckpt/fa/ --weights dac=random (docs/weights.md).",
)
WEIGHTS_DIR = typer.Option(
    None,
    "--weights-dir",
    help="Folder of checkpoints, one DIR/<spec>/ or DIR/<name>/ per codec in its upstream layout "
    "(what `ncst weights fetch --dir DIR` writes); for clusters without internet.",
)
DEVICE = typer.Option("cpu", help="Torch device, e.g. cpu or cuda:0.")
WORKERS = typer.Option(
    0,
    min=0,
    help="Worker processes (0 = run in this process); each holds one codec model at a time. Ray: actors "
    "(0 = one per CPU/GPU).",
)
EXECUTOR = typer.Option("local", help="'local' (this machine) or 'ray' (pip install ncst\\[ray], see docs/scaling.md).")
ADDRESS = typer.Option(
    None, help="--executor ray: cluster address ('auto', 'ray://host:10001'); default starts a local Ray instance."
)
BATCH_SIZE = typer.Option(
    1, min=0, help="Files per codec call in this process (0 = as many as fit the GPU's memory); for GPUs."
)
SHARD = typer.Option("0/1", help="Do only shard I of N (0-based), e.g. 0/4; shards can run on different machines.")
SEED = typer.Option(
    None,
    help="Seed of random weights and decoder sampling (build-dataset: default 0); build-recipe: also of the split "
    "(default: the recipe's seed; an explicit --seed 0 is used as given).",
)
TRUST_CHECKPOINT = typer.Option(
    False,
    "--trust-checkpoint",
    help="Allow checkpoints that hold pickled Python objects (loading them can run code; only for files "
    "you trust). Without it such files are refused.",
)
THREADS = typer.Option(0, min=0, help="Torch CPU threads in this process (0 = torch default).")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Show debug logs.")
CARD = typer.Option(
    True,
    "--card/--no-card",
    help="At the end of an unsharded run, write DATASET.html (players, spectrograms) and quality.csv (STOI, "
    "PESQ, SI-SDR, LSD on a seeded sample of 50 files per class); `ncst card DIR` writes them later.",
)
