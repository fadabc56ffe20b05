"""`ncst ingest` leaves what the official loaders read: bona fide unseen-real files with their corpus's own
protocol / meta file, and Mini-Omni in `ALM/mini-omni/A1-A2`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.corpora.fakes import write_asvspoof2019_la, write_in_the_wild
from ncst.recipes.ingest import IngestError, ingest
from ncst.verify import verify


def test_ingest_19la_takes_bona_fide_and_keeps_the_cm_protocol(tmp_path: Path) -> None:
    la = write_asvspoof2019_la(tmp_path / "asv")
    root = tmp_path / "st"
    ingest(tmp_path / "asv", root, "ID_unseen_real/19LA", 0, corpus="asvspoof2019")
    assert sorted(p.name for p in (root / "ID_unseen_real" / "19LA").iterdir()) == [
        "LA_E_1000001.flac",
        "LA_E_1000003.flac",
    ]
    kept = root / "ID_unseen_real" / "19LA_protocol" / "ASVspoof2019.LA.cm.eval.trl.txt"
    original = la / "ASVspoof2019_LA_cm_protocols" / "ASVspoof2019.LA.cm.eval.trl.txt"
    assert kept.read_bytes() == original.read_bytes()
    assert verify(root).ok


def test_ingest_itw_takes_bona_fide_and_keeps_meta_csv(tmp_path: Path) -> None:
    itw = write_in_the_wild(tmp_path / "itw")
    root = tmp_path / "st"
    ingest(itw, root, "ID_unseen_real/ITW", 0, corpus="in_the_wild")
    assert sorted(p.name for p in (root / "ID_unseen_real" / "ITW").iterdir()) == ["1.wav", "2.wav"]
    assert (root / "ID_unseen_real" / "ITW_protocol" / "meta.csv").read_bytes() == (itw / "meta.csv").read_bytes()


def test_ingest_rerun_keeps_the_protocol_and_refuses_another_one(tmp_path: Path) -> None:
    write_asvspoof2019_la(tmp_path / "asv")
    root = tmp_path / "st"
    ingest(tmp_path / "asv", root, "ID_unseen_real/19LA", 0, corpus="asvspoof2019")
    again = ingest(tmp_path / "asv", root, "ID_unseen_real/19LA", 0, corpus="asvspoof2019")
    assert again.skipped == 2
    kept = root / "ID_unseen_real" / "19LA_protocol" / "ASVspoof2019.LA.cm.eval.trl.txt"
    kept.write_text("LA_0039 LA_E_9 - - bonafide\n")
    with pytest.raises(IngestError, match="not a copy"):
        ingest(tmp_path / "asv", root, "ID_unseen_real/19LA", 0, corpus="asvspoof2019")


@pytest.mark.parametrize("folder", ["ID_unseen_real/19LA", "ID_unseen_real/ITW"])
def test_ingest_refuses_a_plain_folder_into_a_mixed_corpus_set(tmp_path: Path, folder: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    sf.write(src / "LA_E_1000002.flac", np.zeros(800, dtype=np.float32), 16000, format="FLAC")
    with pytest.raises(IngestError, match="--corpus"):
        ingest(src, tmp_path / "st", folder, 0)
    assert not (tmp_path / "st").exists()


def test_ingest_writes_mini_omni_where_the_official_config_reads_it(tmp_path: Path) -> None:
    src = tmp_path / "mini"
    src.mkdir()
    sf.write(src / "a.wav", np.full(800, 0.1, dtype=np.float32), 16000)
    root = tmp_path / "st"
    result = ingest(src, root, "ALM/mini-omni", 6)
    assert result.folder == "ALM/mini-omni/A1-A2"
    assert (root / "ALM" / "mini-omni" / "A1-A2" / "a.wav").is_file()
    assert (root / "label" / "ALM-mini-omni-A1-A2.txt").read_text() == "a.wav fake 6\n"
