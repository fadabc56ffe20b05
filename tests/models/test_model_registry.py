"""Model registry: entry-point models work with `ncst train` and `run-protocol --checkpoint`; unsafe files fail."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import ncst.models.registry as registry
from ncst.cli.main import app
from ncst.errors import WeightsError
from ncst.models import UnknownModelError, available_models, build_model
from ncst.models.checkpoint import read_checkpoint


@pytest.fixture
def toy_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = metadata.EntryPoint(name="toy", value="tiny_data:ToyModel", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"toy": ep})


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(UnknownModelError, match="mel-lcnn"):
        build_model("nope")


def test_entry_point_model_trains_and_scores(toy_entry_point: None, tiny_root: Path, tmp_path: Path) -> None:
    assert available_models()[-1] == "toy"
    out = tmp_path / "toy"
    args = ["train", "--model", "toy", "--data", str(tiny_root), "--out", str(out), "--epochs", "2"]
    result = CliRunner().invoke(app, [*args, "--batch-size", "7"])
    assert result.exit_code == 0, result.output
    assert read_checkpoint(out / "best.pt")["model"] == "toy"
    args = ["score", "ood_open_set", "--checkpoint", str(out / "best.pt"), "--data", str(tiny_root)]
    result = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "rep"), "--ood-bootstrap", "0", "--no-plots", "--skip-missing"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "dumps" / "train.npz").is_file()
    assert (tmp_path / "rep" / "report.md").is_file()
    models = CliRunner().invoke(app, ["models", "--json"])
    assert '"toy"' in models.output


class _Evil:
    def __reduce__(self) -> tuple:
        return (print, ("pwned",))


def test_checkpoint_that_needs_unpickling_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "ncst-checkpoint/1", "model": "mel-lcnn", "config": {}, "state_dict": {}, "x": _Evil()}, path)
    with pytest.raises(WeightsError, match="refusing to unpickle"):
        read_checkpoint(path)
    torch.save([1, 2], tmp_path / "junk.pt")
    with pytest.raises(WeightsError, match="not an ncst checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")


def test_models_lists_an_entry_point_that_needs_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = metadata.EntryPoint(name="needy", value="tiny_data:NeedyModel", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"needy": ep})
    rows = {r.name: r for r in registry.describe_models()}
    assert rows["needy"].trainable_parameters == 0
    assert "default arguments" in rows["needy"].note
