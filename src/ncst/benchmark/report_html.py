"""``report.html``: the report's tables (the blocks of `report.md`) and its plots in one static page.

No network and no server: inline CSS, the plots linked by relative name from the same folder. The text
comes from `ncst.benchmark.report.report_blocks`, so the page and `report.md` never disagree; every text
is escaped and only the Markdown the report writes (headings, bullets, `code`) is turned into HTML.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from ncst.benchmark.report import Block, Table, report_blocks
from ncst.benchmark.results import ProtocolResult
from ncst.io import PathLike, atomic_write_text

__all__ = ["REPORT_HTML", "PLOT_CAPTIONS", "render_html_report", "write_html_report"]

log = logging.getLogger(__name__)

REPORT_HTML = "report.html"
#: Caption of each plot `ncst.benchmark.plots.write_plots` may write, in page order.
PLOT_CAPTIONS = {
    "confusion.png": "Confusion matrix: true class (or set) against predicted class; colour = share of the row.",
    "roc.png": "ROC curves per OOD condition, ID = positive; the dashed line marks TPR 95% (FPR95).",
    "ood_histograms.png": "Score histograms of ID and OOD files per condition and detector (higher = ID).",
}

_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:18px 24px 48px}h1{font-size:24px}
h2{font-size:19px;margin-top:26px;border-bottom:1px solid #d5d9de}
table{border-collapse:collapse;background:#fff;margin:8px 0 12px;font-size:14px}
th,td{border:1px solid #d5d9de;padding:4px 8px;text-align:left}th{background:#eef1f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:12px 0 20px}figure img{max-width:100%;background:#fff;border:1px solid #d5d9de}
figcaption{color:#5b6470;font-size:13px}code{font-size:13px}
"""
_NUMBER = re.compile(r"^-?\d+(\.\d+)?( \(\d+(\.\d+)?-\d+(\.\d+)?\))?$|^-$|^\d+(\.\d+)?-\d+(\.\d+)?$")
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=True))


def _table(table: Table) -> list[str]:
    out = ["<table><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in table.header) + "</tr>"]
    for row in table.rows:
        cells = "".join(
            f'<td class="n">{_inline(c)}</td>' if _NUMBER.match(c) else f"<td>{_inline(c)}</td>" for c in row
        )
        out.append(f"<tr>{cells}</tr>")
    return out + ["</table>"]


def _blocks(blocks: Sequence[Block]) -> list[str]:
    out: list[str] = []
    in_list = False
    for block in blocks:
        is_item = isinstance(block, str) and block.startswith("- ")
        if in_list and not is_item:
            out.append("</ul>")
            in_list = False
        if isinstance(block, Table):
            out += _table(block)
        elif is_item:
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(block[2:])}</li>")
        elif block.startswith("## "):
            out.append(f"<h2>{_inline(block[3:])}</h2>")
        elif block.startswith("# "):
            out.append(f"<h1>{_inline(block[2:])}</h1>")
        elif block:
            out.append(f"<p>{_inline(block)}</p>")
    if in_list:
        out.append("</ul>")
    return out


def render_html_report(result: ProtocolResult, plots: Sequence[str] = ()) -> str:
    """The page: the report's blocks, then each plot (file names relative to the page) with its caption."""
    proto = result.protocol
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{html.escape(f'{proto.paper_table}: {proto.name}')}</title><style>{_STYLE}</style></head>",
        "<body><main>",
    ]
    blocks = report_blocks(result)
    # The plots go after the tables, before the notes and settings.
    split = next((i for i, b in enumerate(blocks) if b in ("## Notes", "## Settings")), len(blocks))
    parts += _blocks(blocks[:split])
    if plots:
        parts.append("<h2>Plots</h2>")
        for name in plots:
            caption = PLOT_CAPTIONS.get(Path(name).name, "")
            parts.append(
                f'<figure><img src="{html.escape(quote(name))}" alt="{html.escape(caption or name)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    parts += _blocks(blocks[split:])
    parts += ["</main></body></html>", ""]
    return "\n".join(parts)


def write_html_report(result: ProtocolResult, out_dir: PathLike, plots: Sequence[PathLike] = ()) -> Path:
    """Writes ``report.html`` into `out_dir`, showing the `plots` that lie in that folder; returns its path."""
    out = Path(out_dir)
    names = [Path(p).name for p in plots if Path(p).parent.resolve() == out.resolve()]
    names.sort(key=lambda n: list(PLOT_CAPTIONS).index(n) if n in PLOT_CAPTIONS else len(PLOT_CAPTIONS))
    return atomic_write_text(out / REPORT_HTML, render_html_report(result, names))
