"""Training: the recipe's schedule, checkpoints safe to load, resume after a kill, the W2V2 feature cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_data import TINY_W2V2

from ncst.models.checkpoint import load_model, read_checkpoint
from ncst.models.train import TrainConfig, lr_at_epoch, train

LCNN = {"n_samples": 2048}


class _Killed(Exception):
    pass


def _config(root: Path, out: Path, **kw: object) -> TrainConfig:
    base = {"model": "mel-lcnn", "data_dir": root, "out_dir": out, "model_config": LCNN, "epochs": 3, "batch_size": 4}
    return TrainConfig(**{**base, **kw})  # type: ignore[arg-type]


def _state(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["state_dict"]


def test_lr_halves_every_ten_epochs(tmp_path: Path) -> None:
    cfg = _config(tmp_path, tmp_path)
    assert [lr_at_epoch(cfg, e) for e in (0, 9, 10, 25, 49)] == [5e-4, 5e-4, 2.5e-4, 1.25e-4, 3.125e-5]


def test_resume_after_kill_equals_uninterrupted_run(tiny_root: Path, tmp_path: Path) -> None:
    full = train(_config(tiny_root, tmp_path / "full"))
    assert [r["epoch"] for r in full.history] == [0, 1, 2]

    def kill_mid_epoch(epoch: int, step: int, n_steps: int, loss: float, acc: float) -> None:
        if epoch == 1 and step == 2:
            raise _Killed

    with pytest.raises(_Killed):
        train(_config(tiny_root, tmp_path / "resumed"), on_step=kill_mid_epoch)
    assert read_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 0

    def kill_after_epoch(record: dict) -> None:
        if record["epoch"] == 1:
            raise _Killed

    with pytest.raises(_Killed):
        train(_config(tiny_root, tmp_path / "resumed"), on_epoch=kill_after_epoch)
    resumed = train(_config(tiny_root, tmp_path / "resumed"))
    for name in ("last.pt", "best.pt"):
        a, b = _state(full.last_path.parent / name), _state(resumed.last_path.parent / name)
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    strip = [{k: v for k, v in r.items() if k != "time_s"} for r in full.history]
    assert strip == [{k: v for k, v in r.items() if k != "time_s"} for r in resumed.history]


def test_checkpoint_records_model_and_loads_weights_only(tiny_root: Path, tmp_path: Path) -> None:
    result = train(_config(tiny_root, tmp_path / "run", epochs=1))
    ckpt = torch.load(result.best_path, weights_only=True)
    assert ckpt["model"] == "mel-lcnn"
    assert ckpt["config"]["n_samples"] == 2048
    json.dumps(ckpt["config"])
    model, _ = load_model(result.best_path)
    assert not model.training
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[0]["best"] is True
    assert np.isfinite(history[0]["dev_loss"])


def test_resume_with_other_settings_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    from ncst.errors import NcstError

    train(_config(tiny_root, tmp_path / "run", epochs=1))
    with pytest.raises(NcstError, match="batch_size"):
        train(_config(tiny_root, tmp_path / "run", epochs=2, batch_size=2))


def test_w2v2_features_are_cached_once(tiny_root: Path, tmp_path: Path) -> None:
    cfg = _config(
        tiny_root, tmp_path / "w2v2", model="w2v2-aasist", epochs=1,
        model_config={"frontend": TINY_W2V2, "layer": 1, "n_samples": 1600},
    )  # fmt: skip
    train(cfg)
    cache = tmp_path / "w2v2" / "feature_cache"
    assert np.load(cache / "train.done.npy").all()
    feats = np.load(cache / "train.npy")
    model, _ = load_model(tmp_path / "w2v2" / "best.pt")
    from ncst.models.data import WaveformDataset, read_set

    wave = WaveformDataset(read_set(tiny_root, "train"), 1600)[0][0]
    np.testing.assert_allclose(feats[0], model.extract_features(wave[None])[0].numpy(), rtol=1e-5, atol=1e-5)
    before = (cache / "train.npy").stat().st_mtime_ns
    train(TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    assert (cache / "train.npy").stat().st_mtime_ns == before


def test_train_cli_writes_checkpoints_and_resumes(tiny_root: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ncst.cli.main import app

    args = ["train", "--model", "mel-lcnn", "--data", str(tiny_root), "--out", str(tmp_path / "cli")]
    args += ["--epochs", "1", "--batch-size", "7", "--model-config", '{"n_samples": 2048}']
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "best.pt").is_file()
    again = CliRunner().invoke(app, [*args[:-4], "--epochs", "2", "--batch-size", "7", *args[-2:]])
    assert again.exit_code == 0, again.output
    assert read_checkpoint(tmp_path / "cli" / "last.pt")["epoch"] == 1
    bad = CliRunner().invoke(app, ["train", "--model", "nope", "--data", str(tiny_root), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "unknown model" in bad.output
