from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark.predictions import (
    label_from_prefix,
    labels_from_file,
    labels_from_prefix,
    read_label_file,
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
    assert preds.utt_ids == ("LA_E_1", "LA_E_2") and preds.pred.tolist() == [2, 0]
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
    assert read_label_file(path) == {"mimi_a": 1, "b": 0}
    assert labels_from_file(["b.wav", "mimi_a"], path).tolist() == [0, 1]
    with pytest.raises(ProtocolError, match="not in"):
        labels_from_file(["c.wav"], path)
