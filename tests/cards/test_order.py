"""Natural order of variants and sets."""

from __future__ import annotations

from ncst.cards.order import natural_key, set_key


def test_natural_key_orders_bitrates_by_value() -> None:
    specs = ["encodec@12kbps", "encodec@24kbps", "encodec@3kbps", "encodec@6kbps", "encodec@1.5kbps"]
    assert sorted(specs, key=natural_key) == [
        "encodec@1.5kbps", "encodec@3kbps", "encodec@6kbps", "encodec@12kbps", "encodec@24kbps",
    ]  # fmt: skip


def test_natural_key_orders_config_folders_by_number() -> None:
    assert sorted(["C3-10", "C3-2", "C4-1", "C3-1"], key=natural_key) == ["C3-1", "C3-2", "C3-10", "C4-1"]


def test_set_key_puts_the_main_sets_first() -> None:
    folders = ["ID_diff_config/C3-1", "eval_id", "dev", "train", "ALM/moshi"]
    assert sorted(folders, key=set_key) == ["train", "dev", "eval_id", "ALM/moshi", "ID_diff_config/C3-1"]
