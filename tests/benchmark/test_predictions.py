from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark.predictions import (
    label_from_prefix,
    labels_from_file,
    labels_from_prefix,
    read_labels,
    read_predictions,
    utterance_key,
)
from ncst.errors import ProtocolError


def test_label_from_prefix_all_classes() -> None:
    names = [
        "p230_135.wav",
        "SSB11250384.wav",
        "mimi_p1_1.wav",
        "speechtokenizer_x.wav",
        "funcodec_x.wav",
        "encodec_x.wav",
        "facodec_x.wav",
        "snac_SSB1.wav",
    ]
    assert labels_from_prefix(names).tolist() == [0, 0, 1, 2, 3, 4, 5, 6]
    assert label_from_prefix("sub/dir/snac_a.wav") == 6


def test_utterance_key_strips_audio_extension_only() -> None:
    assert utterance_key("LA_E_5849185") == "LA_E_5849185"
    assert utterance_key("LA_E_5849185.flac") == "LA_E_5849185"
    assert utterance_key("eval_id/mimi_p225_004.wav") == "mimi_p225_004"


def test_read_predictions_parses_official_format(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("LA_E_1 2 0.70\nLA_E_2 0 0.98\n\n")
    preds = read_predictions(path)
    assert preds.utt_ids == ("LA_E_1", "LA_E_2")
    assert preds.pred.tolist() == [2, 0]
    np.testing.assert_allclose(preds.score, [0.70, 0.98])


def test_read_predictions_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="not found: .*missing.txt"):
        read_predictions(tmp_path / "missing.txt")
    path = tmp_path / "r.txt"
    path.write_text("a.wav 1 0.5\nb.wav 1\n")
    with pytest.raises(ProtocolError, match="r.txt:2"):
        read_predictions(path)
    path.write_text("")
    with pytest.raises(ProtocolError, match="empty"):
        read_predictions(path)


def test_labels_from_file_matches_on_stem(tmp_path: Path) -> None:
    path = tmp_path / "eval_id.txt"
    path.write_text("mimi_a.wav fake 1\nb.wav real 0\n")
    assert read_labels(path) == {"mimi_a": 1, "b": 0}
    assert labels_from_file(["b.wav", "mimi_a"], path).tolist() == [0, 1]
    with pytest.raises(ProtocolError, match="not in"):
        labels_from_file(["c.wav"], path)


@pytest.mark.parametrize("bad_id", ["50000000", "20000000000", "-1", "7", str(10**30)])
def test_read_predictions_class_outside_protocol_names_line(tmp_path: Path, bad_id: str) -> None:
    path = tmp_path / "r.txt"
    path.write_text(f"a.wav 1 0.5\nb.wav {bad_id} 0.9\n")
    with pytest.raises(ProtocolError, match=r"r.txt:2: class id .* not one of the protocol's classes"):
        read_predictions(path, class_ids=range(7))


def test_read_predictions_overflowing_numbers_name_line(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(f"a.wav 1 0.5\nb.wav {10**30} 0.9\n")
    with pytest.raises(ProtocolError, match=r"r.txt:2: .*overflows"):
        read_predictions(path)
    for score in ("1e999", "nan", "-inf"):
        path.write_text(f"a.wav 1 {score}\n")
        with pytest.raises(ProtocolError, match=r"r.txt:1: score .* not finite"):
            read_predictions(path)


def test_read_predictions_binary_or_latin1_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes("a.wav 1 0.5\nb\u00e9.wav 1 0.5\n".encode("latin-1"))
    with pytest.raises(ProtocolError, match=r"r.txt:2: not UTF-8 text"):
        read_predictions(path)
    path.write_bytes(b"a.wav 1 0.5\n\x00\x01\x02 1 0.5\n")
    with pytest.raises(ProtocolError, match=r"r.txt:2: NUL byte"):
        read_predictions(path)
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ProtocolError, match=r"r.txt:\d+:"):
        read_predictions(path)


def test_read_predictions_repeated_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("a.wav 1 0.5\nb.wav 1 0.5\na.wav 1 0.5\nb 2 0.5\na.wav 1 0.5\n")
    with pytest.raises(ProtocolError, match=r"r.txt: 2 file\(s\) listed more than once \(3 extra lines\).*1 and 3"):
        read_predictions(path)


def test_read_labels_repeated_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "eval_id.txt"
    path.write_text("a.wav fake 1\nb.wav real 0\na.wav fake 2\n")
    with pytest.raises(ProtocolError, match=r"eval_id.txt:3: 'a.wav' is listed again \(first on line 1\)"):
        read_labels(path)


def test_read_labels_class_outside_protocol_names_line(tmp_path: Path) -> None:
    path = tmp_path / "eval_id.txt"
    path.write_text("a.wav fake 1\nb.wav fake 500000\n")
    assert read_labels(path) == {"a": 1, "b": 500000}
    with pytest.raises(ProtocolError, match=r"eval_id.txt:2: class id 500000 is not one"):
        read_labels(path, class_ids=range(7))


def test_labels_from_file_unpredicted_labels_need_skip_missing(tmp_path: Path) -> None:
    path = tmp_path / "eval_id.txt"
    path.write_text("a.wav fake 1\nb.wav real 0\nc.wav real 0\n")
    with pytest.raises(ProtocolError, match=r"2 of the 3 files in .*eval_id.txt have no prediction.*--skip-missing"):
        labels_from_file(["a.wav"], path)
    assert labels_from_file(["a.wav"], path, skip_missing=True).tolist() == [1]


def test_inputs_that_are_directories_are_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "r.txt").mkdir()
    with pytest.raises(ProtocolError, match=r"r.txt is a directory, not a file"):
        read_predictions(tmp_path / "r.txt")
    with pytest.raises(ProtocolError, match=r"r.txt is a directory, not a file"):
        read_labels(tmp_path / "r.txt")


def test_read_labels_same_stem_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "eval_id.txt"
    path.write_text("a.wav fake 1\na.flac fake 1\n")
    with pytest.raises(ProtocolError, match=r"listed more than once"):
        read_labels(path)


def _alm_results(root: Path, folder: str) -> None:
    """An ALM result folder spelt `folder`, every set right except one Moshi file (predicted 6)."""
    from ncst.protocols import load_protocol

    for spec in load_protocol("alm_backend").sets:
        path = root / folder / spec.result_file.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        preds = [spec.label, spec.label, spec.label, 6 if spec.dump == "moshi" else spec.label]
        path.write_text("".join(f"{spec.dump}_{i}.wav {p} 0.9\n" for i, p in enumerate(preds)))


@pytest.mark.parametrize("folder", ["ALM", "alm", "Alm"])
def test_alm_backend_reads_the_official_result_folder_in_any_letter_case(tmp_path: Path, folder: str) -> None:
    from ncst.benchmark import score_protocol

    _alm_results(tmp_path / "result", folder)
    res = score_protocol("alm_backend", predictions_dir=tmp_path / "result", n_bootstrap=0)
    assert res.cells["Moshi"]["F1"] == pytest.approx(75.0)
    assert res.cells["Mini-omni"]["F1"] == pytest.approx(100.0)


def test_result_path_prefers_the_exact_spelling_and_does_not_guess_between_two(tmp_path: Path) -> None:
    from ncst.benchmark.predictions import result_path

    (tmp_path / "ALM").mkdir()
    (tmp_path / "ALM" / "moshi.txt").write_text("x 1 0.5\n")
    assert result_path(tmp_path, "alm/moshi.txt") == tmp_path / "ALM" / "moshi.txt"
    (tmp_path / "alm").mkdir()
    if len({p.name for p in tmp_path.iterdir()}) == 2:  # a case-sensitive file system holds both folders
        (tmp_path / "alm" / "moshi.txt").write_text("x 1 0.5\n")
        assert result_path(tmp_path, "alm/moshi.txt") == tmp_path / "alm" / "moshi.txt"
        assert result_path(tmp_path, "Alm/moshi.txt") == tmp_path / "Alm" / "moshi.txt"  # ambiguous: not guessed


def test_missing_alm_result_file_is_named_by_its_expected_path(tmp_path: Path) -> None:
    from ncst.benchmark import score_protocol

    _alm_results(tmp_path / "result", "ALM")
    (tmp_path / "result" / "ALM" / "valle.txt").unlink()
    with pytest.raises(ProtocolError, match=r"alm/valle\.txt"):
        score_protocol("alm_backend", predictions_dir=tmp_path / "result", n_bootstrap=0)
