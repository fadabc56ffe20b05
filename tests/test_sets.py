"""Dataset-root descriptions (`ncst.sets`): official names, recipe.json, other label files, corpus folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.corpora.fakes import write_asvspoof2019_la, write_in_the_wild
from ncst.errors import CorpusLayoutError
from ncst.models.data import list_sets, read_set
from ncst.sets import discover_sets, find_set

RATE = 16_000


def _wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(400, 0.1, np.float32), RATE)


def _root_with_ood12(root: Path, recipe: bool = True) -> Path:
    for name in ("a.wav", "b.wav"):
        _wav(root / "eval_ood" / name)
    (root / "label").mkdir(parents=True, exist_ok=True)
    (root / "label" / "eval_ood7.txt").write_text("a.wav fake 7\n")
    (root / "label" / "eval_ood12.txt").write_text("b.wav fake 12\n")
    if recipe:
        meta = {
            "label_files": {"eval_ood7.txt": "eval_ood", "eval_ood12.txt": "eval_ood"},
            "classes": {"7": {"codec": "speechtokenizer", "family": "x", "set": "OOD"},
                        "12": {"codec": "vocos@encodec", "family": "vocos", "set": "OOD"}},
        }  # fmt: skip
        (root / "recipe.json").write_text(json.dumps(meta))
    return root


def test_read_set_reads_an_extension_label_file(tmp_path: Path) -> None:
    root = _root_with_ood12(tmp_path, recipe=False)
    items = read_set(root, "eval_ood12")
    assert [(it.path, it.label) for it in items] == [(root / "eval_ood" / "b.wav", 12)]


def test_list_sets_lists_an_extension_set_after_the_official_ones(tmp_path: Path) -> None:
    root = _root_with_ood12(tmp_path, recipe=False)
    assert [s.name for s in list_sets(root)] == ["eval_ood7", "eval_ood12"]


def test_discover_sets_describes_a_recipe_class(tmp_path: Path) -> None:
    info = find_set(_root_with_ood12(tmp_path), "eval_ood12")
    assert (info.audio_dir, info.label_file, info.role, info.source, info.class_ids, info.codecs) == (
        "eval_ood", "label/eval_ood12.txt", "ood", "recipe.json", (12,), {12: "vocos@encodec"}
    )  # fmt: skip


def test_discover_sets_finds_a_folder_label_file(tmp_path: Path) -> None:
    _wav(tmp_path / "OOD_extra" / "mine" / "x.wav")
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "OOD_extra-mine.txt").write_text("x.wav fake 13\n")
    info = find_set(tmp_path, "OOD_extra-mine")
    assert (info.audio_dir, info.role) == ("OOD_extra/mine", "ood")


def test_discover_sets_skips_a_label_file_without_a_folder(tmp_path: Path) -> None:
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "notes.txt").write_text("x.wav fake 13\n")
    assert discover_sets(tmp_path) == []


def test_read_set_reads_eval_id_at_the_root(tmp_path: Path) -> None:
    _wav(tmp_path / "eval_id" / "mimi_a.wav")
    (tmp_path / "eval_id.txt").write_text("mimi_a.wav fake 1\n")
    assert [it.label for it in read_set(tmp_path, "eval_id")] == [1]


def test_read_set_unknown_set_names_the_sets_there(tmp_path: Path) -> None:
    root = _root_with_ood12(tmp_path)
    with pytest.raises(CorpusLayoutError, match=r"unknown set 'nope'.*eval_ood12"):
        read_set(root, "nope")


def test_unseen_real_19la_dropped_in_takes_bona_fide_only(tmp_path: Path) -> None:
    write_asvspoof2019_la(tmp_path / "ID_unseen_real" / "19LA")
    names = [Path(it.utt_id).stem for it in read_set(tmp_path, "19LA")]
    assert names == ["LA_E_1000001", "LA_E_1000003"]


def test_voc_19la_spoof_dropped_in_takes_spoof_only(tmp_path: Path) -> None:
    write_asvspoof2019_la(tmp_path / "OOD_voc" / "19LA_spoof")
    items = read_set(tmp_path, "19LA_spoof")
    assert [(Path(it.utt_id).stem, it.label) for it in items] == [("LA_E_1000002", 7)]


def test_unseen_real_itw_dropped_in_takes_bona_fide_only(tmp_path: Path) -> None:
    write_in_the_wild(tmp_path / "ID_unseen_real" / "ITW")
    assert sorted(Path(it.utt_id).name for it in read_set(tmp_path, "ITW")) == ["1.wav", "2.wav"]


def test_unseen_real_19la_without_protocol_is_an_error(tmp_path: Path) -> None:
    la = write_asvspoof2019_la(tmp_path / "ID_unseen_real" / "19LA")
    (la / "ASVspoof2019_LA_cm_protocols" / "ASVspoof2019.LA.cm.eval.trl.txt").unlink()
    with pytest.raises(CorpusLayoutError, match=r"19LA.*no ASVspoof2019_LA_cm_protocols"):
        read_set(tmp_path, "19LA")


def test_unseen_real_itw_without_meta_is_an_error(tmp_path: Path) -> None:
    (write_in_the_wild(tmp_path / "ID_unseen_real" / "ITW") / "meta.csv").unlink()
    with pytest.raises(CorpusLayoutError, match=r"ITW.*no meta.csv"):
        read_set(tmp_path, "ITW")


def test_unseen_real_label_file_layout_is_read_from_its_label_file(tmp_path: Path) -> None:
    """ncst's own layout (ingest writes bona fide files and a label file): the label file decides."""
    _wav(tmp_path / "ID_unseen_real" / "19LA" / "LA_E_1000001.wav")
    _wav(tmp_path / "ID_unseen_real" / "19LA" / "LA_E_1000002.wav")
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "ID_unseen_real-19LA.txt").write_text("LA_E_1000001.wav real 0\n")
    assert [it.utt_id for it in read_set(tmp_path, "19LA")] == ["LA_E_1000001.wav"]


def test_unseen_real_plain_folder_is_still_read_whole(tmp_path: Path) -> None:
    """Guards behaviour that already held: a folder of real speech without a corpus is read recursively."""
    _wav(tmp_path / "ID_unseen_real" / "NCSSD" / "a" / "x.wav")
    assert [it.utt_id for it in read_set(tmp_path, "NCSSD")] == ["a/x.wav"]


def test_verify_checks_an_extension_label_file_of_an_official_root(tmp_path: Path) -> None:
    from ncst.verify import verify

    _wav(tmp_path / "eval_ood" / "a.wav")
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "eval_ood12.txt").write_text("a.wav fake 12\ngone.wav fake 12\n")
    report = verify(tmp_path)
    assert any("gone.wav" in line for line in report.missing)


def test_verify_checks_eval_id_at_the_root(tmp_path: Path) -> None:
    from ncst.verify import verify

    _wav(tmp_path / "eval_id" / "mimi_a.wav")
    (tmp_path / "eval_id.txt").write_text("mimi_a.wav fake 1\nmimi_gone.wav fake 1\n")
    report = verify(tmp_path)
    assert any("mimi_gone.wav" in line for line in report.missing)


def test_protocol_sets_of_the_open_set_include_an_extension_ood_set_of_the_root(tmp_path: Path) -> None:
    from ncst.models.infer import protocol_sets

    root = _root_with_ood12(tmp_path)
    assert "eval_ood12" in protocol_sets(["ood_open_set"], root)


def test_protocol_sets_of_an_id_protocol_leave_an_extension_ood_set_out(tmp_path: Path) -> None:
    """Guards behaviour that already held: only the open set reads OOD sets."""
    from ncst.models.infer import protocol_sets

    assert protocol_sets(["id_closed_set"], _root_with_ood12(tmp_path)) == ["eval_id"]
