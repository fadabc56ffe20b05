"""ASVspoof 2019 LA and In-the-Wild readers (the unseen-real sets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.corpora.asvspoof2019 import read_asvspoof2019_la
from ncst.corpora.fakes import write_asvspoof2019_la, write_in_the_wild
from ncst.corpora.in_the_wild import read_in_the_wild
from ncst.errors import CorpusLayoutError


def test_asvspoof2019_bonafide_from_cm_protocol(tmp_path: Path) -> None:
    write_asvspoof2019_la(tmp_path)
    utts = list(read_asvspoof2019_la(tmp_path))
    assert [u.utt_id for u in utts] == ["LA_E_1000001", "LA_E_1000003"]
    assert utts[0].speaker == "LA_0039"
    assert utts[0].extra["key"] == "bonafide"
    assert [u.extra["system"] for u in read_asvspoof2019_la(tmp_path, keys=("spoof",))] == ["A11"]


def test_asvspoof2019_errors(tmp_path: Path) -> None:
    root = write_asvspoof2019_la(tmp_path)
    proto = root / "ASVspoof2019_LA_cm_protocols" / "ASVspoof2019.LA.cm.eval.trl.txt"
    proto.write_text("LA_0039 LA_E_1000001 - bonafide\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match=r"eval.trl.txt:1: expected"):
        list(read_asvspoof2019_la(root))
    proto.write_text("LA_0039 LA_E_9 - - bonafide\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match="LA_E_9.flac does not exist"):
        list(read_asvspoof2019_la(root))
    with pytest.raises(CorpusLayoutError, match="dev.trl.txt"):
        list(read_asvspoof2019_la(root, part="dev"))


def test_in_the_wild_reads_csv_with_quoted_commas(tmp_path: Path) -> None:
    write_in_the_wild(tmp_path)
    utts = list(read_in_the_wild(tmp_path))
    assert [(u.utt_id, u.speaker) for u in utts] == [("1", "Biden, Joe"), ("2", "Alec Guinness")]
    assert len(list(read_in_the_wild(tmp_path, keys=("bona-fide", "spoof")))) == 3


def test_in_the_wild_errors(tmp_path: Path) -> None:
    root = write_in_the_wild(tmp_path)
    (root / "meta.csv").write_text("file,speaker,label\n0.wav,X,fake\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match=r"meta.csv:2: label 'fake'"):
        list(read_in_the_wild(root))
    (root / "meta.csv").write_text("file,label\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match="missing column"):
        list(read_in_the_wild(root))
