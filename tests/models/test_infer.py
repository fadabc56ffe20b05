"""Inference dumps: every set of a root, round trip into the scorer, reuse, and the CLI end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ncst.benchmark import load_dump, score_protocol
from ncst.models.data import fix_length, list_sets, read_set
from ncst.models.infer import protocol_sets, write_dumps
from ncst.models.train import TrainConfig, train


@pytest.fixture
def checkpoint(tiny_root: Path, tmp_path: Path) -> Path:
    cfg = TrainConfig(
        model="mel-lcnn", data_dir=tiny_root, out_dir=tmp_path / "run", model_config={"n_samples": 2048},
        epochs=1, batch_size=7,
    )  # fmt: skip
    return train(cfg).best_path


def test_fix_length_crops_the_head_and_repeat_pads() -> None:
    wave = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(wave, 3), [0, 1, 2])
    np.testing.assert_array_equal(fix_length(wave, 12), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])


def test_list_sets_finds_label_file_and_folder_sets(tiny_root: Path) -> None:
    names = [s.name for s in list_sets(tiny_root)]
    assert names == ["train", "dev", "eval_id", "eval_ood7", "19LA", "C3-1"]
    assert {it.label for it in read_set(tiny_root, "C3-1")} == {3}
    assert read_set(tiny_root, "eval_ood7")[0].path.parent.name == "eval_ood"


def test_dumps_round_trip_into_the_scorer_and_are_reused(
    tiny_root: Path, tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dumps = tmp_path / "dumps"
    written = write_dumps(checkpoint, tiny_root, dumps)
    assert set(written) == {"train", "dev", "eval_id", "eval_ood7", "19LA", "C3-1"}
    bank = load_dump(written["train"])
    assert bank.embeddings.shape == (14, 256)
    assert bank.logits.shape == (14, 7)
    assert sorted(set(bank.labels.tolist())) == list(range(7))
    assert load_dump(written["eval_ood7"]).labels.tolist() == [7, 7]
    closed = score_protocol("id_closed_set", dumps_dir=dumps, data_dir=tiny_root, n_bootstrap=0)
    assert "AVG" in closed.cells
    robust = score_protocol("id_robustness", dumps_dir=dumps, n_bootstrap=0, skip_missing=True)
    assert set(robust.cells) >= {"19LA", "C3-1"}
    ood = score_protocol("ood_open_set", dumps_dir=dumps, n_bootstrap_ood=0, skip_missing=True)
    assert "single7/msp" in ood.cells

    import ncst.models.infer as infer

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("dumps should have been reused")

    monkeypatch.setattr(infer, "load_model", no_model)
    assert write_dumps(checkpoint, tiny_root, dumps) == written


def test_protocol_sets_include_the_bank_and_every_condition_option() -> None:
    sets = protocol_sets(["ood_open_set"])
    assert sets[:2] == ["train", "eval_id"]
    assert "19LA_spoof" in sets
    assert "voc" in sets
    assert protocol_sets(["id_closed_set"]) == ["eval_id"]


def test_run_protocol_checkpoint_scores_end_to_end(tiny_root: Path, tmp_path: Path, checkpoint: Path) -> None:
    from ncst.cli.main import app

    out = tmp_path / "report"
    args = ["score", "id_closed_set", "--checkpoint", str(checkpoint), "--data", str(tiny_root)]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--bootstrap", "0", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").is_file()
    assert (checkpoint.parent / "dumps" / "eval_id.npz").is_file()
    assert not (checkpoint.parent / "dumps" / "train.npz").exists()  # only what the protocol reads


def test_models_cli_json_lists_the_three_counts() -> None:
    import json

    from ncst.cli.main import app

    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    counts = {r["name"]: r["trainable_parameters"] for r in json.loads(result.output)}
    assert counts == {"mel-lcnn": 973_799, "aasist": 298_671, "w2v2-aasist": 448_047}


def test_folder_set_uses_its_label_file_when_present(tiny_root: Path) -> None:
    (tiny_root / "label" / "ID_diff_config-C3-1.txt").write_text("x1.wav fake 3\n")
    items = read_set(tiny_root, "C3-1")
    assert [it.utt_id for it in items] == ["x1.wav"]
    assert items[0].label == 3


def test_docs_example_writes_dumps_the_scorer_reads(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy
    import sys

    script = Path(__file__).parents[2] / "docs" / "examples" / "write_dumps.py"
    monkeypatch.setattr(sys, "argv", ["write_dumps.py", "--data", str(tiny_root), "--out", str(tmp_path / "d")])
    runpy.run_path(str(script), run_name="__main__")
    assert load_dump(tmp_path / "d" / "train.npz").embeddings.shape == (14, 16)
    result = score_protocol("ood_open_set", dumps_dir=tmp_path / "d", n_bootstrap_ood=0, skip_missing=True)
    assert "single7/knn" in result.cells


@pytest.mark.parametrize("damage", [b"{not json", b"\xff\xfe", b"[1, 2]"], ids=["json", "utf8", "list"])
def test_a_damaged_dumps_index_only_costs_a_rerun(
    tiny_root: Path, tmp_path: Path, checkpoint: Path, damage: bytes
) -> None:
    dumps = tmp_path / "dumps"
    written = write_dumps(checkpoint, tiny_root, dumps, sets=["eval_id"])
    (dumps / "dumps.json").write_bytes(damage)
    again = write_dumps(checkpoint, tiny_root, dumps, sets=["eval_id"])  # rewritten, not a traceback
    assert again == written
    assert load_dump(again["eval_id"]).labels.size > 0
    assert (dumps / "dumps.json").read_text().startswith("{")
