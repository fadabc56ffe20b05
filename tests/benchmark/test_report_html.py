"""`report.html` beside `report.md`: the same tables, the plots with codec names, and a clean load in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark import run_protocol, save_dump
from ncst.benchmark.dumps import dump_path
from ncst.benchmark.plots import class_label
from ncst.cards.browser import check_page, find_chromium, screenshot_page

PREFIXES = ["", "mimi_", "speechtokenizer_", "funcodec_", "encodec_", "facodec_", "snac_"]
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no chromium on PATH (apt-get install -y chromium)")


@pytest.fixture
def closed_set_report(tmp_path: Path) -> Path:
    """Table 3 scored from a tiny official result folder (4 files per class, one SNAC file called real)."""
    lines = []
    for c, prefix in enumerate(PREFIXES):
        for i in range(4):
            pred = c if not (c == 6 and i == 0) else 0
            lines.append(f"{prefix}p225_{i:03d}.wav {pred} 0.9")
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "result_id.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    run_protocol("id_closed_set", out, predictions_dir=tmp_path / "result", n_bootstrap=0)
    return out


@pytest.fixture
def open_set_report(tmp_path: Path) -> Path:
    """Table 5 scored from synthetic logits and embeddings (Gaussian classes)."""
    rng = np.random.default_rng(0)
    means = rng.normal(0, 3, (12, 8))
    root = tmp_path / "dumps"
    sets = {"train": np.arange(70) % 7, "eval_id": np.arange(35) % 7, "eval_ood7": np.full(10, 7),
            "eval_ood8-11": 8 + np.arange(12) % 4, "voc": np.full(10, 7), "wavtokenizer_small40": np.full(10, 7),
            "NCSSD_wavtokenizer": np.full(10, 7)}  # fmt: skip
    for name, labels in sets.items():
        x = means[labels] + rng.normal(0, 1, (labels.size, 8))
        logits = np.stack([-((x - means[c]) ** 2).sum(1) / 10 for c in range(7)], 1)
        ids = [f"{name}_{i}.wav" for i in range(labels.size)]
        save_dump(dump_path(root, name), utt_ids=ids, logits=logits, embeddings=x, labels=labels)
    out = tmp_path / "out"
    run_protocol("ood_open_set", out, dumps_dir=root, n_bootstrap_ood=0)
    return out


def _cells(page: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", page)


def test_run_protocol_writes_report_html_beside_report_md(closed_set_report: Path) -> None:
    assert (closed_set_report / "report.html").is_file()


def test_report_html_shows_the_numbers_of_report_md(closed_set_report: Path) -> None:
    md = (closed_set_report / "report.md").read_text()
    this_run = next(line for line in md.splitlines() if line.startswith("| this run"))
    numbers = [c.strip() for c in this_run.strip("|").split("|")[1:]]
    page = (closed_set_report / "report.html").read_text()
    row = _cells(page)[_cells(page).index("this run") + 1 :][: len(numbers)]
    assert row == numbers


def test_report_html_shows_every_plot(open_set_report: Path) -> None:
    page = (open_set_report / "report.html").read_text()
    assert re.findall(r'<img src="([^"]+)"', page) == ["roc.png", "ood_histograms.png"]


def test_report_html_without_plots_has_no_images(tmp_path: Path, closed_set_report: Path) -> None:
    out = tmp_path / "no_plots"
    run_protocol("id_closed_set", out, predictions_dir=closed_set_report.parent / "result", n_bootstrap=0, plots=False)
    assert "<img" not in (out / "report.html").read_text()


def test_class_label_names_codecs_not_numbers() -> None:
    assert [class_label(str(c)) for c in (0, 4, 7)] == ["real", "EnCodec", "WavTokenizer"]


def test_class_label_keeps_set_names() -> None:
    assert class_label("C3-1") == "C3-1"


@needs_chromium
def test_closed_set_report_html_loads_cleanly_in_chromium(closed_set_report: Path) -> None:
    check = check_page(closed_set_report / "report.html")
    assert check.errors + check.console == []


@needs_chromium
def test_closed_set_report_html_images_load_in_chromium(closed_set_report: Path) -> None:
    check = check_page(closed_set_report / "report.html")
    assert [i["ok"] for i in check.images] == [True]


@needs_chromium
def test_open_set_report_html_images_load_in_chromium(open_set_report: Path) -> None:
    check = check_page(open_set_report / "report.html")
    assert [i["ok"] for i in check.images] == [True, True]


@needs_chromium
def test_report_html_screenshot(open_set_report: Path, tmp_path: Path) -> None:
    shot = screenshot_page(open_set_report / "report.html", tmp_path / "report.png")
    assert shot.stat().st_size > 10_000


def test_set_label_names_the_class_a_set_is_traced_to() -> None:
    from ncst.benchmark.plots import _set_label
    from ncst.benchmark.results import ProtocolResult
    from ncst.protocols import load_protocol

    result = ProtocolResult(protocol=load_protocol("id_robustness"), cells={}, counts={}, source="")
    assert [_set_label(result, s) for s in ("C3-1", "C4-3", "19LA")] == [
        "C3-1 -> FunCodec", "C4-3 -> EnCodec", "19LA -> real",
    ]  # fmt: skip
