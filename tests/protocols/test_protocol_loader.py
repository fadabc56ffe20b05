from __future__ import annotations

from pathlib import Path

import pytest

from ncst.errors import ProtocolError
from ncst.protocols import PROTOCOL_NAMES, Protocol, list_protocols, load_protocol


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
def test_load_protocol_builtin_is_frozen_and_valid(name: str) -> None:
    proto = load_protocol(name)
    assert isinstance(proto, Protocol)
    assert proto.name == name
    with pytest.raises(AttributeError):
        proto.name = "other"  # type: ignore[misc]
    assert proto.to_dict()["name"] == name


def test_list_protocols_paper_order() -> None:
    assert list_protocols() == ("id_closed_set", "id_robustness", "ood_open_set", "alm_backend")


def test_load_protocol_table4_columns_and_labels() -> None:
    proto = load_protocol("id_robustness")
    assert proto.columns == (
        "19LA",
        "ITW",
        "NCSSD",
        "C3-1",
        "C3-2",
        "C3-3",
        "C3-4",
        "C4-1",
        "C4-2",
        "C4-3",
        "Mimi",
        "SNAC",
        "AVG",
    )
    labels = {s.column: s.label for s in proto.sets}
    assert labels == {
        "19LA": 0,
        "ITW": 0,
        "NCSSD": 0,
        "C3-1": 3,
        "C3-2": 3,
        "C3-3": 3,
        "C3-4": 3,
        "C4-1": 4,
        "C4-2": 4,
        "C4-3": 4,
        "Mimi": 1,
        "SNAC": 6,
    }
    assert proto.paper["W2V2-AASIST"]["AVG"] == pytest.approx(80.22)


def test_load_protocol_table6_columns_and_paper_typo() -> None:
    proto = load_protocol("alm_backend")
    assert proto.columns == ("Moshi", "Mini-omni", "SpeechGPT-Gen", "VALL-E", "AVG")
    assert {s.column: s.label for s in proto.sets} == {"Moshi": 1, "Mini-omni": 6, "SpeechGPT-Gen": 2, "VALL-E": 4}
    assert proto.paper["W2V2-AASIST"]["Mini-omni"] == pytest.approx(99.35)  # the paper's copy error, kept as printed
    assert any("99.99" in note for note in proto.notes)


def test_load_protocol_table3_and_table5_shape() -> None:
    closed = load_protocol("id_closed_set")
    assert closed.columns == ("0", "1", "2", "3", "4", "5", "6", "AVG")
    assert closed.sets[0].label_file == "label/eval_id.txt"
    ood = load_protocol("ood_open_set")
    assert [c.name for c in ood.conditions] == ["single7", "multi8-11", "voc", "diff_config", "diff_source"]
    assert ood.detectors == ("msp", "energy", "knn", "mahalanobis", "nsd")
    assert ood.conditions[2].dumps == (("voc",), ("19LA_spoof", "ITW_spoof"))
    assert ood.metrics == ("AUC", "FPR95", "EER")


def test_load_protocol_unknown_name_lists_choices() -> None:
    with pytest.raises(ProtocolError, match="id_closed_set"):
        load_protocol("table_99")


def test_load_protocol_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nkind = "single_class"\nmetric = "F1"\ncolumns = ["A", "AVG"]\n'
        '[[sets]]\ncolumn = "A"\nresult_file = "a.txt"\ndump = "a"\nlabel = 2\n'
    )
    proto = load_protocol(path)
    assert proto.sets[0].label == 2
    assert proto.average == "none"


def test_load_protocol_bad_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\nkind = "single_class"\nmetric = "F1"\ncolumns = ["A"]\n'
        '[[sets]]\ncolumn = "A"\nresult_file = "a.txt"\ndump = "a"\n'
    )
    with pytest.raises(ProtocolError, match="integer 'label'"):
        load_protocol(path)
    path.write_text("name = [")
    with pytest.raises(ProtocolError, match="invalid TOML"):
        load_protocol(path)
