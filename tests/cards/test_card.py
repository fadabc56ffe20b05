"""`write_html_card` and `ncst card`: the page, its links, pairs, warning and quality table."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from typer.testing import CliRunner

from ncst.cards import quality_markdown, write_html_card
from ncst.cli.main import app


def _sources(page: str) -> list[str]:
    return [unquote(s) for s in re.findall(r'<(?:audio|img)[^>]* src="([^"]+)"', page)]


def test_card_links_only_files_inside_the_folder(flat_build: Path) -> None:
    page = write_html_card(flat_build, quality_per_class=0).html.read_text(encoding="utf-8")
    missing = [s for s in _sources(page) if not (flat_build / s).is_file()]
    assert missing == []


def test_card_loads_nothing_from_the_network(flat_build: Path) -> None:
    page = write_html_card(flat_build, quality_per_class=0).html.read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []


def test_card_plays_the_real_source_beside_each_fake_of_a_flat_build(flat_build: Path) -> None:
    page = write_html_card(flat_build, quality_per_class=0).html.read_text(encoding="utf-8")
    sources = _sources(page)
    assert sum(s.startswith("DATASET_files/sources/") for s in sources) == sum(s.startswith("wav/") for s in sources)


def test_card_shows_the_same_utterances_in_every_class(recipe_root: Path) -> None:
    page = write_html_card(recipe_root, samples_per_class=2, quality_per_class=0).html.read_text(encoding="utf-8")
    fakes = [s for s in _sources(page) if "/encodec" in s or "/funcodec" in s]
    utts = {re.sub(r"^.*?_(p\d+_\d+)\.wav$", r"\1", s) for s in fakes}
    assert utts == {"p225_001", "p225_002"}


def test_card_pairs_a_fake_with_the_real_file_of_its_utterance(recipe_root: Path) -> None:
    page = write_html_card(recipe_root, quality_per_class=0).html.read_text(encoding="utf-8")
    row = re.search(r"<tr><td><code[^>]*>p226_003</code></td><td><audio[^>]*src=\"([^\"]+)\"", page)
    assert row is not None
    assert row.group(1) == "eval_id/p226_003.wav"


def test_card_warns_on_top_when_weights_were_random(recipe_root: Path) -> None:
    page = write_html_card(recipe_root, quality_per_class=0).html.read_text(encoding="utf-8")
    assert page.index('id="random-weights"') < page.index('id="overview"')


def test_card_has_no_warning_for_pretrained_weights(tmp_path: Path, make_recipe_root: Callable[..., Path]) -> None:
    root = make_recipe_root(tmp_path / "st", weights="pretrained")
    page = write_html_card(root, quality_per_class=0).html.read_text(encoding="utf-8")
    assert "random-weights" not in page


def test_card_draws_the_spectrogram_grid(recipe_root: Path) -> None:
    result = write_html_card(recipe_root, quality_per_class=0)
    assert result.figure is not None
    assert result.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quality_csv_has_one_row_per_fake_class_and_set(recipe_root: Path) -> None:
    result = write_html_card(recipe_root, quality_per_class=2)
    assert result.quality_csv is not None
    rows = list(csv.DictReader(result.quality_csv.open(encoding="utf-8")))
    assert [(r["set"], r["codec_spec"]) for r in rows] == [
        ("eval_id", "encodec@3kbps"), ("eval_id", "encodec@12kbps"),
        ("ID_diff_config/C3-2", "funcodec@6kbps"), ("ID_diff_config/C3-10", "funcodec@24kbps"),
    ]  # fmt: skip


def test_quality_sample_is_bounded_by_per_class(recipe_root: Path) -> None:
    result = write_html_card(recipe_root, quality_per_class=2)
    assert result.quality is not None
    assert max(r.measured for r in result.quality.rows) == 2


def test_quality_is_worse_for_the_noisier_class(recipe_root: Path) -> None:
    # encodec files carry noise of 0.08 RMS, funcodec files 0.06: SI-SDR must rank them.
    result = write_html_card(recipe_root, quality_per_class=3)
    assert result.quality is not None
    by_spec = {r.codec_spec: r.si_sdr_db for r in result.quality.rows}
    assert by_spec["encodec@3kbps"] < by_spec["funcodec@6kbps"]


def test_quality_reports_the_measured_bitrate_from_provenance(recipe_root: Path) -> None:
    result = write_html_card(recipe_root, quality_per_class=1)
    assert result.quality is not None
    assert {r.codec_spec: r.measured_bitrate_bps for r in result.quality.rows}["encodec@12kbps"] == 12000.0


def test_quality_markdown_has_a_row_per_fake_group(recipe_root: Path) -> None:
    result = write_html_card(recipe_root, quality_per_class=1)
    assert result.quality is not None
    lines = quality_markdown(result.quality).splitlines()
    assert sum(line.startswith("| ") for line in lines) == 1 + 4  # the header and one row per group


def test_card_cli_writes_the_page(flat_build: Path) -> None:
    result = CliRunner().invoke(app, ["card", str(flat_build), "--quality", "1"])
    assert result.exit_code == 0, result.output


def test_card_cli_exits_2_on_a_folder_that_is_no_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["card", str(tmp_path)])
    assert result.exit_code == 2


def test_card_after_build_logs_instead_of_raising(tmp_path: Path) -> None:
    from ncst.cards import card_after_build

    assert card_after_build(tmp_path) is None


def test_measure_dataset_quality_writes_no_page(recipe_root: Path) -> None:
    from ncst.cards import measure_dataset_quality

    table = measure_dataset_quality(recipe_root, per_class=1)
    assert [r.measured for r in table.rows] == [1, 1, 1, 1]
    assert not (recipe_root / "DATASET.html").exists()


def test_card_without_a_real_recording_says_not_found(recipe_root: Path) -> None:
    (recipe_root / "eval_id" / "p226_003.wav").unlink()  # its source path in provenance does not exist either
    page = write_html_card(recipe_root, quality_per_class=0).html.read_text(encoding="utf-8")
    assert re.search(r">p226_003</code></td><td>not found</td>", page) is not None


def test_quality_skips_a_file_without_a_real_recording(recipe_root: Path) -> None:
    (recipe_root / "eval_id" / "p226_003.wav").unlink()
    result = write_html_card(recipe_root, quality_per_class=3)
    assert result.quality is not None
    assert {r.codec_spec: r.measured for r in result.quality.rows}["encodec@3kbps"] == 2


def test_card_leaves_verify_clean(flat_build: Path) -> None:
    from ncst.build_dataset import verify_build

    write_html_card(flat_build, quality_per_class=1)
    assert verify_build(flat_build).problems() == {}


def test_card_puts_the_quality_table_into_dataset_md_once(tmp_path: Path) -> None:
    from ncst.build_dataset import BuildConfig, build
    from ncst.cards import write_html_card
    from ncst.testing import write_tiny_corpus

    out = tmp_path / "b"
    corpus = str(write_tiny_corpus(tmp_path / "c"))
    build(BuildConfig(codecs=("fakecodec",), corpus=corpus, out_dir=out, weights="random"))
    (out / "DATASET.md").write_text("# card\n", encoding="utf-8")
    write_html_card(out, quality_per_class=2)
    write_html_card(out, quality_per_class=2)
    assert (out / "DATASET.md").read_text(encoding="utf-8").count("## Quality per class") == 1
