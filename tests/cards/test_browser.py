"""DATASET.html in headless Chromium: no script or console errors, every player and image loads.

Skipped only where no Chromium is on PATH (`.ci/run` installs it; `apt-get install -y chromium`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.cards import write_html_card
from ncst.cards.browser import check_page, find_chromium, screenshot_page

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no chromium on PATH (apt-get install -y chromium)")

_BROKEN = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<audio controls src="missing.wav"></audio><img src="missing.png"><script>undefinedFunction();</script>
</body></html>"""


def test_check_page_reports_a_failed_player_image_and_script_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(_BROKEN, encoding="utf-8")
    check = check_page(page)
    assert [m["ok"] for m in check.media] + [i["ok"] for i in check.images] == [False, False]
    assert any("undefinedFunction" in e for e in check.errors)


def test_dataset_html_has_no_errors_in_chromium(recipe_root: Path) -> None:
    check = check_page(write_html_card(recipe_root, quality_per_class=1).html)
    assert check.errors == []


def test_dataset_html_has_no_console_messages_in_chromium(recipe_root: Path) -> None:
    check = check_page(write_html_card(recipe_root, quality_per_class=1).html)
    assert check.console == []


def test_dataset_html_players_all_load_in_chromium(flat_build: Path) -> None:
    check = check_page(write_html_card(flat_build, quality_per_class=0).html)
    assert [m["src"] for m in check.media if not m["ok"]] == []


def test_dataset_html_has_players_for_real_and_fake(flat_build: Path) -> None:
    check = check_page(write_html_card(flat_build, quality_per_class=0).html)
    assert len(check.media) == 2 * 2 * 3  # 2 codecs x 3 utterances x (real, fake)


def test_dataset_html_images_all_load_in_chromium(recipe_root: Path) -> None:
    check = check_page(write_html_card(recipe_root, quality_per_class=0).html)
    assert [i["ok"] for i in check.images] == [True]


def test_dataset_html_screenshot(recipe_root: Path, tmp_path: Path) -> None:
    shot = screenshot_page(write_html_card(recipe_root, quality_per_class=1).html, tmp_path / "card.png")
    assert shot.stat().st_size > 10_000
