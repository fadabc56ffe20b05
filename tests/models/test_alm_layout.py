"""ALM sets in the official layout: `ALM/` in either letter case, Mini-Omni under `ALM/mini-omni/A1-A2/`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.errors import CorpusLayoutError
from ncst.models.data import list_sets, read_set


def _wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(160, np.float32), 16000)


@pytest.mark.parametrize("alm", ["ALM", "alm"])
def test_miniomni_is_read_from_the_official_a1_a2_folder_in_either_case(tmp_path: Path, alm: str) -> None:
    _wav(tmp_path / alm / "mini-omni" / "A1-A2" / "miniomni_R-EN_1_5_d644.wav")
    _wav(tmp_path / alm / "moshi" / "moshi_R-ZH_3_14_d501.wav")
    sets = {s.name: s for s in list_sets(tmp_path)}
    assert sets["miniomni"].audio_dir == f"{alm}/mini-omni"
    assert sets["moshi"].audio_dir == f"{alm}/moshi"
    items = read_set(tmp_path, "miniomni")
    assert [(it.utt_id, it.label) for it in items] == [("A1-A2/miniomni_R-EN_1_5_d644.wav", 6)]
    assert [it.label for it in read_set(tmp_path, "moshi")] == [1]


def test_miniomni_label_file_of_the_a1_a2_folder_is_read(tmp_path: Path) -> None:
    _wav(tmp_path / "ALM" / "mini-omni" / "A1-A2" / "miniomni_a.wav")
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "ALM-mini-omni-A1-A2.txt").write_text("miniomni_a.wav fake 6\n")
    items = read_set(tmp_path, "miniomni")
    assert [it.utt_id for it in items] == ["miniomni_a.wav"]
    assert items[0].path == tmp_path / "ALM" / "mini-omni" / "A1-A2" / "miniomni_a.wav"


def test_missing_alm_set_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match=r"ALM/valle not found"):
        read_set(tmp_path, "valle")
