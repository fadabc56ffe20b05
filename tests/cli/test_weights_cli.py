"""`ncst weights list/fetch` and the offline failure of a missing checkpoint (no network: downloads are stubbed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import get_card, get_codec
from ncst.errors import WeightsError

runner = CliRunner()


@pytest.fixture
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty HF, torch hub and descript caches under `tmp_path`, offline."""
    from huggingface_hub import constants

    cache = tmp_path / "caches"
    monkeypatch.setenv("TORCH_HOME", str(cache / "torch"))
    monkeypatch.setenv("HOME", str(cache / "home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def _seed_hf(cache: Path, repo_id: str, files: dict[str, bytes]) -> None:
    """Writes files into the HF cache layout (`refs/main` -> `snapshots/<commit>/<file>`)."""
    repo = cache / "hf" / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for name, data in files.items():
        target = repo / "snapshots" / commit / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def test_weights_list_recipe_names_every_codec_with_public_weights(empty_caches: Path) -> None:
    result = runner.invoke(app, ["weights", "list", "--recipe", "st-codecfake", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["spec"] for r in rows if not r["public"]} == set()


def test_weights_list_recipe_lists_the_class_5_public_checkpoint(empty_caches: Path) -> None:
    result = runner.invoke(app, ["weights", "list", "--recipe", "st-codecfake", "--json"])
    rows = {r["spec"]: r for r in json.loads(result.stdout)}
    assert [Path(f["path"]).name for f in rows["facodec@timbre_norm"]["files"]] == ["pytorch_model.bin", "config.yml"]


def test_weights_list_shows_a_cached_file_as_present_with_its_size(empty_caches: Path) -> None:
    _seed_hf(empty_caches, "hubertsiuzdak/snac_24khz", {"config.json": b"{}", "pytorch_model.bin": b"x" * 10})
    result = runner.invoke(app, ["weights", "list", "snac", "--json"])
    files = json.loads(result.stdout)[0]["files"]
    assert [(f["present"], f["size_bytes"]) for f in files] == [(True, 2), (True, 10)]


def test_weights_list_shows_a_missing_torch_hub_file(empty_caches: Path) -> None:
    result = runner.invoke(app, ["weights", "list", "encodec", "--json"])
    file = json.loads(result.stdout)[0]["files"][0]
    assert (file["present"], file["path"]) == (
        False,
        str(empty_caches / "torch" / "hub" / "checkpoints" / "encodec_24khz-d7cc33bc.th"),
    )


def test_weights_list_refuses_specs_and_recipe_together(empty_caches: Path) -> None:
    result = runner.invoke(app, ["weights", "list", "snac", "--recipe", "st-codecfake"])
    assert "codec specs or --recipe, not both" in result.output


def test_offline_missing_hf_checkpoint_fails_fast_naming_codec_file_place_and_fix(empty_caches: Path) -> None:
    with pytest.raises(WeightsError) as err:
        get_codec("facodec@timbre_norm").load("pretrained")
    message = str(err.value)
    assert message.startswith("facodec@timbre_norm: checkpoint file pytorch_model.bin (hf://Plachta/FAcodec/")
    assert str(empty_caches / "hf" / "models--Plachta--FAcodec" / "snapshots") in message
    assert "ncst weights fetch facodec@timbre_norm" in message
    assert "--weights-dir" in message
    assert "\n" not in message


def test_offline_missing_torch_hub_checkpoint_fails_without_trying_the_network(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("encodec")
    tried: list[str] = []
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda url, **kw: tried.append(url))
    with pytest.raises(WeightsError, match=r"encodec@6kbps: checkpoint file encodec_24khz-d7cc33bc\.th"):
        get_codec("encodec").load("pretrained")
    assert tried == []


def test_failed_download_names_the_missing_file_and_the_fix(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    def no_network(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(WeightsError, match=r"soundstream@16khz: .*download failed: URLError.*ncst weights fetch"):
        get_codec("soundstream").load("pretrained")


def test_codecs_check_offline_exits_2_with_one_line(empty_caches: Path) -> None:
    result = runner.invoke(app, ["codecs", "check", "facodec@timbre_norm", "--weights", "pretrained"])
    assert result.exit_code == 2
    assert "ncst weights fetch facodec@timbre_norm" in result.output


def _serve_soundstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stubs torch hub's download with a random-weights SoundStream checkpoint; returns the URLs asked for."""
    saved = get_codec("soundstream").load("random", seed=3).save_local(tmp_path / "saved")
    asked: list[str] = []

    def download(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        asked.append(url)
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(next(saved.iterdir()), dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    return asked


def test_weights_fetch_fills_the_upstream_cache(
    tmp_path: Path, empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    asked = _serve_soundstream(tmp_path, monkeypatch)
    result = runner.invoke(app, ["weights", "fetch", "soundstream"])
    assert result.exit_code == 0, result.output
    assert asked == [get_card("soundstream").checkpoint]
    assert all(f.present for f in get_codec("soundstream").weight_files())


def test_weights_fetch_dir_writes_what_weights_dir_reads(
    tmp_path: Path, empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ncst.codecs.weight_plan import parse_weights_options

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    _serve_soundstream(tmp_path, monkeypatch)
    result = runner.invoke(app, ["weights", "fetch", "soundstream", "--dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    resolved = parse_weights_options([], tmp_path / "w").resolve("soundstream")
    codec = get_codec("soundstream").load(resolved.spec)
    assert [p.parent for p in codec.checkpoint_paths] == [(tmp_path / "w" / "soundstream@16khz").resolve()]


def test_weights_fetch_dir_keeps_a_folder_already_there(
    tmp_path: Path, empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _serve_soundstream(tmp_path, monkeypatch)
    (tmp_path / "w" / "soundstream@16khz").mkdir(parents=True)
    result = runner.invoke(app, ["weights", "fetch", "soundstream", "--dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert asked == []


def test_weights_dir_folder_of_encodec_variants_is_the_family() -> None:
    from ncst.cli.weights import weights_dir_folder

    assert [weights_dir_folder(s) for s in ("encodec@3kbps", "funcodec@6kbps", "wavtokenizer@small40")] == [
        "encodec",
        "funcodec",
        "wavtokenizer@small40",
    ]


def test_build_dataset_takes_repeated_weights_per_codec(tmp_path: Path) -> None:
    from ncst.build_dataset.provenance import read_provenance
    from ncst.testing import write_tiny_corpus

    manifest = write_tiny_corpus(tmp_path / "corpus")
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    out = tmp_path / "out"
    args = ["build-dataset", "--codec", "fakecodec", "--corpus", str(manifest), "--out", str(out)]
    result = runner.invoke(app, [*args, "--weights", "random", "--weights", f"fakecodec={ckpt}"])
    assert result.exit_code == 0, result.output
    rows = read_provenance([out / "provenance.jsonl"]).values()
    assert {r.extra["weights_source"] for r in rows} == {f"--weights fakecodec={ckpt.resolve()}"}


def test_weights_list_shows_encodec_published_hash_prefix(empty_caches: Path) -> None:
    result = runner.invoke(app, ["weights", "list", "encodec@3kbps", "--json"])
    assert json.loads(result.stdout)[0]["files"][0]["sha256"] == "d7cc33bc"
