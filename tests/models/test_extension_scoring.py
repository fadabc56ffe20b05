"""Extension classes end to end: an OOD class 12 added to a root is dumped and scored with no extra flag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.benchmark import score_protocol
from ncst.benchmark.dumps import save_dump
from ncst.models.train import TrainConfig, train


def _add_ood12(root: Path) -> Path:
    """What `build-recipe --add-codec vocos@encodec=OOD` leaves: eval_ood12.txt, its files, recipe.json classes."""
    rng = np.random.default_rng(12)
    lines = []
    for k in range(3):
        name = f"vocos_{k}.wav"
        sf.write(root / "eval_ood" / name, (0.2 * rng.standard_normal(1200)).astype(np.float32), 16_000)
        lines.append(f"{name} fake 12")
    (root / "label" / "eval_ood12.txt").write_text("\n".join(lines) + "\n")
    meta = {
        "label_files": {"eval_ood7.txt": "eval_ood", "eval_ood12.txt": "eval_ood"},
        "classes": {"12": {"codec": "vocos@encodec", "family": "vocos", "set": "OOD"}},
    }
    (root / "recipe.json").write_text(json.dumps(meta))
    (root / "label" / "notes.txt").write_text("nothing.wav fake 13\n")  # a label file with no audio folder
    return root


@pytest.fixture
def checkpoint(tiny_root: Path, tmp_path: Path) -> Path:
    cfg = TrainConfig(
        model="mel-lcnn", data_dir=tiny_root, out_dir=tmp_path / "run", model_config={"n_samples": 2048},
        epochs=1, batch_size=7,
    )  # fmt: skip
    return train(cfg).best_path


def test_run_protocol_scores_an_added_ood_class_as_its_own_condition(
    tiny_root: Path, tmp_path: Path, checkpoint: Path
) -> None:
    from ncst.cli.main import app

    root = _add_ood12(tiny_root)
    out = tmp_path / "report"
    args = ["score", "ood_open_set", "--checkpoint", str(checkpoint), "--data", str(root), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--ood-bootstrap", "0", "--no-plots", "--skip-missing"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["extensions"] == {"ext12": "ext12 (vocos@encodec, class 12)"}
    assert "ext12/knn" in report["cells"]
    assert report["not_scored"] == ["label/notes.txt (no audio folder)"]
    md = (out / "report.md").read_text()
    assert "## Extension OOD classes" in md
    assert "label/notes.txt" in md
    assert "Extension OOD classes" in (out / "report.html").read_text()

    # the paper's conditions score exactly as without the extension dump
    dumps = checkpoint.parent / "dumps"
    plain = tmp_path / "plain"
    shutil.copytree(dumps, plain)
    (plain / "eval_ood12.npz").unlink()
    with_ext = score_protocol("ood_open_set", dumps_dir=dumps, n_bootstrap_ood=0, skip_missing=True)
    without = score_protocol("ood_open_set", dumps_dir=plain, n_bootstrap_ood=0, skip_missing=True)
    assert {k: v for k, v in with_ext.cells.items() if not k.startswith("ext")} == dict(without.cells)


_MINI = """
name = "mini"
seed = 1
[classes]
0 = "real@16k"
1 = { codec = "fakecodec", set = "ID" }
11 = { codec = "fakecodec@24k", set = "OOD" }
[corpora.main]
readers = ["vctk"]
vctk = { train = 8, dev = 1, eval = 1 }
[[subsets]]
folder = "train"
source = "main:train"
classes = [0, 1]
per_class = 4
label_file = "train.txt"
[[subsets]]
folder = "dev"
source = "main:dev"
classes = [0, 1]
per_class = 1
label_file = "dev.txt"
[[subsets]]
folder = "eval_id"
source = "main:eval"
classes = [0, 1]
per_class = 1
label_file = "eval_id.txt"
[[subsets]]
folder = "eval_ood"
source = "main:eval"
classes = [11]
per_class = 1
label_file = "eval_ood8-11.txt"
"""


def test_a_class_added_with_add_codec_is_scored_as_its_own_ood_condition(tmp_path: Path) -> None:
    """A recipe root built with the fake codec and `--add-codec fakecodec@16k=OOD` (class 12), trained on and
    scored by `run-protocol ood_open_set --checkpoint --data` with no extra flag."""
    from ncst.cli.main import app
    from ncst.corpora.fakes import write_vctk_092
    from ncst.recipes.build import RecipeBuildConfig, build_recipe

    (tmp_path / "mini.toml").write_text(_MINI)
    write_vctk_092(tmp_path / "vctk")
    root = tmp_path / "st"
    config = RecipeBuildConfig(
        recipe=str(tmp_path / "mini.toml"), corpora={"vctk": tmp_path / "vctk"}, out_dir=root, weights="random",
        add_codecs=[("fakecodec@16k", "OOD")],
    )  # fmt: skip
    assert build_recipe(config).ok
    cfg = TrainConfig(
        model="mel-lcnn", data_dir=root, out_dir=tmp_path / "run", model_config={"n_samples": 2048},
        epochs=1, batch_size=4,
    )  # fmt: skip
    ckpt = train(cfg).best_path
    out = tmp_path / "report"
    args = ["score", "ood_open_set", "--checkpoint", str(ckpt), "--data", str(root), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--ood-bootstrap", "0", "--no-plots", "--skip-missing"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["extensions"] == {"ext12": "ext12 (fakecodec@16k, class 12)"}
    assert {k.split("/")[0] for k in report["cells"]} == {"multi8-11", "ext12"}
    dumps = ckpt.parent / "dumps"
    plain = tmp_path / "plain"
    shutil.copytree(dumps, plain)
    (plain / "eval_ood12.npz").unlink()
    without = score_protocol("ood_open_set", dumps_dir=plain, n_bootstrap_ood=0, skip_missing=True)
    assert {k: v for k, v in report["cells"].items() if k.startswith("multi")} == json.loads(
        json.dumps({k: {m: round(float(x), 6) for m, x in c.items()} for k, c in without.cells.items()})
    )


def _dump(path: Path, labels: list[int], preds: list[int]) -> None:
    logits = np.full((len(labels), 7), -5.0, np.float32)
    logits[np.arange(len(labels)), preds] = 5.0
    save_dump(
        path, utt_ids=[f"u{i}.wav" for i in range(len(labels))], logits=logits,
        embeddings=np.ones((len(labels), 4), np.float32), labels=np.array(labels, np.int64),
    )  # fmt: skip


def test_id_closed_set_scores_an_id_extension_class_in_its_own_column(tmp_path: Path) -> None:
    truth = [0, 1, 2, 3, 4, 5, 6, 12, 12]
    preds = [0, 1, 2, 3, 4, 5, 6, 12, 3]
    (tmp_path / "pred").mkdir()
    (tmp_path / "pred" / "result_id.txt").write_text("".join(f"u{i}.wav {p} 0.9\n" for i, p in enumerate(preds)))
    (tmp_path / "data" / "label").mkdir(parents=True)
    (tmp_path / "data" / "label" / "eval_id.txt").write_text(
        "".join(f"u{i}.wav fake {t}\n" for i, t in enumerate(truth))
    )
    (tmp_path / "data" / "recipe.json").write_text(
        json.dumps({"classes": {"12": {"codec": "vocos@encodec", "set": "ID"}}})
    )
    result = score_protocol(
        "id_closed_set", predictions_dir=tmp_path / "pred", data_dir=tmp_path / "data", n_bootstrap=0
    )
    assert result.extensions == {"ext12": "ext12 (vocos@encodec, class 12)"}
    assert result.cells["ext12"]["F1"] == pytest.approx(100 * 2 / 3)
    # the paper's columns are over the paper's classes: the ext12 file predicted as 3 does not lower class 3
    assert result.cells["3"]["F1"] == pytest.approx(100.0)


def test_report_names_a_dump_no_protocol_scores(tmp_path: Path) -> None:
    _dump(tmp_path / "eval_id.npz", list(range(7)), list(range(7)))
    _dump(tmp_path / "mystery.npz", [0, 1], [0, 1])
    result = score_protocol("id_closed_set", dumps_dir=tmp_path, n_bootstrap=0)
    assert result.not_scored == ("mystery.npz",)


def test_id_closed_set_refuses_a_prediction_of_a_class_the_id_set_lacks(tmp_path: Path) -> None:
    """Guards behaviour that already held: a predicted class outside the protocol's classes is an error."""
    from ncst.errors import ProtocolError

    (tmp_path / "result_id.txt").write_text("u0.wav 12 0.9\nu1.wav 1 0.9\n")
    (tmp_path / "data" / "label").mkdir(parents=True)
    (tmp_path / "data" / "label" / "eval_id.txt").write_text("u0.wav real 0\nu1.wav fake 1\n")
    with pytest.raises(ProtocolError, match="outside the classes"):
        score_protocol("id_closed_set", predictions_dir=tmp_path, data_dir=tmp_path / "data", n_bootstrap=0)
