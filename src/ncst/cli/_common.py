"""Shared CLI set-up: logging through rich, torch threads."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

__all__ = ["console", "setup_logging"]

console = Console(stderr=True)


def setup_logging(verbose: bool = False) -> None:
    """Routes library logs to stderr via rich; `verbose` shows DEBUG."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
        force=True,
    )
