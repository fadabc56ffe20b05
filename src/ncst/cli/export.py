"""`ncst export DIR --format lhotse|hf-audiofolder|parquet --out OUT`: hand a dataset to other toolkits."""

from __future__ import annotations

from pathlib import Path

import typer

from ncst.cli._common import reports_errors, say

__all__ = ["export"]


@reports_errors
def export(
    src_dir: Path = typer.Argument(..., help="A build-dataset output folder or a dataset root."),
    fmt: str = typer.Option(..., "--format", "-f", help="lhotse, hf-audiofolder or parquet."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created; must be empty unless --force)."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out (replaces only our files)."),
    copy_audio: bool = typer.Option(False, "--copy-audio", help="hf-audiofolder: copy the audio, not link it."),
) -> None:
    """Write lhotse manifests, a Hugging Face audiofolder or one Parquet table of every labelled file
    (exit 2 on a refused input or output folder)."""
    from ncst.export import export_dataset

    result = export_dataset(src_dir, out, fmt, force=force, copy_audio=copy_audio)
    sets = ", ".join(f"{name} {n}" for name, n in result.source.splits.items()) or "none"
    missing = len(result.source.missing)
    note = f"; {missing} labelled files missing (see warnings)" if missing else ""
    say(
        f"{len(result.source.entries)} files ({sets}) -> {result.out_dir} as {result.format}, "
        f"{len(result.written)} files written{note}"
    )
