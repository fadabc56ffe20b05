"""Write ``report.md`` (tables in the paper's layout), ``report.html`` and ``report.json`` for a scored protocol.

The report is built once as a list of blocks (`report_blocks`): Markdown lines and `Table`s. The Markdown
file prints them as they are; `ncst.benchmark.report_html` turns the same blocks into the HTML page, so
both show the same numbers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Union

from ncst.benchmark.results import ProtocolResult
from ncst.io import PathLike, atomic_write_text

__all__ = ["Block", "Table", "report_blocks", "render_markdown", "write_report"]

log = logging.getLogger(__name__)

_OOD_METRICS = ("AUC", "FPR95", "EER", "EER_tie_robust")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ci(cell: Mapping[str, float]) -> str:
    if "F1_CI95_low" not in cell:
        return "-"
    return f"{cell['F1_CI95_low']:.2f}-{cell['F1_CI95_high']:.2f}"


@dataclass(frozen=True, slots=True)
class Table:
    """One table of the report: a header row and text rows."""

    header: list[str]
    rows: list[list[str]]

    def markdown(self) -> list[str]:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "|".join("---" for _ in self.header) + "|"]
        return lines + ["| " + " | ".join(r) + " |" for r in self.rows]


#: A report line in Markdown (`# title`, `- item`, a sentence with `code`, or "" between paragraphs), or a table.
Block = Union[str, Table]


def _id_tables(result: ProtocolResult) -> list[Block]:
    proto = result.protocol
    columns = list(proto.columns)
    titles = dict(zip(proto.columns, proto.column_titles))
    header = ["row"] + [titles.get(c, c) if titles.get(c, c) == c else f"{titles[c]} ({c})" for c in columns]
    cells = result.cells
    rows = [["this run"] + [_fmt(cells.get(c, {}).get("F1")) for c in columns]]
    if any("F1_CI95_low" in cell for cell in cells.values()):
        rows.append(["95% CI"] + [_ci(cells.get(c, {})) for c in columns])
    for model, paper_cells in proto.paper.items():
        rows.append([f"paper: {model}"] + [_fmt(paper_cells.get(c)) for c in columns])
    groups = [s.group for s in proto.sets]
    lines: list[Block] = []
    if any(groups):
        spans: list[str] = []
        for s in proto.sets:
            if not spans or spans[-1] != s.group:
                spans.append(s.group)
        lines.append("Column groups: " + ", ".join(spans) + ".")
        lines.append("")
    lines.append(Table(header, rows))
    lines.append("")
    lines += _paper_differences(result)
    paper_counts = {c: n for c, n in result.counts.items() if c not in result.extensions}
    lines.append("Counts: " + ", ".join(f"{c} {n}" for c, n in paper_counts.items()) + ".")
    if result.extensions:
        lines += [
            "", "## Extension ID classes", "",
            "Classes the paper does not have, found among the ID test set's labels; the paper's columns above "
            "are over the paper's classes only.", "",
        ]  # fmt: skip
        rows = [[title, _fmt(result.cells.get(name, {}).get("F1")), str(result.counts.get(name, ""))]
                for name, title in result.extensions.items()]  # fmt: skip
        lines.append(Table(["class", "F1", "utterances"], rows))
    return lines


def _paper_differences(result: ProtocolResult) -> list[Block]:
    """Footnotes for paper rows that this run reproduces in most cells but not all."""
    lines: list[Block] = []
    for model, paper_cells in result.protocol.paper.items():
        shared = [c for c in paper_cells if "F1" in result.cells.get(c, {})]
        differ = [c for c in shared if f"{result.cells[c]['F1']:.2f}" != f"{paper_cells[c]:.2f}"]
        if not shared or len(differ) > len(shared) / 2:
            continue
        if differ:
            detail = ", ".join(
                f"{c} (paper {paper_cells[c]:.2f}, this run {result.cells[c]['F1']:.2f})" for c in differ
            )
            lines.append(f"This run matches the paper's {model} row except {detail}; see the notes.")
        else:
            lines.append(f"This run matches the paper's {model} row in all {len(shared)} printed cells.")
    return lines + [""] if lines else []


def _ood_tables(result: ProtocolResult) -> list[Block]:
    proto = result.protocol
    conditions = [c for c in proto.conditions if any(k.startswith(c.name + "/") for k in result.cells)]
    detectors = list(result.settings.get("detectors", proto.detectors))
    header = ["detector"] + [f"{c.name} {m}" for c in conditions for m in proto.metrics]
    rows = []
    for det in detectors:
        row = [det]
        for cond in conditions:
            cell = result.cells.get(f"{cond.name}/{det}", {})
            row += [_fmt(cell.get(m)) for m in proto.metrics]
        rows.append(row)
    lines: list[Block] = ["Conditions: " + "; ".join(f"`{c.name}` = {c.title}" for c in conditions) + ".", ""]
    lines.append(Table(header, rows))
    lines += ["", "Every metric with its tie-robust EER and bootstrap 95% intervals (%):", ""]
    detail_header = ["condition/detector"] + list(_OOD_METRICS)
    detail_rows = []
    for key, cell in result.cells.items():
        if key.split("/")[0] in result.extensions:
            continue
        detail_rows.append([key, *_ood_metric_texts(cell)])
    lines.append(Table(detail_header, detail_rows))
    lines.append("")
    paper_counts = {c: n for c, n in result.counts.items() if c not in result.extensions}
    lines.append("Utterances (ID + OOD): " + ", ".join(f"{c} {n}" for c, n in paper_counts.items()) + ".")
    return lines + _ood_extension_block(result)


def _ood_metric_texts(cell: Mapping[str, float]) -> list[str]:
    """Each open-set metric of a cell as text, with its bootstrap 95% interval where one was computed."""
    texts = []
    for m in _OOD_METRICS:
        text = _fmt(cell.get(m))
        if f"{m}_CI95_low" in cell:
            text += f" ({cell[f'{m}_CI95_low']:.2f}-{cell[f'{m}_CI95_high']:.2f})"
        texts.append(text)
    return texts


def _ood_extension_block(result: ProtocolResult) -> list[Block]:
    """Extension OOD classes (outside the paper's conditions): one row per class x detector, own section."""
    if not result.extensions:
        return []
    proto = result.protocol
    detectors = list(result.settings.get("detectors", proto.detectors))
    lines: list[Block] = [
        "", "## Extension OOD classes", "",
        "Classes the paper does not have, each scored as its own condition against the same ID set "
        "(not part of the paper's table).", "",
    ]  # fmt: skip
    header = ["condition", "detector"] + list(_OOD_METRICS)
    rows = []
    for cond, title in result.extensions.items():
        for det in detectors:
            cell = result.cells.get(f"{cond}/{det}")
            if cell is None:
                continue
            rows.append([title, det, *_ood_metric_texts(cell)])
    lines.append(Table(header, rows))
    lines.append("")
    lines.append(
        "Utterances (ID + OOD): "
        + ", ".join(f"{c} {n}" for c, n in result.counts.items() if c in result.extensions)
        + "."
    )
    return lines


def _detail_tables(result: ProtocolResult) -> list[Block]:
    """The cells as one table, then the tables a protocol put in `details["tables"]` (taxonomy protocol)."""
    metrics = list(dict.fromkeys(m for cell in result.cells.values() for m in cell))
    rows = [[col, *(_fmt(cell.get(m)) for m in metrics), str(result.counts.get(col, "-"))]
            for col, cell in result.cells.items()]  # fmt: skip
    lines: list[Block] = [Table(["cell", *metrics, "files"], rows), ""]
    for table in result.details.get("tables", []):
        lines += [f"## {table['title']}", "", Table(list(table["header"]), [list(r) for r in table["rows"]]), ""]
    return lines


def report_blocks(result: ProtocolResult) -> list[Block]:
    """The report as blocks: title, the table in the paper's layout, paper rows, notes and settings."""
    proto = result.protocol
    lines: list[Block] = [
        f"# {proto.paper_table}: {proto.title}", "", f"Protocol `{proto.name}`; input: {result.source}.", ""
    ]  # fmt: skip
    if proto.kind == "taxonomy":
        lines += _detail_tables(result)
    else:
        lines += _ood_tables(result) if proto.kind == "open_set" else _id_tables(result)
    if result.not_scored:
        lines += ["", "## Not scored", "", "Present in the inputs, but no protocol scores them:", ""]
        lines += [f"- `{name}`" for name in result.not_scored]
    if proto.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in proto.notes]
    if result.settings:
        lines += ["", "## Settings", ""] + [f"- {k}: {v}" for k, v in result.settings.items()]
    return lines


def render_markdown(result: ProtocolResult) -> str:
    """Renders the report as Markdown (`report_blocks`, tables as pipe tables)."""
    lines: list[str] = []
    for block in report_blocks(result):
        lines += block.markdown() if isinstance(block, Table) else [block]
    return "\n".join(lines) + "\n"


def write_report(result: ProtocolResult, out_dir: PathLike) -> tuple[Path, Path]:
    """Writes ``report.md`` and ``report.json`` into `out_dir` (created); returns their paths.

    `ncst.benchmark.report_html.write_html_report` writes ``report.html`` from the same blocks (and
    `ncst.benchmark.plots.write_plots` rewrites it with the plots).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / "report.md", out / "report.json"
    atomic_write_text(md_path, render_markdown(result))
    atomic_write_text(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    log.info("Wrote %s and %s", md_path, json_path)
    return md_path, json_path
