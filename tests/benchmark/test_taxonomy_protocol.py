"""The `taxonomy` protocol scored from hand-made dumps: per-axis F1 on the ID set, per-axis accuracy per OOD class."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark.dumps import save_dump
from ncst.benchmark.scoring import run_protocol, score_protocol
from ncst.errors import ProtocolError
from ncst.protocols import load_protocol
from ncst.taxonomy import AXES, axis_values

_TABLE = {
    "0": ["real", "real", "real"],
    "1": ["multi-codebook", "semantic-distillation", "time"],
    "4": ["multi-codebook", "none", "time"],
    "7": ["single-codebook", "none", "frequency"],
    "12": ["scalar", "none", "time"],
}
_TRAINED = {"quantizer": ["real", "multi-codebook"], "auxiliary": ["real", "none", "semantic-distillation"],
            "decoder": ["real", "time"]}  # fmt: skip


def _meta(**over: object) -> str:
    meta = {"axes": {a: list(axis_values(a)) for a in AXES}, "classes": _TABLE, "trained_values": _TRAINED,
            "axis_weights": [1.0, 1.0, 1.0], **over}  # fmt: skip
    return json.dumps(meta, sort_keys=True)


def _one_hot(values: list[str], axis: str) -> np.ndarray:
    names = axis_values(axis)
    out = np.zeros((len(values), len(names)), np.float32)
    out[np.arange(len(values)), [names.index(v) for v in values]] = 1.0
    return out


def _dump(folder: Path, name: str, labels: list[int], preds: dict[str, list[str]], meta: str | None = None) -> None:
    n = len(labels)
    axis_logits = {a: _one_hot(preds[a], a) for a in AXES}
    save_dump(folder / f"{name}.npz", utt_ids=[f"{name}_{i}" for i in range(n)], logits=np.zeros((n, 7)),
              embeddings=np.zeros((n, 2)), labels=labels, axis_logits=axis_logits,
              taxonomy=_meta() if meta is None else meta)  # fmt: skip


@pytest.fixture
def dumps(tmp_path: Path) -> Path:
    folder = tmp_path / "dumps"
    folder.mkdir()
    _dump(folder, "eval_id", [0, 0, 1, 1, 4, 4], {
        "quantizer": ["real", "real", "multi-codebook", "multi-codebook", "multi-codebook", "multi-codebook"],
        "auxiliary": ["real", "real", "semantic-distillation", "none", "none", "none"],
        "decoder": ["real", "real", "time", "time", "time", "real"],
    })  # fmt: skip
    _dump(folder, "eval_ood7", [7, 7], {"quantizer": ["multi-codebook"] * 2, "auxiliary": ["none"] * 2,
                                         "decoder": ["time"] * 2})  # fmt: skip
    aux = ["none", "none", "none", "real"]
    _dump(folder, "ext", [12, 12, 12, 12], {"quantizer": ["multi-codebook"] * 4, "auxiliary": aux,
                                             "decoder": ["time"] * 4})  # fmt: skip
    return folder


def test_id_macro_f1_per_axis(dumps: Path) -> None:
    result = score_protocol("taxonomy", dumps_dir=dumps)
    # auxiliary: real F1 1, semantic-distillation 2/3, none 0.8 -> macro 0.8222
    assert result.cells["ID/auxiliary"]["F1"] == pytest.approx(100 * (1 + 2 / 3 + 0.8) / 3)


def test_id_confusion_counts_true_by_predicted(dumps: Path) -> None:
    result = score_protocol("taxonomy", dumps_dir=dumps)
    assert result.details["id"]["decoder"]["confusion"] == [[2, 0, 0], [1, 3, 0], [0, 0, 0]]


def test_ood_accuracy_per_class_and_axis(dumps: Path) -> None:
    result = score_protocol("taxonomy", dumps_dir=dumps)
    ood = {k: v["accuracy"] for k, v in result.cells.items() if not k.startswith("ID/")}
    assert ood == {"7/auxiliary": 100.0, "12/auxiliary": 75.0, "12/decoder": 100.0}


def test_values_never_in_training_are_shown_apart(dumps: Path) -> None:
    result = score_protocol("taxonomy", dumps_dir=dumps)
    apart = sorted((u["class"], u["axis"], u["truth"]) for u in result.details["unpredictable"])
    assert apart == [(7, "decoder", "frequency"), (7, "quantizer", "single-codebook"), (12, "quantizer", "scalar")]


def test_data_root_taxonomy_csv_adds_a_class_the_checkpoint_lacks(dumps: Path, tmp_path: Path) -> None:
    _dump(dumps, "ext13", [13, 13], {"quantizer": ["multi-codebook"] * 2, "auxiliary": ["none"] * 2,
                                     "decoder": ["time", "real"]})  # fmt: skip
    root = tmp_path / "root"
    root.mkdir()
    (root / "taxonomy.csv").write_text("class_id,codec,quantizer,auxiliary,decoder\n13,x,multi-codebook,none,time\n")
    result = score_protocol("taxonomy", dumps_dir=dumps, data_dir=root)
    assert result.cells["13/decoder"]["accuracy"] == 50.0


def test_class_missing_from_every_table_has_no_cells(dumps: Path) -> None:
    _dump(dumps, "ext13", [13], {"quantizer": ["scalar"], "auxiliary": ["none"], "decoder": ["time"]})
    result = score_protocol("taxonomy", dumps_dir=dumps)
    assert [k for k in result.cells if k.startswith("13/")] == []


def test_dump_of_another_model_is_skipped(dumps: Path) -> None:
    other = _meta(trained_values={a: list(axis_values(a)) for a in AXES})
    _dump(dumps, "ext14", [14], {"quantizer": ["scalar"], "auxiliary": ["none"], "decoder": ["time"]}, meta=other)
    result = score_protocol("taxonomy", dumps_dir=dumps)
    assert "14" not in result.details["ood"]


def test_dumps_without_heads_name_the_fix(tmp_path: Path) -> None:
    save_dump(tmp_path / "eval_id.npz", utt_ids=["a"], logits=np.zeros((1, 7)), embeddings=np.zeros((1, 2)),
              labels=[0])  # fmt: skip
    with pytest.raises(ProtocolError, match="--task taxonomy"):
        score_protocol("taxonomy", dumps_dir=tmp_path)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("{not json", "not valid JSON"),
        (_meta(axes={"quantizer": ["real"]}), "vocabulary"),
        (_meta(classes={"1": ["multi-codebook", "none", "space"]}), r"classes\['1'\]"),
        (_meta(classes={"-1": ["real", "real", "real"]}), r"classes\['-1'\]"),
        (_meta(trained_values={"quantizer": "all"}), "trained_values"),
    ],
)
def test_crafted_taxonomy_metadata_is_refused(tmp_path: Path, meta: str, message: str) -> None:
    _dump(tmp_path, "eval_id", [0], {"quantizer": ["real"], "auxiliary": ["real"], "decoder": ["real"]}, meta=meta)
    with pytest.raises(ProtocolError, match=message):
        score_protocol("taxonomy", dumps_dir=tmp_path)


def test_report_md_shows_id_and_ood_tables(dumps: Path, tmp_path: Path) -> None:
    run_protocol("taxonomy", tmp_path / "out", plots=False, dumps_dir=dumps)
    text = (tmp_path / "out" / "report.md").read_text()
    assert "| 12 | scalar / none / time | ext | 4 | apart | 75.00 | 100.00 |" in text


def test_report_json_holds_the_details(dumps: Path, tmp_path: Path) -> None:
    run_protocol("taxonomy", tmp_path / "out", plots=False, dumps_dir=dumps)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["details"]["never_trained"]["quantizer"] == ["single-codebook", "scalar"]


def test_taxonomy_protocol_needs_dumps(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="--dumps"):
        score_protocol("taxonomy", predictions_dir=tmp_path)


def test_taxonomy_protocol_loads_as_its_own_kind() -> None:
    assert (load_protocol("taxonomy").kind, load_protocol("taxonomy").id_dump) == ("taxonomy", "eval_id")


def test_taxonomy_kind_without_id_dump_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('name = "t"\nkind = "taxonomy"\nmetrics = ["F1"]\n')
    with pytest.raises(ProtocolError, match="id_dump"):
        load_protocol(path)


def _base_arrays(n: int = 2) -> dict[str, np.ndarray]:
    return {"utt_ids": np.array([f"u{i}" for i in range(n)]), "logits": np.zeros((n, 7), np.float32),
            "embeddings": np.zeros((n, 2), np.float32), "labels": np.zeros(n, np.int64)}  # fmt: skip


def _heads(n: int = 2) -> dict[str, np.ndarray]:
    return {f"logits_{a}": np.zeros((n, len(axis_values(a))), np.float32) for a in AXES}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"logits_decoder": np.zeros((2, 3), np.float64)}, "logits_decoder must be float32"),
        ({"logits_decoder": np.zeros((3, 3), np.float32)}, r"logits_decoder must be float32 \[N=2"),
        ({"logits_decoder": np.full((2, 3), np.nan, np.float32)}, "NaN"),
        ({"taxonomy": np.array(["{}", "{}"])}, "one string"),
        ({"taxonomy": np.array(b"{}")}, "one string"),
    ],
)
def test_load_dump_refuses_malformed_head_arrays(tmp_path: Path, extra: dict, message: str) -> None:
    from ncst.benchmark.dumps import load_dump

    path = tmp_path / "d.npz"
    np.savez(path, **{**_base_arrays(), **_heads(), "taxonomy": np.array("{}"), **extra})
    with pytest.raises(ProtocolError, match=message):
        load_dump(path)


def test_load_dump_refuses_heads_without_metadata(tmp_path: Path) -> None:
    from ncst.benchmark.dumps import load_dump

    path = tmp_path / "d.npz"
    np.savez(path, **{**_base_arrays(), "logits_quantizer": np.zeros((2, 4), np.float32)})
    with pytest.raises(ProtocolError, match="together"):
        load_dump(path)
