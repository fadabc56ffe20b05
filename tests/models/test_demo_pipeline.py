"""The demo's pieces on tiny data: clips, codec choice, the official layout, and the whole run with fake codecs."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

import ncst.models.demo as demo
from ncst.codecs import get_card
from ncst.models.data import list_sets, read_set

SIZES = {"train": 2, "dev": 1, "eval": 1, "ncssd": 1}


def test_make_clips_deals_disjoint_one_second_clips(tmp_path: Path) -> None:
    splits = demo.make_clips(tmp_path, 1.0, SIZES, seed=0)
    assert {k: len(v) for k, v in splits.items()} == SIZES
    ids = [u.utt_id for clips in splits.values() for u in clips]
    assert len(set(ids)) == len(ids)
    audio, rate = sf.read(splits["train"][0].path)
    assert rate == 16_000
    assert len(audio) == 16_000


def test_choose_codecs_gives_each_role_its_class() -> None:
    roles, missing = demo.choose_codecs()
    for role, spec in roles.items():
        card = get_card(spec)
        if role.startswith("id"):
            assert card.class_id == int(role[2:])
        elif role == "ood7":
            assert card.class_id == 7
        elif role == "ood8-11":
            assert card.class_id is not None
            assert 8 <= card.class_id <= 11
        else:
            assert card.file_prefix == role
    assert all(isinstance(m, str) for m in missing)
    assert len(roles) + len(missing) >= 16


def test_run_demo_writes_the_layout_and_one_report(tmp_path: Path, stub_build: None) -> None:
    cfg = demo.DemoConfig(
        out_dir=tmp_path / "demo",
        clip_s=0.5,
        epochs=1,
        batch_size=8,
        n_bootstrap=0,
        split_sizes=SIZES,
        model_config={"n_samples": 4000},
    )
    result = demo.run_demo(cfg)
    roles, _ = demo.choose_codecs()
    sets = {s.name for s in list_sets(result.data_dir)}
    assert {"train", "dev", "eval_id", "19LA", "ITW", "NCSSD", "moshi", "miniomni", "valle"} <= sets
    n_id = 1 + sum(r.startswith("id") for r in roles)
    assert len(read_set(result.data_dir, "train")) == 2 * n_id
    assert {it.label for it in read_set(result.data_dir, "moshi")} == {1}
    text = result.report.read_text()
    assert "not the paper" in text or "nothing about the paper" in text
    for name in ("id_closed_set", "id_robustness", "ood_open_set", "alm_backend"):
        assert f"protocols/{name}/report.md" in text
        assert result.protocol_reports[name].is_file()
    assert "Table 3" in text
    assert "Table 5" in text
    assert "![" in text


def test_run_demo_writes_the_card_and_links_report_pages(tmp_path: Path, stub_build: None) -> None:
    cfg = demo.DemoConfig(
        out_dir=tmp_path / "demo", clip_s=0.5, epochs=1, batch_size=8, n_bootstrap=0, split_sizes=SIZES,
        model_config={"n_samples": 4000},
    )  # fmt: skip
    result = demo.run_demo(cfg)
    text = result.report.read_text()
    assert (result.data_dir / "DATASET.html").is_file()
    assert (result.data_dir / "quality.csv").is_file()
    assert "DATASET.html" in text
    assert "protocols/id_closed_set/report.html" in text
    assert (result.protocol_reports["id_closed_set"].parent / "report.html").is_file()
