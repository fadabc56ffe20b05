"""Manifest CSV reading and writing, and the Utterance record."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ncst.corpora import Utterance, read_manifest, validate_utt_id, write_manifest
from ncst.corpora.base import MAX_FILE_PREFIX_BYTES, MAX_UTT_ID_BYTES
from ncst.errors import CorpusLayoutError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A 3-file fake corpus: wav/a.wav, wav/b.wav and c.wav outside `wav/` (files are empty)."""
    (tmp_path / "wav").mkdir()
    for name in ("wav/a.wav", "wav/b.wav", "c.wav"):
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_read_manifest_resolves_relative_paths(corpus_dir: Path) -> None:
    manifest = _write(
        corpus_dir / "wav" / "manifest.csv",
        "utt_id,path,speaker,language,text\n"
        "a_1,a.wav,spk1,en,hello there\n"
        "b_1,./b.wav,spk2,,\n"
        'c_1,../c.wav,,zh,"你好，世界"\n',
    )
    utts = read_manifest(manifest)
    assert [u.utt_id for u in utts] == ["a_1", "b_1", "c_1"]
    assert utts[0].path == corpus_dir / "wav" / "a.wav"
    assert utts[1].path == corpus_dir / "wav" / "b.wav"
    assert utts[2].path == corpus_dir / "c.wav"
    assert all(u.path.is_absolute() and u.path.is_file() for u in utts)
    assert utts[0].speaker == "spk1"
    assert utts[0].text == "hello there"
    assert utts[1].language is None
    assert utts[1].text is None
    assert utts[2].speaker is None
    assert utts[2].text == "你好，世界"
    assert all(u.corpus == "" for u in utts)


def test_read_manifest_keeps_absolute_paths_and_extra_columns(tmp_path: Path, corpus_dir: Path) -> None:
    audio = corpus_dir / "c.wav"
    manifest = _write(tmp_path / "m.csv", f"utt_id,path,corpus,pinyin,gender\nc_1,{audio},mine,ni3 hao3,\n")
    (utt,) = read_manifest(manifest)
    assert utt.path == audio
    assert utt.corpus == "mine"
    assert dict(utt.extra) == {"pinyin": "ni3 hao3"}  # empty cells are left out


def test_read_manifest_keeps_leading_zeros_and_na_like_text(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", "utt_id,path,speaker,text\n001,a.wav,NA,None\n")
    (utt,) = read_manifest(manifest)
    assert utt.utt_id == "001"
    assert utt.speaker == "NA"
    assert utt.text == "None"


def test_read_manifest_missing_audio_warns_not_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manifest = _write(tmp_path / "m.csv", "utt_id,path\nx_1,nowhere.wav\nx_2,gone.wav\n")
    with caplog.at_level(logging.WARNING, logger="ncst.corpora.manifest"):
        utts = read_manifest(manifest)
    assert len(utts) == 2
    assert "2 of 2 audio files do not exist" in caplog.text


def test_read_manifest_missing_column_lists_found_columns(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", "id,file,speaker\nx,a.wav,s\n")
    with pytest.raises(CorpusLayoutError) as info:
        read_manifest(manifest)
    message = str(info.value)
    assert str(manifest) in message
    assert "line 1" in message
    assert "['utt_id', 'path']" in message
    assert "['id', 'file', 'speaker']" in message


def test_read_manifest_duplicate_id_names_line(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", "utt_id,path\nx_1,a.wav\nx_2,b.wav\nx_1,c.wav\n")
    with pytest.raises(CorpusLayoutError, match=r"m\.csv: line 4: duplicate utt_id 'x_1'"):
        read_manifest(manifest)


def test_read_manifest_line_numbers_count_multiline_fields(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", 'utt_id,path,text\nx_1,a.wav,"two\nlines"\nbad id,b.wav,t\n')
    with pytest.raises(CorpusLayoutError, match=r"line 4: unsafe utterance id 'bad id'"):
        read_manifest(manifest)


@pytest.mark.parametrize("bad_id", ["a/b", "a\\b", ".hidden", "tab\tid", " lead"])
def test_read_manifest_unsafe_id_raises(tmp_path: Path, bad_id: str) -> None:
    manifest = _write(tmp_path / "m.csv", f'utt_id,path\nok_1,a.wav\n"{bad_id}",b.wav\n')
    with pytest.raises(CorpusLayoutError, match=r"m\.csv: line 3: .*unsafe utterance id"):
        read_manifest(manifest)


def test_read_manifest_empty_id_or_path_raises(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match=r"line 2: utterance id is empty"):
        read_manifest(_write(tmp_path / "a.csv", "utt_id,path\n,a.wav\n"))
    with pytest.raises(CorpusLayoutError, match=r"line 3: empty path for utt_id 'x_2'"):
        read_manifest(_write(tmp_path / "b.csv", "utt_id,path\nx_1,a.wav\nx_2,  \n"))


def test_read_manifest_bad_csv_raises(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", "utt_id,path\nx_1,a.wav\nx_2,b.wav,extra,fields\n")
    with pytest.raises(CorpusLayoutError, match=r"m\.csv: line 3: 4 fields, but the header has 2"):
        read_manifest(manifest)


def test_read_manifest_not_utf8_or_empty_or_missing_raises(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("utt_id,path,text\nx_1,a.wav,caf\xe9\n".encode("latin-1"))
    with pytest.raises(CorpusLayoutError, match=r"latin\.csv: line 2: not a valid UTF-8 CSV manifest \(byte 0xe9\)"):
        read_manifest(latin)
    with pytest.raises(CorpusLayoutError, match=r"empty\.csv: empty manifest"):
        read_manifest(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(CorpusLayoutError, match="manifest not found"):
        read_manifest(tmp_path / "nope.csv")


def test_write_read_round_trip(corpus_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / "elsewhere.wav"
    utts = [
        Utterance("a_1", corpus_dir / "wav" / "a.wav", speaker="s1", corpus="mine", language="en", text='a, "b"'),
        Utterance("c_1", corpus_dir / "c.wav", language="zh", text="你好\n世界", extra={"pinyin": "ni3 hao3"}),
        Utterance("e_1", outside, extra={"note": "x", "pinyin": "y"}),
    ]
    manifest = write_manifest(utts, corpus_dir / "manifest.csv")
    assert manifest == corpus_dir / "manifest.csv"
    header, first = manifest.read_text(encoding="utf-8").splitlines()[:2]
    assert header == "utt_id,path,speaker,corpus,language,text,pinyin,note"
    assert first.startswith("a_1,wav/a.wav,")  # relative inside the folder
    assert str(outside) in manifest.read_text(encoding="utf-8")  # absolute outside it
    assert read_manifest(manifest) == utts
    assert not list(corpus_dir.glob("*.tmp"))


def test_write_manifest_rejects_duplicates_and_keeps_old_file(tmp_path: Path) -> None:
    dest = _write(tmp_path / "m.csv", "old")
    utts = [Utterance("x", tmp_path / "a.wav"), Utterance("x", tmp_path / "b.wav")]
    with pytest.raises(CorpusLayoutError, match="duplicate utt_id 'x'"):
        write_manifest(utts, dest)
    assert dest.read_text(encoding="utf-8") == "old"


def test_utterance_dict_round_trip(tmp_path: Path) -> None:
    utt = Utterance("p225_001", tmp_path / "p225_001.wav", speaker="p225", corpus="vctk", extra={"k": 1})
    data = utt.to_dict()
    assert data["path"] == str(tmp_path / "p225_001.wav")
    assert Utterance.from_dict(data) == utt


def test_utterance_is_hashable_despite_extra(tmp_path: Path) -> None:
    a = Utterance("x", tmp_path / "a.wav", extra={"k": "v"})
    b = Utterance("x", tmp_path / "a.wav", extra={"k": "v"})
    assert a == b
    assert len({a, b}) == 1
    assert a != Utterance("x", tmp_path / "a.wav", extra={"k": "w"})


def test_utterance_rejects_relative_path_and_unsafe_id(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="relative"):
        Utterance("x", Path("a.wav"))
    with pytest.raises(CorpusLayoutError, match="unsafe"):
        Utterance("../x", tmp_path / "a.wav")
    with pytest.raises(CorpusLayoutError, match="unknown fields"):
        Utterance.from_dict({"utt_id": "x", "path": str(tmp_path), "bogus": 1})


@pytest.mark.parametrize("good", ["p225_001", "SSB00050001", "R-ZH_3_14_d501", "demo_en_001", "a.b"])
def test_validate_utt_id_accepts_corpus_ids(good: str) -> None:
    assert validate_utt_id(good) == good


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "a\\b", ".x", "a\nb", 5])
def test_validate_utt_id_rejects(bad: object) -> None:
    with pytest.raises(CorpusLayoutError):
        validate_utt_id(bad)


def test_read_manifest_row_with_more_fields_than_header_names_line(tmp_path: Path) -> None:
    # pandas would take utt_id as the index and shift every field by one
    manifest = _write(tmp_path / "m.csv", "utt_id,path\nx_1,a.wav,spk1\nx_2,b.wav,spk2\n")
    with pytest.raises(CorpusLayoutError, match=r"m\.csv: line 2: 3 fields, but the header has 2 \(utt_id,path\)"):
        read_manifest(manifest)


def test_read_manifest_row_with_fewer_fields_than_header_names_line(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "m.csv", "utt_id,path,speaker\nx_1,a.wav,s\n\nx_2,b.wav\n")
    with pytest.raises(CorpusLayoutError, match=r"m\.csv: line 4: 2 fields, but the header has 3"):
        read_manifest(manifest)


def test_read_manifest_not_utf8_names_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("utt_id,path,text\nx_1,a.wav,ok\nx_2,b.wav,caf\xe9\n".encode("latin-1"))
    with pytest.raises(CorpusLayoutError, match=r"latin\.csv: line 3: not a valid UTF-8"):
        read_manifest(latin)


def test_read_manifest_too_long_id_names_line(tmp_path: Path) -> None:
    long_id = "a" * 300
    manifest = _write(tmp_path / "m.csv", f"utt_id,path\nx_1,a.wav\n{long_id},b.wav\n")
    with pytest.raises(CorpusLayoutError, match=rf"line 3: utterance id .* is 300 bytes long .* {MAX_UTT_ID_BYTES}"):
        read_manifest(manifest)
    # the longest accepted id still gives a temp file name that fits 255 bytes with a 32-byte prefix
    ok = "b" * MAX_UTT_ID_BYTES
    assert validate_utt_id(ok) == ok
    longest = f".{'p' * (MAX_FILE_PREFIX_BYTES - 1)}_{ok}.wav.4194304-0123abcd.tmp"
    assert len(longest.encode()) == 255
    (tmp_path / longest).write_bytes(b"")  # the file system accepts it
    with pytest.raises(CorpusLayoutError, match="bytes long"):
        validate_utt_id("\u00e9" * (MAX_UTT_ID_BYTES // 2 + 1))  # two bytes per character


@pytest.mark.parametrize("control", ["\x1b", "\x07", "\x7f", "\x9b"])
def test_read_manifest_control_character_in_id_names_line(tmp_path: Path, control: str) -> None:
    manifest = _write(tmp_path / "m.csv", f"utt_id,path\nx_1,a.wav\nx{control}[31m,b.wav\n")
    with pytest.raises(
        CorpusLayoutError, match=rf"line 3: unsafe utterance id .*control character U\+{ord(control):04X}"
    ):
        read_manifest(manifest)


def test_read_manifest_directory_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="is a directory, not a CSV file"):
        read_manifest(tmp_path)
