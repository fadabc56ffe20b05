"""`ncst download NAME --out DIR`: the official ST-Codecfake from Zenodo, or a source corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ncst.cli._common import print_error, say

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

    try:
        if name == "st-codecfake":
            from ncst.recipes.download import download_st_codecfake

            result = download_st_codecfake(out, part=part, api_url=api_url, keep_archives=not remove_archives)
            listed = ", ".join(f"{k} {v}" for k, v in sorted(result.label_counts.items())) or "no label files"
            say(f"{len(result.files)} files downloaded, {result.extracted} extracted -> {out} ({listed})")
        elif name == "vctk":
            from ncst.corpora.vctk import download_vctk

            say(f"VCTK 0.92 at {download_vctk(out)}")
        elif name == "aishell3":
            from ncst.corpora.aishell3 import download_aishell3

            say(f"AISHELL-3 at {download_aishell3(out)}")
        elif name == "asvspoof2019":
            from ncst.corpora.asvspoof2019 import download_asvspoof2019_la

            say(f"ASVspoof 2019 LA at {download_asvspoof2019_la(out)}")
        elif name == "ncssd":
            from ncst.corpora.ncssd import download_ncssd

            say(f"NCSSD at {download_ncssd(out, token=hf_token)}")
        else:
            print_error(f"unknown name {name!r}; choose one of {', '.join(_NAMES)}")
            raise typer.Exit(2)
    except NcstError as err:
        print_error(err)
        raise typer.Exit(1) from err
