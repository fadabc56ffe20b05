"""`--predictions` reads the published result layout and the flat one the official scripts write."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ncst.benchmark import run_protocol, score_protocol
from ncst.benchmark.predictions import (
    PUBLISHED_LAYOUT,
    SCRIPTS_LAYOUT,
    result_layout,
    result_path,
    script_result_file,
)
from ncst.protocols import load_protocol

#: Every file the official source-tracing scripts write into their result/ folder for Tables 4 and 6.
SCRIPT_FILES = [
    "result_unseenreal_19.txt",
    "result_unseenreal_itw.txt",
    "result_unseenreal_ncssd.txt",
    *(f"result_C{c}.txt" for c in ("3-1", "3-2", "3-3", "3-4", "4-1", "4-2", "4-3")),
    "result_ncssd_mimi.txt",
    "result_ncssd_snac.txt",
    "alm/moshi.txt",
    "alm/miniomni.txt",
    "alm/speechgpt.txt",
    "alm/valle.txt",
]


def _write_layout(root: Path, *, scripts: bool) -> None:
    """Writes every result file of id_robustness and alm_backend, 3 of 4 files right per set."""
    for spec in load_protocol("id_robustness").sets + load_protocol("alm_backend").sets:
        assert spec.label is not None
        preds = [spec.label] * 3 + [(spec.label + 1) % 7]
        rel = script_result_file(spec.result_file) if scripts else spec.result_file
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"x_{i}.wav {p} 0.8\n" for i, p in enumerate(preds)))


def test_script_result_file_maps_every_published_name_to_the_scripts_name() -> None:
    sets = load_protocol("id_robustness").sets + load_protocol("alm_backend").sets
    assert sorted(script_result_file(s.result_file) for s in sets) == sorted(SCRIPT_FILES)


@pytest.mark.parametrize("protocol", ["id_robustness", "alm_backend"])
def test_score_protocol_reads_the_official_scripts_layout_like_the_published_one(tmp_path: Path, protocol: str) -> None:
    _write_layout(tmp_path / "published", scripts=False)
    _write_layout(tmp_path / "scripts", scripts=True)
    published = score_protocol(protocol, predictions_dir=tmp_path / "published", n_bootstrap=0)
    scripts = score_protocol(protocol, predictions_dir=tmp_path / "scripts", n_bootstrap=0)
    assert scripts.cells == published.cells
    assert scripts.settings["predictions_layout"] == SCRIPTS_LAYOUT
    assert published.settings["predictions_layout"] == PUBLISHED_LAYOUT


def test_result_layout_names_a_folder_with_both_layouts_mixed(tmp_path: Path) -> None:
    _write_layout(tmp_path, scripts=False)
    shutil.move(tmp_path / "id_diff_config" / "result_C3-1.txt", tmp_path / "result_C3-1.txt")
    rels = [s.result_file for s in load_protocol("id_robustness").sets]
    assert result_layout(tmp_path, rels) == "mixed"


def test_run_protocol_report_records_layout_and_skip_missing(tmp_path: Path) -> None:
    _write_layout(tmp_path / "result", scripts=True)
    (tmp_path / "result" / "alm" / "valle.txt").unlink()
    out = tmp_path / "out"
    run_protocol("alm_backend", out, predictions_dir=tmp_path / "result", n_bootstrap=0, skip_missing=True)
    payload = json.loads((out / "report.json").read_text())
    assert payload["settings"]["predictions_layout"] == SCRIPTS_LAYOUT
    assert payload["settings"]["skip_missing"] is True
    assert payload["settings"]["skipped"] == ["VALL-E"]
    assert "- predictions_layout: official scripts" in (out / "report.md").read_text()


def test_report_json_records_skip_missing_false_when_not_given(tmp_path: Path) -> None:
    _write_layout(tmp_path / "result", scripts=False)
    res = score_protocol("alm_backend", predictions_dir=tmp_path / "result", n_bootstrap=0)
    assert res.settings["skip_missing"] is False
    assert res.settings["skipped"] == []


def test_published_w2v2_results_flattened_as_the_scripts_write_them_score_the_same(tmp_path: Path) -> None:
    """The real published W2V2-AASIST results, copied into the official scripts' flat layout (skipped when the
    reference files are absent; see test_published.py for where they live)."""
    shared = os.environ.get("NCST_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    published = base / "reference" / "st-codecfake-published" / "W2V2-AASIST"
    if not (published / "id_diff_config").is_dir():
        pytest.skip(f"{published} is absent")
    flat = tmp_path / "result"
    for protocol in ("id_robustness", "alm_backend"):
        for spec in load_protocol(protocol).sets:
            target = flat / script_result_file(spec.result_file)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(result_path(published, spec.result_file), target)
    for protocol in ("id_robustness", "alm_backend"):
        ours = score_protocol(protocol, predictions_dir=flat, n_bootstrap=0)
        theirs = score_protocol(protocol, predictions_dir=published, n_bootstrap=0)
        assert ours.cells == theirs.cells
        assert (ours.settings["predictions_layout"], theirs.settings["predictions_layout"]) == (
            SCRIPTS_LAYOUT,
            PUBLISHED_LAYOUT,
        )
