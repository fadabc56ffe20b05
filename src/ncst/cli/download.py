"""`ncst download NAME --out DIR`: the official ST-Codecfake from Zenodo, or a source corpus."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich import filesize
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ncst.cli._common import console, escape, print_error, reports_errors, say

if TYPE_CHECKING:
    from ncst.corpora.download import FileProgress, Limits

__all__ = ["download"]

_NAMES = ("st-codecfake", "vctk", "aishell3", "asvspoof2019", "ncssd")


@reports_errors
def download(
    name: str = typer.Argument(..., help=f"What to download: {', '.join(_NAMES)}."),
    out: Path = typer.Option(..., "--out", "-o", help="Target folder (reruns resume and skip finished files)."),
    part: str = typer.Option("main", help="st-codecfake: 'main' (Zenodo 14631091) or 'openset' (14631085)."),
    hf_token: Optional[str] = typer.Option(None, "--hf-token", help="ncssd: Hugging Face token (else HF_TOKEN)."),
    api_url: str = typer.Option("https://zenodo.org", "--api-url", help="st-codecfake: Zenodo server."),
    remove_archives: bool = typer.Option(False, "--remove-archives", help="Delete the downloads once extracted."),
    max_unpacked_gb: float = typer.Option(1024.0, "--max-unpacked-gb", help="Most GB one archive may unpack to."),
    max_ratio: float = typer.Option(100.0, "--max-ratio", help="Most unpacked bytes per packed byte (bomb guard)."),
) -> None:
    """Download, check (md5, extracted files against the label files) and unpack a dataset or corpus.

    Exit codes: 0 done (or already done), 2 any refused input, network or disk error (one line).
    """
    from ncst.corpora.download import Limits

    if name not in _NAMES:
        print_error(f"unknown name {name!r}; choose one of {', '.join(_NAMES)}")
        raise typer.Exit(2)
    if not (max_unpacked_gb > 0 and max_ratio >= 1):
        print_error(f"--max-unpacked-gb must be > 0 and --max-ratio >= 1, got {max_unpacked_gb} and {max_ratio}")
        raise typer.Exit(2)
    limits = Limits(max_unpacked_bytes=int(max_unpacked_gb * (1 << 30)), max_ratio=max_ratio)
    bar, progress = _progress_bar()
    try:
        with bar:
            _run(name, out, part, hf_token, api_url, remove_archives, progress, limits)
    except OSError as err:  # the target itself: read-only, no permission (crafted input raises NcstError)
        print_error(f"cannot write under {out}: {err}")
        raise typer.Exit(2) from err


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
    limits: Limits,
) -> None:
    if name == "st-codecfake":
        from ncst.recipes.download import download_st_codecfake

        result = download_st_codecfake(
            out, part=part, api_url=api_url, keep_archives=not remove_archives, progress=progress, limits=limits
        )
        if result.already_done:
            say(f"part {part} already downloaded in {out}; nothing fetched (checked against the label files)")
            return
        listed = ", ".join(f"{k} {v}" for k, v in sorted(result.label_counts.items())) or "no label files"
        say(f"{len(result.files)} files downloaded, {result.extracted} extracted -> {out} ({listed})")
    elif name == "vctk":
        from ncst.corpora.vctk import download_vctk

        say(f"VCTK 0.92 at {download_vctk(out, progress=progress, limits=limits)}")
    elif name == "aishell3":
        from ncst.corpora.aishell3 import download_aishell3

        say(f"AISHELL-3 at {download_aishell3(out, progress=progress, limits=limits)}")
    elif name == "asvspoof2019":
        from ncst.corpora.asvspoof2019 import download_asvspoof2019_la

        say(f"ASVspoof 2019 LA at {download_asvspoof2019_la(out, progress=progress, limits=limits)}")
    else:  # ncssd: huggingface_hub draws its own bars
        from ncst.corpora.ncssd import download_ncssd

        say(f"NCSSD at {download_ncssd(out, token=hf_token)}")
