"""`ncst download NAME --out DIR`: the official ST-Codecfake from Zenodo, or a source corpus."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich import filesize
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ncst.cli._common import console, escape, print_error, say

if TYPE_CHECKING:
    from ncst.corpora.download import FileProgress

__all__ = ["download"]

_NAMES = ("st-codecfake", "vctk", "aishell3", "asvspoof2019", "ncssd")


def download(
    name: str = typer.Argument(..., help=f"What to download: {', '.join(_NAMES)}."),
    out: Path = typer.Option(..., "--out", "-o", help="Target folder (reruns resume and skip finished files)."),
    part: str = typer.Option("main", help="st-codecfake: 'main' (Zenodo 14631091) or 'openset' (14631085)."),
    hf_token: Optional[str] = typer.Option(None, "--hf-token", help="ncssd: Hugging Face token (else HF_TOKEN)."),
    api_url: str = typer.Option("https://zenodo.org", "--api-url", help="st-codecfake: Zenodo server."),
    remove_archives: bool = typer.Option(False, "--remove-archives", help="Delete the downloads once extracted."),
) -> None:
    """Download, check (md5, extracted files against the label files) and unpack a dataset or corpus."""
    from ncst.errors import NcstError

    if name not in _NAMES:
        print_error(f"unknown name {name!r}; choose one of {', '.join(_NAMES)}")
        raise typer.Exit(2)
    bar, progress = _progress_bar()
    try:
        with bar:
            _run(name, out, part, hf_token, api_url, remove_archives, progress)
    except NcstError as err:
        print_error(err)
        raise typer.Exit(1) from err


def _progress_bar() -> tuple[Progress, FileProgress]:
    """One bar per file (bytes) and per archive (members), as the download functions report them."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        TimeRemainingColumn(),
        console=console,
    )
    tasks: dict[str, TaskID] = {}

    def progress(label: str, done: int, total: int | None) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(escape(label), total=total, amount="")
        if label.startswith("extract "):
            amount = f"{done}/{total} files"
        else:
            amount = filesize.decimal(done) + (f"/{filesize.decimal(total)}" if total else "")
        bar.update(tasks[label], completed=done, total=total, amount=amount)

    return bar, progress


def _run(
    name: str,
    out: Path,
    part: str,
    hf_token: Optional[str],
    api_url: str,
    remove_archives: bool,
    progress: FileProgress,
) -> None:
    if name == "st-codecfake":
        from ncst.recipes.download import download_st_codecfake

        result = download_st_codecfake(
            out, part=part, api_url=api_url, keep_archives=not remove_archives, progress=progress
        )
        listed = ", ".join(f"{k} {v}" for k, v in sorted(result.label_counts.items())) or "no label files"
        say(f"{len(result.files)} files downloaded, {result.extracted} extracted -> {out} ({listed})")
    elif name == "vctk":
        from ncst.corpora.vctk import download_vctk

        say(f"VCTK 0.92 at {download_vctk(out, progress=progress)}")
    elif name == "aishell3":
        from ncst.corpora.aishell3 import download_aishell3

        say(f"AISHELL-3 at {download_aishell3(out, progress=progress)}")
    elif name == "asvspoof2019":
        from ncst.corpora.asvspoof2019 import download_asvspoof2019_la

        say(f"ASVspoof 2019 LA at {download_asvspoof2019_la(out, progress=progress)}")
    else:  # ncssd: huggingface_hub draws its own bars
        from ncst.corpora.ncssd import download_ncssd

        say(f"NCSSD at {download_ncssd(out, token=hf_token)}")
