"""The bundled demo corpus: real speech, both languages, small, readable, attributed."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from ncst.audio import read_audio, validate_audio
from ncst.corpora import DEMO_CORPUS, demo_data_dir, demo_manifest_path, load_corpus, read_demo
from ncst.errors import CorpusLayoutError

MAX_TOTAL_BYTES = 2_000_000


@pytest.fixture(scope="module")
def demo() -> list:
    return read_demo()


def test_demo_manifest_path_is_packaged_csv() -> None:
    path = demo_manifest_path()
    assert path.is_file()
    assert path.name == "manifest.csv"
    assert path.parent == demo_data_dir()


def test_read_demo_loads_both_languages(demo) -> None:
    assert len(demo) >= 10
    languages = {u.language for u in demo}
    assert languages == {"en", "zh"}
    assert sum(u.language == "en" for u in demo) >= 6
    assert sum(u.language == "zh" for u in demo) >= 4
    assert all(u.corpus == "demo" for u in demo)
    assert all(u.text and u.speaker for u in demo)
    assert len({u.utt_id for u in demo}) == len(demo)


def test_demo_ids_never_look_like_real_corpus_ids(demo) -> None:
    for utt in demo:
        assert utt.utt_id.startswith(f"demo_{utt.language}_"), utt.utt_id
        assert utt.speaker.startswith("demo_")


def test_demo_mandarin_has_pinyin(demo) -> None:
    for utt in demo:
        if utt.language == "zh":
            n_hanzi = sum("\u4e00" <= ch <= "\u9fff" for ch in utt.text)
            assert len(utt.extra["pinyin"].split()) == n_hanzi, utt.utt_id


def test_demo_files_are_valid_mono_audio(demo) -> None:
    for utt in demo:
        assert utt.path.is_absolute(), utt.path
        assert utt.path.is_file(), utt.path
        info = sf.info(str(utt.path))
        assert info.channels == 1, utt.path
        assert info.format == "FLAC", utt.path
        assert info.subtype == "PCM_16", utt.path
        audio, rate = read_audio(utt.path)
        assert rate == 16000
        duration_s = len(audio) / rate
        assert 1.0 <= duration_s <= 6.0, (utt.utt_id, duration_s)
        assert abs(duration_s - float(utt.extra["duration_s"])) < 1e-3
        validate_audio(audio, rate, name=str(utt.path))
        assert float(abs(audio).max()) > 0.1, f"{utt.utt_id} is nearly silent"


def test_demo_total_size_is_small() -> None:
    total = sum(f.stat().st_size for f in demo_data_dir().rglob("*") if f.is_file())
    assert total <= MAX_TOTAL_BYTES, f"demo data is {total} bytes"


def test_demo_attribution_mentions_every_file(demo) -> None:
    attribution = (demo_data_dir() / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for utt in demo:
        assert utt.path.name in attribution, utt.path.name
    for licence in ("CC BY 3.0", "BSD-2", "Carnegie Mellon University", "public domain"):
        assert licence.lower() in attribution.lower()


def test_demo_folder_has_no_unlisted_audio(demo) -> None:
    listed = {u.path.name for u in demo}
    on_disk = {p.name for p in demo_data_dir().iterdir() if p.suffix in {".flac", ".wav", ".ogg"}}
    assert on_disk == listed


def test_load_corpus_demo_equals_read_demo(demo) -> None:
    assert load_corpus(DEMO_CORPUS) == demo


def test_load_corpus_csv_path(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "m.csv").write_text("utt_id,path\nx_1,a.wav\n", encoding="utf-8")
    utts = load_corpus(tmp_path / "m.csv")
    assert [u.utt_id for u in utts] == ["x_1"]
    assert load_corpus(str(tmp_path / "m.csv")) == utts


@pytest.mark.parametrize("bad", ["vctk", "Demo", "corpus.txt"])
def test_load_corpus_unknown_raises_with_choices(bad: str) -> None:
    with pytest.raises(CorpusLayoutError, match=r"accepted: 'demo'.*\.csv"):
        load_corpus(bad)


def test_load_corpus_folder_hints_at_manifest(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="a folder"):
        load_corpus(tmp_path)
