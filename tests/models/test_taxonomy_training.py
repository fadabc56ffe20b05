"""`train --task taxonomy`: one head per taxonomy axis on the shared embedding, dumps with every head, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_data import TINY_W2V2
from typer.testing import CliRunner

from ncst.benchmark.dumps import load_dump
from ncst.cli.main import app
from ncst.errors import NcstError, WeightsError
from ncst.models.checkpoint import read_checkpoint, save_checkpoint
from ncst.models.infer import write_dumps
from ncst.models.taxonomy import TaxonomyTable, parse_axis_weights
from ncst.models.train import TrainConfig, train
from ncst.taxonomy import REAL_TAXONOMY, Taxonomy

LCNN = {"n_samples": 2048}


def _config(root: Path, out: Path, **kw: object) -> TrainConfig:
    base = {"model": "mel-lcnn", "data_dir": root, "out_dir": out, "model_config": LCNN, "epochs": 1,
            "batch_size": 7, "task": "taxonomy"}  # fmt: skip
    return TrainConfig(**{**base, **kw})  # type: ignore[arg-type]


def _train_cli(root: Path, out: Path, *extra: str) -> None:
    args = ["train", "--model", "mel-lcnn", "--data", str(root), "--out", str(out), "--epochs", "1",
            "--batch-size", "7", "--model-config", json.dumps(LCNN), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def test_train_then_run_protocol_taxonomy_reports_id_f1_and_ood_accuracy(tiny_root: Path, tmp_path: Path) -> None:
    _train_cli(tiny_root, tmp_path / "run", "--task", "taxonomy")
    out = tmp_path / "report"
    args = ["run-protocol", "taxonomy", "--checkpoint", str(tmp_path / "run" / "best.pt"), "--data", str(tiny_root),
            "--out", str(out), "--no-plots"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    id_cells = sorted(k for k, v in report["cells"].items() if k.startswith("ID/") and "F1" in v)
    assert id_cells == ["ID/auxiliary", "ID/decoder", "ID/quantizer"]
    # class 7 (WavTokenizer): single-codebook and frequency never occur in training, its 'none' objective does
    assert [k for k in report["cells"] if k.startswith("7/")] == ["7/auxiliary"]
    assert sorted((u["axis"], u["truth"]) for u in report["details"]["unpredictable"]) == [
        ("decoder", "frequency"),
        ("quantizer", "single-codebook"),
    ]
    assert "Cannot be predicted" in (out / "report.md").read_text()


def test_taxonomy_checkpoint_records_task_and_vocabularies(tiny_root: Path, tmp_path: Path) -> None:
    _train_cli(tiny_root, tmp_path / "run", "--task", "taxonomy", "--axis-weights", "1,0.5,2")
    ckpt = read_checkpoint(tmp_path / "run" / "best.pt")
    assert (ckpt["task"], ckpt["taxonomy"]["axis_weights"], ckpt["taxonomy"]["trained_values"]["decoder"]) == (
        "taxonomy",
        [1.0, 0.5, 2.0],
        ["real", "time"],
    )


def test_taxonomy_dumps_hold_every_head(tiny_root: Path, tmp_path: Path) -> None:
    table = {"0": ["real"] * 3, **{str(c): ["multi-codebook", "none", "time"] for c in range(1, 7)}}
    train(_config(tiny_root, tmp_path / "run", class_taxonomy=table))
    write_dumps(tmp_path / "run" / "best.pt", tiny_root, tmp_path / "dumps", sets=["eval_id"])
    dump = load_dump(tmp_path / "dumps" / "eval_id.npz")
    assert {a: v.shape for a, v in dump.axis_logits.items()} == {
        "quantizer": (14, 4),
        "auxiliary": (14, 4),
        "decoder": (14, 3),
    }


def test_class_only_checkpoint_dumps_have_no_heads(tiny_root: Path, tmp_path: Path) -> None:
    """Guards behaviour that already held: a class-only checkpoint loads and dumps as before."""
    train(_config(tiny_root, tmp_path / "run", task="class"))
    write_dumps(tmp_path / "run" / "best.pt", tiny_root, tmp_path / "dumps", sets=["eval_id"])
    assert dict(load_dump(tmp_path / "dumps" / "eval_id.npz").axis_logits) == {}


def test_run_protocol_taxonomy_on_class_only_dumps_says_how_to_fix(tiny_root: Path, tmp_path: Path) -> None:
    train(_config(tiny_root, tmp_path / "run", task="class"))
    args = ["run-protocol", "taxonomy", "--checkpoint", str(tmp_path / "run" / "best.pt"), "--data", str(tiny_root),
            "--out", str(tmp_path / "r"), "--no-plots"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--task taxonomy" in result.output


def test_resume_of_a_last_pt_without_task_keys_continues_as_class_task(tiny_root: Path, tmp_path: Path) -> None:
    train(_config(tiny_root, tmp_path / "run", task="class"))
    last = tmp_path / "run" / "last.pt"
    ckpt = read_checkpoint(last, training=True)
    for key in ("task", "axis_weights", "class_taxonomy"):
        del ckpt["train_config"][key]
    save_checkpoint(last, {k: v for k, v in ckpt.items() if k != "format"})
    result = train(_config(tiny_root, tmp_path / "run", task="class", epochs=2))
    assert [r["epoch"] for r in result.history] == [0, 1]


def test_resume_of_a_class_run_as_taxonomy_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    train(_config(tiny_root, tmp_path / "run", task="class"))
    with pytest.raises(NcstError, match="task"):
        train(_config(tiny_root, tmp_path / "run", epochs=2))


def test_taxonomy_resume_equals_uninterrupted_run(tiny_root: Path, tmp_path: Path) -> None:
    table = {"0": ["real"] * 3, **{str(c): ["multi-codebook", "none", "time"] for c in range(1, 7)}}
    train(_config(tiny_root, tmp_path / "a", class_taxonomy=table, epochs=2))
    train(_config(tiny_root, tmp_path / "b", class_taxonomy=table, epochs=1))
    train(_config(tiny_root, tmp_path / "b", class_taxonomy=table, epochs=2))
    a, b = (read_checkpoint(tmp_path / d / "last.pt")["taxonomy_heads"] for d in ("a", "b"))
    assert all(bool((a[k] == b[k]).all()) for k in a)


@pytest.mark.parametrize(
    ("model", "config"),
    [("aasist", {"n_samples": 4000}), ("w2v2-aasist", {"frontend": TINY_W2V2, "layer": 1, "n_samples": 1600})],
)
def test_every_baseline_takes_the_taxonomy_task(tiny_root: Path, tmp_path: Path, model: str, config: dict) -> None:
    table = {"0": ["real"] * 3, **{str(c): ["multi-codebook", "none", "time"] for c in range(1, 7)}}
    result = train(_config(tiny_root, tmp_path / model, model=model, model_config=config, class_taxonomy=table))
    assert "dev_acc_quantizer" in result.history[0]


def test_train_without_a_class_table_names_the_missing_file(tiny_root: Path, tmp_path: Path) -> None:
    with pytest.raises(NcstError, match="taxonomy.csv"):
        train(_config(tiny_root, tmp_path / "run"))


def test_crafted_taxonomy_heads_are_refused(tiny_root: Path, tmp_path: Path) -> None:
    _train_cli(tiny_root, tmp_path / "run", "--task", "taxonomy")
    best = tmp_path / "run" / "best.pt"
    ckpt = read_checkpoint(best)
    ckpt["taxonomy_heads"]["heads.decoder.weight"] = ckpt["taxonomy_heads"]["heads.decoder.weight"][:2]
    save_checkpoint(best, {k: v for k, v in ckpt.items() if k != "format"})
    with pytest.raises(WeightsError, match="heads.decoder.weight"):
        write_dumps(best, tiny_root, tmp_path / "dumps", sets=["eval_id"])


def test_table_targets_ignore_unknown_classes() -> None:
    import torch

    table = TaxonomyTable({0: REAL_TAXONOMY, 3: Taxonomy()})
    assert table.targets(torch.tensor([0, 3, 9]))["decoder"].tolist() == [0, -100, -100]


@pytest.mark.parametrize("text", ["1,1", "1,x,1", "1,-1,1", "1,nan,1"])
def test_bad_axis_weights_are_refused(text: str) -> None:
    with pytest.raises(NcstError, match="axis weights"):
        parse_axis_weights(text)


def test_axis_weights_zero_is_allowed() -> None:
    assert parse_axis_weights("0,1,2.5") == (0.0, 1.0, 2.5)


def test_dumps_keep_logits_order(tmp_path: Path) -> None:
    """A taxonomy dump round-trips its head logits through save/load."""
    from ncst.benchmark.dumps import save_dump

    logits = {a: np.eye(2, k, dtype=np.float32) for a, k in (("quantizer", 4), ("auxiliary", 4), ("decoder", 3))}
    save_dump(tmp_path / "x.npz", utt_ids=["a", "b"], logits=np.zeros((2, 7)), embeddings=np.zeros((2, 3)),
              labels=[0, 1], axis_logits=logits, taxonomy="{}")  # fmt: skip
    assert load_dump(tmp_path / "x.npz").axis_logits["decoder"].tolist() == logits["decoder"].tolist()


def test_run_taxonomy_protocol_is_one_call_for_the_demo(tiny_root: Path, tmp_path: Path) -> None:
    from ncst.codecs.taxonomy import class_taxonomy_json
    from ncst.models.infer import run_taxonomy_protocol

    train(_config(tiny_root, tmp_path / "run", class_taxonomy=class_taxonomy_json(tiny_root)))
    result = run_taxonomy_protocol(tmp_path / "run" / "best.pt", tiny_root, tmp_path / "report")
    assert sorted(result.details["ood"]) == ["7"]
