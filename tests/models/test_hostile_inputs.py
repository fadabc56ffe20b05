"""Crafted inputs of `train` and `run-protocol --checkpoint`: one NcstError naming the file, before any step."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from tiny_data import TINY_W2V2, stop, tiny_config
from typer.testing import CliRunner

from ncst.errors import AudioError, CorpusLayoutError, NcstError, WeightsError
from ncst.models.checkpoint import load_model, read_checkpoint
from ncst.models.data import label_file_items
from ncst.models.infer import write_dumps
from ncst.models.registry import build_model
from ncst.models.train import TrainConfig, train
from ncst.models.validate import ModelConfigError


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-epoch (one-step) Mel-LCNN run on the tiny root: its folder holds best.pt and last.pt."""
    from tiny_data import make_tiny_root

    base = tmp_path_factory.mktemp("trained")
    root = make_tiny_root(base / "data")
    train(tiny_config(root, base / "run"))
    return base


def _save(path: Path, ckpt: Any) -> Path:
    torch.save(ckpt, path)
    return path


def _append_label(root: Path, line: str, split: str = "train") -> None:
    with open(root / "label" / f"{split}.txt", "a") as fh:
        fh.write(line + "\n")


# -- label files ---------------------------------------------------------------------------------------------
def test_train_label_outside_the_models_classes_names_the_line(tiny_root: Path, tmp_path: Path) -> None:
    shutil.copy(tiny_root / "train" / "c1_train_0.wav", tiny_root / "train" / "c1_train_9.wav")
    _append_label(tiny_root, "c1_train_9.wav fake 9")
    with pytest.raises(NcstError, match=r"label/train.txt:15: class 9"):
        train(tiny_config(tiny_root, tmp_path / "out"), on_step=stop)


@pytest.mark.parametrize("split", ["train", "dev"])
def test_train_empty_set_is_refused_before_training(tiny_root: Path, tmp_path: Path, split: str) -> None:
    (tiny_root / "label" / f"{split}.txt").write_text("\n")
    with pytest.raises(NcstError, match=f"the {split} set is empty"):
        train(tiny_config(tiny_root, tmp_path / "out"), on_step=stop)


@pytest.mark.parametrize("name", ["../../outside.wav", "{outside}"])
def test_label_file_name_leading_outside_the_root_is_refused(tiny_root: Path, tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside.wav"
    sf.write(outside, np.full(1200, 0.1, dtype=np.float32), 16000)
    _append_label(tiny_root, f"{name.format(outside=outside)} fake 1")
    with pytest.raises(CorpusLayoutError, match=r"train.txt:15: column 1: .* has "):
        train(tiny_config(tiny_root, tmp_path / "out"), on_step=stop)


@pytest.mark.parametrize("label", ["-1", "99999999999999999999", "٣"])
def test_read_label_file_refuses_class_ids_out_of_range(tmp_path: Path, label: str) -> None:
    (tmp_path / "l.txt").write_text(f"a.wav fake {label}\n")
    with pytest.raises(CorpusLayoutError, match=r"l.txt:1"):
        label_file_items(tmp_path / "l.txt", tmp_path)


# -- audio -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_train_nan_audio_is_named_before_any_step(tiny_root: Path, tmp_path: Path, bad: float) -> None:
    wave = np.full(1200, 0.1, dtype=np.float32)
    wave[100] = bad
    sf.write(tiny_root / "dev" / "c2_dev_1.wav", wave, 16000, subtype="FLOAT")
    steps: list[int] = []
    with pytest.raises(AudioError, match="c2_dev_1.wav: 1 NaN/Inf samples"):
        train(tiny_config(tiny_root, tmp_path / "out"), on_step=lambda *a: steps.append(1))
    assert steps == []


def test_train_audio_claiming_2_36_frames_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    flac = tiny_root / "train" / "huge.flac"
    sf.write(flac, np.full(1000, 0.1, dtype=np.float32), 16000)
    data = bytearray(flac.read_bytes())
    data[18:26] = (int.from_bytes(data[18:26], "big") | ((1 << 36) - 1)).to_bytes(8, "big")
    flac.write_bytes(bytes(data))
    _append_label(tiny_root, "huge.flac fake 1")
    with pytest.raises(AudioError, match="huge.flac: header claims"):
        train(tiny_config(tiny_root, tmp_path / "out"), on_step=stop)


# -- checkpoints -------------------------------------------------------------------------------------------------
def test_resume_from_a_checkpoint_without_training_state_is_refused(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(trained / "run" / "best.pt", out / "last.pt")
    with pytest.raises(WeightsError, match=r"last.pt: checkpoint lacks 'optimizer'"):
        train(tiny_config(trained / "data", out, epochs=2), on_step=stop)


def test_resume_with_optimizer_moments_of_the_wrong_shape_is_refused(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ckpt = read_checkpoint(trained / "run" / "last.pt", training=True)
    state = ckpt["optimizer"]["state"]
    state[0]["exp_avg"] = torch.zeros(3)
    _save(out / "last.pt", ckpt)
    with pytest.raises(WeightsError, match=r"last.pt: optimizer state 0.exp_avg is not a float tensor of shape"):
        train(tiny_config(trained / "data", out, epochs=2), on_step=stop)


def _mutated(trained: Path, tmp_path: Path, change: Any) -> Path:
    ckpt = read_checkpoint(trained / "run" / "best.pt")
    change(ckpt)
    return _save(tmp_path / "crafted.pt", ckpt)


def _first_key(ckpt: dict[str, Any]) -> str:
    return next(iter(ckpt["state_dict"]))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda c: c["state_dict"].__setitem__(_first_key(c), torch.zeros(3, 3)), "shapes"),
        (lambda c: c["state_dict"].pop(_first_key(c)), "missing"),
        (lambda c: c["state_dict"].__setitem__("extra.weight", torch.zeros(1)), "unexpected"),
        (lambda c: c.__setitem__("state_dict", list(c["state_dict"].values())), "'state_dict' must be a dict"),
        (lambda c: c["state_dict"].__setitem__(_first_key(c), "x"), "not a tensor"),
        (lambda c: c["state_dict"][_first_key(c)].fill_(float("nan")), "NaN"),
        (lambda c: c["state_dict"].__setitem__(_first_key(c), torch.eye(3).to_sparse()), "quantized tensor"),
        (lambda c: c.__setitem__("model", ["mel-lcnn"]), "'model' must be a model name"),
        (lambda c: c.__setitem__("config", [1, 2]), "expected a JSON object"),
        (lambda c: c["config"].__setitem__("n_samples", "2048"), "n_samples must be an integer"),
        (lambda c: c["config"].__setitem__("n_samples", -5), "n_samples must be an integer"),
        (lambda c: c["config"].__setitem__("n_samples", 400_000_000), "n_samples must be an integer"),
        (lambda c: c["config"].__setitem__("n_classes", 0), "n_classes must be an integer"),
        (lambda c: c["config"].__setitem__("extra", float("nan")), "not a finite number"),
        (lambda c: c.__setitem__("epoch", -1), "'epoch' must be an integer"),
    ],
)
def test_load_model_refuses_crafted_checkpoints_naming_the_file(
    trained: Path, tmp_path: Path, change: Any, match: str
) -> None:
    path = _mutated(trained, tmp_path, change)
    with pytest.raises(WeightsError, match=f"crafted.pt.*{match}"):
        load_model(path)


@pytest.mark.parametrize("top", [[1, 2], {"format": "ncst-checkpoint/1"}, torch.zeros(2)])
def test_read_checkpoint_refuses_a_top_level_ncst_does_not_write(tmp_path: Path, top: Any) -> None:
    with pytest.raises(WeightsError, match="crafted.pt"):
        read_checkpoint(_save(tmp_path / "crafted.pt", top))


def test_read_checkpoint_refuses_the_legacy_torch_format(trained: Path, tmp_path: Path) -> None:
    ckpt = torch.load(trained / "run" / "best.pt", weights_only=True)
    torch.save(ckpt, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(WeightsError, match="legacy.pt: not an ncst checkpoint"):
        read_checkpoint(tmp_path / "legacy.pt")


def test_checkpoint_with_a_huge_front_end_is_refused_before_allocation(tmp_path: Path) -> None:
    frontend = {**TINY_W2V2, "hidden_size": 1 << 20, "intermediate_size": 1 << 20}
    with pytest.raises(ModelConfigError, match="would hold"):
        build_model("w2v2-aasist", {"frontend": frontend, "layer": 1, "n_samples": 1600})


def test_model_config_too_short_for_the_model_fails_before_training(tiny_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError, match=r"fails on a \[1, 400\] input"):
        train(tiny_config(tiny_root, tmp_path / "out", model="aasist", model_config={"n_samples": 400}), on_step=stop)


def test_crafted_feature_cache_header_is_rebuilt_not_trusted(tiny_root: Path, tmp_path: Path) -> None:
    cfg = tiny_config(
        tiny_root, tmp_path / "w2v2", model="w2v2-aasist",
        model_config={"frontend": TINY_W2V2, "layer": 1, "n_samples": 1600},
    )  # fmt: skip
    train(cfg)
    cache = tmp_path / "w2v2" / "feature_cache" / "train.npy"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 100000, 1000), }"
    header += " " * (63 - len(header) % 64) + "\n"
    cache.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64)
    result = train(TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    assert np.load(cache, mmap_mode="r").shape[0] == 14
    assert len(result.history) == 2


# -- device and CLI ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_train_on_cuda_without_a_gpu_is_refused(tiny_root: Path, tmp_path: Path) -> None:
    with pytest.raises(NcstError, match="no CUDA GPU is available"):
        train(tiny_config(tiny_root, tmp_path / "out", device="cuda"), on_step=stop)


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_train_cli_bad_label_is_one_line_and_exit_2(tiny_root: Path, tmp_path: Path) -> None:
    from ncst.cli.main import app

    _append_label(tiny_root, "/etc/passwd fake 1")
    args = ["train", "--model", "mel-lcnn", "--data", str(tiny_root), "--out", str(tmp_path / "cli")]
    result = CliRunner().invoke(app, [*args, "--model-config", '{"n_samples": 2048}'])
    assert result.exit_code == 2, result.output
    assert len(_error_lines(result.output)) == 1
    assert "train.txt:15" in result.output
    assert not (tmp_path / "cli").exists()


def test_run_protocol_crafted_checkpoint_is_one_line_and_exit_2(trained: Path, tmp_path: Path) -> None:
    from ncst.cli.main import app

    path = _mutated(trained, tmp_path, lambda c: c["config"].__setitem__("n_samples", 400_000_000))
    args = ["run-protocol", "id_closed_set", "--checkpoint", str(path), "--data", str(trained / "data")]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "report")])
    assert result.exit_code == 2, result.output
    assert len(_error_lines(result.output)) == 1
    assert "crafted.pt: config: n_samples" in result.output


def test_write_dumps_missing_checkpoint_is_a_weights_error(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nope.pt"):
        write_dumps(tmp_path / "nope.pt", trained / "data", tmp_path / "dumps")


def test_checkpoint_naming_a_front_end_folder_that_is_not_a_model_is_a_weights_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="front end .* cannot be loaded"):
        build_model("w2v2-aasist", {"frontend": str(tmp_path), "layer": 1})


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cli_device_cuda_without_a_gpu_is_one_line_and_exit_2(trained: Path, tmp_path: Path) -> None:
    from ncst.cli.main import app

    data = str(trained / "data")
    train_args = ["train", "--model", "mel-lcnn", "--data", data, "--out", str(tmp_path / "t"), "--device", "cuda"]
    protocol_args = ["run-protocol", "id_closed_set", "--checkpoint", str(trained / "run" / "best.pt"), "--data", data]
    protocol_args += ["--dumps", str(tmp_path / "dumps"), "--out", str(tmp_path / "r"), "--device", "cuda"]
    for args in (train_args, protocol_args):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert _error_lines(result.output) == ["error: --device cuda: no CUDA GPU is available here; use --device cpu"]
