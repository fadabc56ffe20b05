from __future__ import annotations

from pathlib import Path

import pytest

from ncst.corpora.fakes import write_vctk_080, write_vctk_092
from ncst.corpora.vctk import find_vctk_root, read_vctk
from ncst.errors import CorpusLayoutError


def test_read_vctk_092_mic1_ids_without_suffix(tmp_path: Path) -> None:
    root = write_vctk_092(tmp_path)
    utts = list(read_vctk(tmp_path))  # root found one level down by speaker-info.txt
    assert [u.utt_id for u in utts] == [f"{s}_{k:03d}" for s in ("p225", "p315") for k in range(1, 5)]
    assert all(u.path.name.endswith("_mic1.flac") and u.path.parent.parent.parent == root for u in utts)
    assert utts[0].speaker == "p225"
    assert utts[0].text == "Sentence 1 of p225."
    assert utts[0].extra["version"] == "0.92"
    assert utts[-1].text is None  # p315 has no transcripts
    assert {u.extra["gender"] for u in utts} == {"F"}


def test_read_vctk_mic2_and_bad_mic(tmp_path: Path) -> None:
    write_vctk_092(tmp_path)
    assert all(u.path.name.endswith("_mic2.flac") for u in read_vctk(tmp_path, mic="mic2"))
    with pytest.raises(CorpusLayoutError, match="mic3"):
        list(read_vctk(tmp_path, mic="mic3"))


def test_read_vctk_080(tmp_path: Path) -> None:
    write_vctk_080(tmp_path)
    utts = list(read_vctk(tmp_path / "VCTK-Corpus"))
    assert [u.utt_id for u in utts] == ["p225_001", "p225_002", "p226_001", "p226_002"]
    assert utts[0].extra["version"] == "0.80"
    assert utts[0].extra["gender"] == "F"


def test_vctk_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="speaker-info.txt"):
        find_vctk_root(tmp_path)
    root = write_vctk_092(tmp_path / "a")
    (root / "speaker-info.txt").write_text("ID AGE GENDER\np225 23\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match=r"speaker-info.txt:2: expected"):
        list(read_vctk(root))
    bare = tmp_path / "b"
    bare.mkdir()
    (bare / "speaker-info.txt").write_text("ID AGE GENDER\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match="wav48_silence_trimmed"):
        list(read_vctk(bare))
