"""PNG plots of a scored protocol (matplotlib, Agg backend): confusion matrix, ROC curves, OOD histograms.

* ``confusion.png``: closed set, true x predicted class counts (row-normalised colours); single-class
  tables, set x predicted class.
* ``roc.png``: one panel per OOD condition, one ROC curve per detector (ID positive); open set only.
* ``ood_histograms.png``: ID and OOD score histograms, one row per condition and one column per
  detector; open set only.

Classes are named by their codec (`ncst.classes`: "EnCodec", not 4) on every axis, legend and title; a
set is named with the class it should be traced to ("C3-1 -> FunCodec"). After the plots, `report.html`
is rewritten to show them.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ncst.benchmark.metrics import roc_vertices  # noqa: E402
from ncst.benchmark.results import ProtocolResult  # noqa: E402
from ncst.classes import CLASSES, ID_CLASS_IDS, REAL_CLASS_ID  # noqa: E402
from ncst.io import PathLike  # noqa: E402

__all__ = ["class_label", "write_plots"]

log = logging.getLogger(__name__)

_ID_RANGE = re.compile(r"\((\d+)(?:-(\d+))?\)")


def class_label(name: str) -> str:
    """`"4"` -> `"EnCodec"`, `"0"` -> `"real"`; any other text (a set name) is returned as it is."""
    if name.isdigit() and int(name) < len(CLASSES):
        class_id = int(name)
        return "real" if class_id == REAL_CLASS_ID else CLASSES[class_id].family
    return name


def _set_label(result: ProtocolResult, name: str) -> str:
    """A set of a single-class table with the class it should be traced to: `C3-1 -> FunCodec`."""
    for spec in result.protocol.sets:
        if spec.column == name and spec.label is not None:
            target = class_label(str(spec.label))
            return name if target.lower() in name.lower() else f"{name} -> {target}"
    return class_label(name)


def _named_condition(title: str) -> str:
    """`single codec (7)` -> `single codec (WavTokenizer)`; `(8-11)` lists the four codecs."""

    def names(match: re.Match[str]) -> str:
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high >= len(CLASSES) or high - low > 12:
            return match.group(0)
        return "(" + ", ".join(class_label(str(c)) for c in range(low, high + 1)) + ")"

    return _ID_RANGE.sub(names, title)


#: The ID side of every OOD condition: real speech and the six ID codecs.
_ID_NAMES = "real + " + ", ".join(class_label(str(c)) for c in ID_CLASS_IDS if c != REAL_CLASS_ID)


def _confusion(confusion: np.ndarray, result: ProtocolResult, path: Path) -> None:
    counts = confusion.astype(np.float64)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    fig, ax = plt.subplots(figsize=(2.6 + 0.8 * counts.shape[1], 1.6 + 0.45 * counts.shape[0]))
    ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(counts.shape[1]), [class_label(c) for c in result.confusion_cols], rotation=35, ha="right")
    ax.set_yticks(range(counts.shape[0]), [_set_label(result, r) for r in result.confusion_rows])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class" if result.protocol.kind == "closed_set" else "set -> true class")
    ax.set_title(f"{result.protocol.paper_table}: {result.protocol.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _condition_title(result: ProtocolResult, cond: str) -> str:
    """The condition's title with its OOD class ids as codec names (`single codec (WavTokenizer)`)."""
    title = next((c.title for c in result.protocol.conditions if c.name == cond), cond)
    return _named_condition(title)


def _roc(result: ProtocolResult, conditions: list[str], detectors: list[str], path: Path) -> None:
    fig, axes = plt.subplots(1, len(conditions), figsize=(4.0 * len(conditions), 4.4), squeeze=False)
    for ax, cond in zip(axes[0], conditions):
        for det in detectors:
            if (cond, det) not in result.ood:
                continue
            data = result.ood[(cond, det)]
            fpr, tpr = roc_vertices(data.binary, data.scores)
            auc = result.cells[f"{cond}/{det}"]["AUC"]
            ax.plot(fpr, tpr, label=f"{det} ({auc:.1f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=0.8)
        ax.axhline(0.95, color="grey", linestyle="--", linewidth=0.8)
        ax.set_title(_wrap(_condition_title(result, cond)), fontsize=9)
        ax.set_xlabel("FPR: OOD files accepted as ID", fontsize=8)
        ax.legend(loc="lower right", fontsize=7, title="AUC %", title_fontsize=7)
    axes[0][0].set_ylabel(f"TPR: ID files accepted\n({_wrap(_ID_NAMES, 40)})", fontsize=8)
    fig.suptitle("ROC curves, ID = positive")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.8, wspace=0.25)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _wrap(text: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _histograms(result: ProtocolResult, conditions: list[str], detectors: list[str], path: Path) -> None:
    fig, axes = plt.subplots(
        len(conditions), len(detectors), figsize=(2.9 * len(detectors), 2.5 * len(conditions)), squeeze=False
    )
    for row, cond in zip(axes, conditions):
        ood_name = _condition_title(result, cond)
        for ax, det in zip(row, detectors):
            if (cond, det) not in result.ood:
                ax.set_axis_off()
                continue
            data = result.ood[(cond, det)]
            lo, hi = float(data.scores.min()), float(data.scores.max())
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 50)
            ax.hist(
                data.scores[data.binary == 1], bins=bins, density=True, histtype="step", label="ID: real + ID codecs"
            )
            ax.hist(data.scores[data.binary == 0], bins=bins, density=True, histtype="step", label="OOD")
            ax.set_title(f"{det}: OOD = {_wrap(ood_name, 30)}", fontsize=7)
            ax.tick_params(labelsize=6)
        row[0].set_ylabel("density", fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("score (higher = ID)", fontsize=7)
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"OOD score histograms; ID = {_ID_NAMES}", fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=0.9, hspace=0.75, wspace=0.3)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_plots(result: ProtocolResult, out_dir: PathLike) -> list[Path]:
    """Writes the protocol's PNG plots into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if result.confusion is not None:
        written.append(out / "confusion.png")
        _confusion(result.confusion, result, written[-1])
    conditions = list(dict.fromkeys(c for c, _ in result.ood))
    if conditions:
        detectors = list(dict.fromkeys(d for _, d in result.ood))
        written.append(out / "roc.png")
        _roc(result, conditions, detectors, written[-1])
        written.append(out / "ood_histograms.png")
        _histograms(result, conditions, detectors, written[-1])
    log.info("Wrote %d plots to %s", len(written), out)
    from ncst.benchmark.report_html import write_html_report

    write_html_report(result, out, written)
    return written
