"""PNG plots of a scored protocol (matplotlib, Agg backend): confusion matrix, ROC curves, OOD histograms.

* ``confusion.png``: closed set, true x predicted class counts (row-normalised colours); single-class
  tables, set x predicted class.
* ``roc.png``: one panel per OOD condition, one ROC curve per detector (ID positive); open set only.
* ``ood_histograms.png``: ID and OOD score histograms, one row per condition and one column per
  detector; open set only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ncst.benchmark.metrics import roc_vertices  # noqa: E402
from ncst.benchmark.results import ProtocolResult  # noqa: E402
from ncst.io import PathLike  # noqa: E402

__all__ = ["write_plots"]

log = logging.getLogger(__name__)


def _confusion(confusion: np.ndarray, result: ProtocolResult, path: Path) -> None:
    counts = confusion.astype(np.float64)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * counts.shape[1], 1.0 + 0.45 * counts.shape[0]))
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
                    fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(counts.shape[1]), result.confusion_cols)
    ax.set_yticks(range(counts.shape[0]), result.confusion_rows)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class" if result.protocol.kind == "closed_set" else "set")
    ax.set_title(f"{result.protocol.paper_table}: {result.protocol.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _roc(result: ProtocolResult, conditions: list[str], detectors: list[str], path: Path) -> None:
    fig, axes = plt.subplots(1, len(conditions), figsize=(3.6 * len(conditions), 3.6), squeeze=False)
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
        ax.set_title(cond)
        ax.set_xlabel("FPR (OOD accepted)")
        ax.legend(loc="lower right", fontsize=7, title="AUC %", title_fontsize=7)
    axes[0][0].set_ylabel("TPR (ID accepted)")
    fig.suptitle("ROC curves, ID = positive")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.85, wspace=0.25)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _histograms(result: ProtocolResult, conditions: list[str], detectors: list[str], path: Path) -> None:
    fig, axes = plt.subplots(
        len(conditions), len(detectors), figsize=(2.8 * len(detectors), 2.2 * len(conditions)), squeeze=False
    )
    for row, cond in zip(axes, conditions):
        for ax, det in zip(row, detectors):
            if (cond, det) not in result.ood:
                ax.set_axis_off()
                continue
            data = result.ood[(cond, det)]
            lo, hi = float(data.scores.min()), float(data.scores.max())
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 50)
            ax.hist(data.scores[data.binary == 1], bins=bins, density=True, histtype="step", label="ID")
            ax.hist(data.scores[data.binary == 0], bins=bins, density=True, histtype="step", label="OOD")
            ax.set_title(f"{cond} / {det}", fontsize=8)
            ax.tick_params(labelsize=6)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("OOD score histograms (higher = ID)")
    fig.subplots_adjust(left=0.04, right=0.98, bottom=0.05, top=0.9, hspace=0.5, wspace=0.3)
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
    return written
