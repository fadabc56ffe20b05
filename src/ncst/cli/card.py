"""`ncst card DIR`: write `DATASET.html` (players, codec cards, spectrograms, quality) for a dataset folder."""

from __future__ import annotations

from pathlib import Path

import typer

from ncst.cli._common import reports_errors, say

__all__ = ["card"]


@reports_errors
def card(
    folder: Path = typer.Argument(..., help="A build-dataset folder (wav/, label.txt) or a dataset root (label/)."),
    samples: int = typer.Option(3, "--samples", min=0, help="Audio players per class and set."),
    quality: int = typer.Option(
        50, "--quality", min=0, help="Files per class and set measured for quality.csv (0 = no quality table)."
    ),
    seed: int = typer.Option(0, help="Seed of the quality sample."),
) -> None:
    """Write DATASET.html beside the data: per class and set the codec card, counts, hours, players for a
    few files with their real recording beside them, a spectrogram grid of one utterance through every
    class, and quality.csv (STOI, PESQ-WB when `pesq` is installed, SI-SDR, log-spectral distance, measured
    bitrate) on a seeded sample. Needs no network; open the page in any browser."""
    from ncst.cards import write_html_card

    result = write_html_card(folder, samples_per_class=samples, quality_per_class=quality, seed=seed)
    if result.quality is not None:
        measured = sum(r.measured for r in result.quality.rows)
        pesq = "" if result.quality.pesq_available else " (no PESQ: pip install ncst[pesq])"
        say(f"quality: {measured} files measured in {result.quality.seconds:.1f} s{pesq} -> {result.quality_csv}")
    say(f"wrote {result.html} in {result.seconds:.1f} s")
