from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from ncst.corpora.aishell3 import read_aishell3
from ncst.corpora.fakes import write_aishell3
from ncst.errors import CorpusLayoutError


def test_read_aishell3_train_and_test(tmp_path: Path) -> None:
    write_aishell3(tmp_path)
    utts = list(read_aishell3(tmp_path))
    assert len(utts) == 8
    assert {u.extra["part"] for u in utts} == {"train", "test"}
    first = utts[0]
    assert first.utt_id == "SSB00050001"
    assert first.speaker == "SSB0005"
    assert first.language == "zh"
    assert first.text == "广州"
    assert first.extra["sample_rate_hz"] == 44100
    assert first.extra["gender"] == "female"


def test_read_aishell3_reports_real_rate(tmp_path: Path) -> None:
    write_aishell3(tmp_path, {"train": {"SSB0005": 1}}, rate=16000)
    (utt,) = read_aishell3(tmp_path, parts=("train",))
    assert utt.extra["sample_rate_hz"] == 16000 == sf.info(str(utt.path)).samplerate


def test_aishell3_errors(tmp_path: Path) -> None:
    root = write_aishell3(tmp_path)
    with pytest.raises(CorpusLayoutError, match=r"unknown AISHELL-3 parts \['dev'\]"):
        list(read_aishell3(root, parts=("dev",)))
    with pytest.raises(CorpusLayoutError, match="part 'test' missing"):
        write_aishell3(tmp_path / "x", {"train": {"SSB0005": 1}})
        list(read_aishell3(tmp_path / "x"))
    (root / "train" / "content.txt").write_text("SSB00050001.wav 广 guang3\n", encoding="utf-8")
    with pytest.raises(CorpusLayoutError, match=r"content.txt:1: expected"):
        list(read_aishell3(root))
    (root / "train" / "content.txt").unlink()
    bad = root / "train" / "wav" / "SSB0005" / "SSB0009.wav"
    bad.write_bytes(b"x")
    with pytest.raises(CorpusLayoutError, match="SSB' \\+ 8 digits"):
        list(read_aishell3(root))
    with pytest.raises(CorpusLayoutError, match="no train/wav"):
        list(read_aishell3(tmp_path / "data_aishell3" / "train"))
