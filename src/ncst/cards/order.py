"""Natural order for what a card lists: 3 kbps before 12 kbps, C3-2 before C3-10, train before eval.

Sorting names as text puts `encodec@12kbps` before `encodec@3kbps`; a reader expects the numbers in a
name to count. `natural_key` splits a name into text and number runs so that sorting by it orders the
numbers by value.
"""

from __future__ import annotations

import logging
import re

__all__ = ["SET_ORDER", "natural_key", "set_key"]

log = logging.getLogger(__name__)

#: The main sets of the ST-Codecfake layout, in the order a reader meets them; other folders follow.
SET_ORDER = ("wav", "train", "dev", "eval_id", "eval_ood")

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def natural_key(name: str) -> tuple[tuple[int, float, str], ...]:
    """A sort key that orders the number runs of `name` by value (`C3-2` < `C3-10`, `3kbps` < `12kbps`).

    Each part is `(0, value, "")` for a number and `(1, 0, text)` for text, so every pair of parts
    compares without mixing types.
    """
    parts: list[tuple[int, float, str]] = []
    for i, part in enumerate(_NUMBER.split(name)):
        if i % 2:
            parts.append((0, float(part), ""))
        elif part:
            parts.append((1, 0.0, part.lower()))
    return tuple(parts)


def set_key(folder: str) -> tuple[int, tuple[tuple[int, float, str], ...]]:
    """Sort key of a set folder: the main sets first (`SET_ORDER`), then the rest in natural order."""
    rank = SET_ORDER.index(folder) if folder in SET_ORDER else len(SET_ORDER)
    return rank, natural_key(folder)
