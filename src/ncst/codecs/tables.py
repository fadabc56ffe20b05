"""Markdown tables of the codec registry and the class table, for `ncst codecs list --markdown` and the docs.

The README and docs/codecs.md hold these tables between `<!-- BEGIN ... -->` / `<!-- END ... -->`
markers; `scripts/update_codec_tables.py` rewrites them and a test fails when they are stale, so a new
codec never needs a hand-edited list.
"""

from __future__ import annotations

import re
from typing import Iterable

from ncst.classes import CLASSES
from ncst.codecs.base import CodecCard

__all__ = ["codec_table", "class_table", "taxonomy_table", "replace_block", "TABLES"]


def _bps(value: float) -> str:
    return f"{value:g}"


def codec_table(cards: Iterable[CodecCard]) -> str:
    """One row per codec variant: spec, class, prefix, rate, codes, bitrates, architecture source."""
    lines = [
        "| spec | class | file prefix | rate (Hz) | n_q | frames/s | codebook | nominal bps | effective bps "
        "| architecture |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cards:
        if c.source == "port":
            arch = f"port of {c.upstream_repo.removeprefix('https://github.com/')} @ {c.upstream_commit[:7]}"
        else:
            arch = f"`{c.upstream_package}` {c.upstream_version}".strip()
        lines.append(
            f"| `{c.spec}` | {'-' if c.class_id is None else c.class_id} | `{c.file_prefix}` | {c.sample_rate_hz} | "
            f"{c.n_quantizers} | {c.frame_rate_hz:g} | {c.codebook_size} | {_bps(c.nominal_bitrate_bps)} | "
            f"{c.effective_bitrate_bps:.6g} | {arch} |"
        )
    return "\n".join(lines) + "\n"


def taxonomy_table(cards: Iterable[CodecCard]) -> str:
    """One row per codec variant: the three taxonomy axes (`ncst.taxonomy`), each with the card's finer text."""
    from ncst.codecs.taxonomy import describe_axes

    lines = ["| spec | class | quantizer | auxiliary objective | decoder |", "|---|---|---|---|---|"]
    for c in cards:
        axes = describe_axes(c)
        cells = " | ".join(axes[a].replace("|", "/") for a in ("quantizer", "auxiliary", "decoder"))
        lines.append(f"| `{c.spec}` | {'-' if c.class_id is None else c.class_id} | {cells} |")
    return "\n".join(lines) + "\n"


def class_table() -> str:
    """The ST-Codecfake class table (`ncst/classes.toml`)."""
    lines = ["| id | class | split | file prefix | status |", "|---|---|---|---|---|"]
    for c in CLASSES:
        prefix = f"`{c.file_prefix}_`" if c.file_prefix else "(none)"
        if c.file_prefix and not c.prefix_official:
            prefix += " (ours)"
        lines.append(f"| {c.class_id} | {c.family} | {c.split} | {prefix} | {c.status} |")
    return "\n".join(lines) + "\n"


def replace_block(text: str, name: str, body: str) -> str:
    """Replaces the text between `<!-- BEGIN name -->` and `<!-- END name -->` (markers kept)."""
    pattern = re.compile(rf"(<!-- BEGIN {re.escape(name)} -->\n).*?(<!-- END {re.escape(name)} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"no <!-- BEGIN {name} --> ... <!-- END {name} --> block found")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


#: Marker name -> function giving the table, as kept in the docs.
TABLES = {
    "codec-table": lambda: codec_table(_all_cards()),
    "class-table": class_table,
    "taxonomy-table": lambda: taxonomy_table(_all_cards()),
}


def _all_cards() -> list[CodecCard]:
    from ncst.codecs.registry import list_cards

    return list_cards(runtime=False)  # built-ins and installed plug-ins, not codecs a test registered
