"""`ncst train`: train a baseline (or entry-point) model on a dataset root with the reference recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ncst.cli._common import print_error, reports_errors, say, set_threads


@reports_errors
def train(
    model: str = typer.Option(..., "--model", help="mel-lcnn, aasist, w2v2-aasist, or an ncst.models entry point."),
    data: Path = typer.Option(..., "--data", exists=True, file_okay=False, help="Dataset root (official layout)."),
    out: Path = typer.Option(..., "--out", help="Output folder: last.pt, best.pt, history.json."),
    epochs: int = typer.Option(50, min=1, help="Epochs (the reference trains 50)."),
    batch_size: int = typer.Option(24, "--batch-size", min=1, help="Batch size (reference: 24)."),
    device: str = typer.Option("cpu", help="Torch device, e.g. cpu or cuda:0."),
    seed: int = typer.Option(688, help="Seed of initialisation, sampling and dropout (reference: 688)."),
    workers: int = typer.Option(0, min=0, help="DataLoader worker processes."),
    model_config: Optional[str] = typer.Option(
        None, "--model-config", help='JSON constructor arguments, e.g. \'{"normalization": "batch"}\'.'
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not cache frozen front-end features."),
    cache_dtype: str = typer.Option(
        "float32", "--cache-dtype", help="float32 or float16 (half the disk: 28.8 GB for the full train set)."
    ),
    threads: int = typer.Option(0, min=0, help="Torch CPU threads (0 = torch default)."),
    task: str = typer.Option(
        "class",
        "--task",
        help="class (the 7-way head) or taxonomy (also one head per codec taxonomy axis: quantizer, auxiliary, "
        "decoder; docs/training.md).",
    ),
    axis_weights: str = typer.Option(
        "1,1,1", "--axis-weights", help="--task taxonomy: loss weights of the quantizer,auxiliary,decoder heads."
    ),
) -> None:
    """Train with Adam (lr 5e-4, weight decay 5e-4, halved every 10 epochs); keep the best dev-loss model.

    Rerunning the same command after a kill resumes from OUT/last.pt with the same result. With --task
    taxonomy each file's axis targets come from its class's codec card (DATA/taxonomy.csv, else the
    classes of DATA/recipe.json, else the built-in class table)."""
    from tqdm import tqdm

    from ncst.models.train import TrainConfig
    from ncst.models.train import train as run

    set_threads(threads)
    if cache_dtype not in ("float32", "float16"):
        print_error(f"--cache-dtype must be float32 or float16, got {cache_dtype!r}")
        raise typer.Exit(2)
    try:
        extra = json.loads(model_config) if model_config else {}
    except json.JSONDecodeError as err:
        print_error(f"--model-config is not JSON: {err}")
        raise typer.Exit(2) from err
    if task not in ("class", "taxonomy"):
        print_error(f"--task must be class or taxonomy, got {task!r}")
        raise typer.Exit(2)
    class_taxonomy: dict[str, list[str]] = {}
    if task == "taxonomy":
        from ncst.codecs.taxonomy import class_taxonomy_json

        class_taxonomy = class_taxonomy_json(data)
    from ncst.models.taxonomy import parse_axis_weights

    config = TrainConfig(
        model=model, data_dir=data, out_dir=out, model_config=extra, epochs=epochs, batch_size=batch_size,
        device=device, seed=seed, workers=workers, cache_features=not no_cache, cache_dtype=cache_dtype,
        task=task, axis_weights=parse_axis_weights(axis_weights), class_taxonomy=class_taxonomy,
    )  # fmt: skip
    bar: dict[int, tqdm] = {}

    def on_step(epoch: int, step: int, n_steps: int, loss: float, acc: float) -> None:
        if epoch not in bar:
            bar[epoch] = tqdm(total=n_steps, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", leave=True)
        bar[epoch].update(1)
        bar[epoch].set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.3f}")

    def on_epoch(record: dict) -> None:
        if record["epoch"] in bar:
            bar.pop(record["epoch"]).close()
        say(
            f"epoch {record['epoch'] + 1}: dev loss {record['dev_loss']:.4f} acc {record['dev_acc']:.3f}"
            + (" (best)" if record["best"] else "")
        )

    try:
        result = run(config, on_step=on_step, on_epoch=on_epoch)
    finally:
        for b in bar.values():
            b.close()
    say(f"Best model: {result.best_path} (last: {result.last_path})")
