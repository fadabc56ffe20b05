from __future__ import annotations

from pathlib import Path

import pytest

from ncst.corpora.fakes import write_ncssd
from ncst.corpora.ncssd import flat_ncssd_id, read_ncssd
from ncst.errors import CorpusLayoutError


def test_read_ncssd_flattens_names_and_keeps_r_subsets(tmp_path: Path) -> None:
    write_ncssd(tmp_path)
    utts = list(read_ncssd(tmp_path))
    ids = [u.utt_id for u in utts]
    assert ids == sorted(ids)
    assert len(ids) == 6
    assert "R-ZH_1_3_d101" in ids
    assert not any(i.startswith("C-") for i in ids)
    utt = next(u for u in utts if u.utt_id == "R-EN_0_0_d100")
    assert utt.language == "en"
    assert utt.speaker == "R-EN_0"
    assert utt.text == "turn 0"
    assert utt.extra == {"subset": "R-EN", "dialogue": 100, "turn": 0}


def test_read_ncssd_accepts_flat_files(tmp_path: Path) -> None:
    src = write_ncssd(tmp_path / "a")
    flat = tmp_path / "flat"
    flat.mkdir()
    wav = next((src / "R-ZH").rglob("*.wav"))
    (flat / "R-ZH_3_14_d501.wav").write_bytes(wav.read_bytes())
    assert [u.utt_id for u in read_ncssd(flat)] == ["R-ZH_3_14_d501"]
    assert flat_ncssd_id("R-EN", "4_0_d161") == "R-EN_4_0_d161"


def test_ncssd_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="not found"):
        list(read_ncssd(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusLayoutError, match="no NCSSD audio"):
        list(read_ncssd(tmp_path / "empty"))
    with pytest.raises(CorpusLayoutError, match="unknown NCSSD subsets"):
        list(read_ncssd(tmp_path, subsets=("X-EN",)))
    with pytest.raises(CorpusLayoutError, match="turn"):
        flat_ncssd_id("R-EN", "hello")
