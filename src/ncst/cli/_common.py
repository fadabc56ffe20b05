"""Shared CLI set-up: logging through rich, torch threads."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ncst.errors import NcstError

__all__ = [
    "NCST_ERROR_EXIT",
    "build_progress",
    "console",
    "escape",
    "exit_on_failures",
    "print_error",
    "reports_errors",
    "print_table",
    "say",
    "write_card",
    "setup_logging",
    "set_threads",
]

console = Console(stderr=True)


def print_error(message: object) -> None:
    """Prints `error: MESSAGE` to stderr, the message escaped.

    Error texts quote file names, file contents and option values, any of which may hold rich markup: an
    unescaped `[/x]` raises MarkupError and hides the real error behind a traceback.
    """
    console.print(f"[red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)


#: Exit status of a command stopped by one of ncst's own errors (bad input, arguments or settings).
NCST_ERROR_EXIT = 2

_F = TypeVar("_F", bound=Callable[..., Any])


def reports_errors(command: _F) -> _F:
    """Decorates a CLI command: an `NcstError` becomes one `error:` line on stderr and exit status 2.

    Every command wears it, so no command prints a traceback for bad input and all of them agree on the
    exit status. Other exceptions are bugs and keep their traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NcstError as err:
            print_error(err)
            raise typer.Exit(NCST_ERROR_EXIT) from err

    return cast(_F, wrapper)


def write_card(out_dir: Path, shard_suffix: str, enabled: bool) -> None:
    """Writes the dataset card at the end of a build: unsharded runs only (a shard sees part of the data).

    A card that cannot be drawn is a warning (the build's files are there; `ncst card DIR` retries).
    """
    if not enabled or shard_suffix:
        return
    from ncst.cards import card_after_build

    card = card_after_build(out_dir)
    if card is not None:
        say(f"dataset card: {card.html} ({card.seconds:.1f} s)")


def say(text: str) -> None:
    """Prints a plain line (paths and counts) to stderr with no markup parsing and no highlighting."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def setup_logging(verbose: bool = False) -> None:
    """Routes library logs to stderr via rich; `verbose` shows DEBUG."""
    # Upstream codec packages use torch's deprecated weight_norm/jit.script; the warnings are harmless noise.
    warnings.filterwarnings("ignore", message=r".*weight_norm.*deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
        force=True,
    )


def set_threads(threads: int) -> None:
    """Sets torch's intra-op threads; 0 keeps torch's default (one per core).

    On a busy CPU, fewer threads than cores is often much faster (OpenMP spin-waits on shared cores).
    """
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def print_table(table: Table) -> None:
    """Prints a wide table without truncating cells when the output is a pipe (rich assumes 80 columns)."""
    wide = Console(file=console.file, width=max(console.width, 140), force_terminal=console.is_terminal)
    wide.print(table)


def build_progress(label: str) -> tuple[Progress, Callable[[int, int, int], None]]:
    """The bar of a dataset build (files done of planned, failures, elapsed and remaining time) and the
    `progress(done, total, failed)` callback the builders report to.

    The bar starts on the first report, once the jobs are planned, so an argument error prints no empty
    bar; the caller stops it (`bar.stop()`) when the build ends or fails.
    """
    bar = Progress(
        TextColumn(f"[bold]{escape(label)}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task: list[TaskID] = []

    def on_progress(done: int, total: int, failed: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("build", total=total, failed=0))
        bar.update(task[0], completed=done, total=total, failed=failed)

    return bar, on_progress


def exit_on_failures(out_dir: Path, shard_suffix: str, n_failures: int) -> None:
    """Points at `failures<shard>.csv` and exits 1 when a build recorded failed inputs."""
    if n_failures:
        failures = escape(f"{out_dir}/failures{shard_suffix}.csv")
        console.print(f"[yellow]see {failures} for the failed inputs[/]", highlight=False)
        raise typer.Exit(1)
