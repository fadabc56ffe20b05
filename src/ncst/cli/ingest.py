"""`ncst ingest`: copy audio that no codec regenerates (ALM outputs, unseen-real and voc sets) into a layout."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ncst.cli._common import reports_errors, say

__all__ = ["ingest"]


@reports_errors
def ingest(
    src: Path = typer.Option(..., "--src", help="Folder of .wav/.flac files, or a corpus root with --corpus."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset root (a recipe build or the official download)."),
    folder: str = typer.Option(
        ...,
        "--folder",
        help="Folder of the layout, e.g. ALM/moshi or ID_unseen_real/19LA (that and ID_unseen_real/ITW need "
        "--corpus: bona fide files only, the corpus's protocol kept in <folder>_protocol/). ALM/mini-omni is "
        "written to ALM/mini-omni/A1-A2, where the official code reads it.",
    ),
    class_id: int = typer.Option(0, "--class-id", min=0, help="Class of every file (moshi 1, valle 4, real 0, ...)."),
    corpus: Optional[str] = typer.Option(
        None, help="Read --src with a corpus reader: asvspoof2019 (LA eval), in_the_wild, vctk, aishell3, ncssd."
    ),
    keys: Optional[List[str]] = typer.Option(
        None,
        "--keys",
        help="Label keys of --corpus to read (repeat or comma-separate): asvspoof2019 bonafide|spoof, in_the_wild "
        "bona-fide|spoof; default bona fide. The voc sets: --keys spoof --folder OOD_voc/19LA_spoof --class-id 7.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Allow a folder of the dataset's own sets (eval_id, ID_diff_config/C3-1, ...)."
    ),
) -> None:
    """Copy the files under their own names, write label/<folder>.txt and provenance rows (verifiable).

    Nothing is written unless every check passes: the folder stays inside --out, no file ingest did not
    write is replaced, the class is known and every file name fits a label file."""
    from ncst.recipes.ingest import ingest as run

    wanted = tuple(k.strip() for value in keys or () for k in value.split(",") if k.strip())
    result = run(src, out, folder, class_id, corpus=corpus, force=force, keys=wanted)
    say(
        f"{result.copied} copied, {result.skipped} already present -> {out}/{result.folder} "
        f"(label/{result.label_file}, class {class_id})"
    )
