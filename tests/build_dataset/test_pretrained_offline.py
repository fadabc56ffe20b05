"""The recipe's default `--weights pretrained` end to end, offline: every codec reads its upstream cache.

Random-weights models are written by each adapter's `save_local` and copied where upstream's download code
looks (the HF hub cache with `refs/main` and `snapshots/<commit>/`, torch hub's `checkpoints/`, descript's
`~/.cache/descript/dac/`, AudioDec's unpacked release), with `HF_HUB_OFFLINE=1`. The recipe miniature must
then build every class from those files: provenance names them with their sha256 and nothing is random.
The same folders, as written by `save_local`, serve `--weights-dir`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.build_dataset.provenance import read_provenance
from ncst.cli.main import app
from ncst.cli.weights import recipe_specs, weights_dir_folder
from ncst.codecs import get_card, get_codec
from ncst.codecs.checkpoints import WeightFile
from ncst.corpora.fakes import write_aishell3, write_ncssd, write_vctk_092
from ncst.io import sha256_file

pytestmark = pytest.mark.slow

COMMIT = "0123456789abcdef0123456789abcdef01234567"
#: One folder of each kind keeps the test short; together they hold every codec of the recipe.
SUBSETS = "train,eval_ood,ID_diff_config,OOD_diff_config"


def _source_for(target: WeightFile, saved: Path, files: list[Path]) -> Path:
    """The saved file that goes to `target`: same relative path tail, same name, or the only one of its suffix."""
    for f in files:
        rel = f.relative_to(saved).parts if saved.is_dir() else (f.name,)
        if target.path.parts[-len(rel) :] == rel:
            return f
    same_suffix = [f for f in files if f.suffix == target.path.suffix]
    if len(same_suffix) == 1:
        return same_suffix[0]
    raise AssertionError(f"no saved file for {target.path} among {files}")


def _seed(specs: list[str], weights_dir: Path) -> None:
    """Writes each checkpoint once with `save_local` into `weights_dir`, and copies it into the upstream caches."""
    done: set[str] = set()
    for spec in specs:
        folder_name = weights_dir_folder(spec)
        if not get_card(spec).checkpoint.startswith(("hf://", "http")) or folder_name in done:
            continue
        done.add(folder_name)
        codec = get_codec(spec).load("random", seed=11)
        folder = weights_dir / folder_name
        saved = codec.save_local(folder)
        files = [saved] if saved.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for target in codec.weight_files():
            dst = Path(str(target.path).replace(f"{'/'}snapshots/*/", f"/snapshots/{COMMIT}/"))
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_source_for(target, folder, files), dst)
            if "/snapshots/" in str(dst):
                refs = Path(str(dst).split("/snapshots/")[0]) / "refs"
                refs.mkdir(exist_ok=True)
                (refs / "main").write_text(COMMIT)
        if spec.startswith("audiodec"):
            root = next(t.path for t in codec.weight_files()).parents[3]
            (root / ".completed").write_text("seeded by the test\n")
        codec.release()


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("offline")
    mp = pytest.MonkeyPatch()
    from huggingface_hub import constants

    mp.setenv("TORCH_HOME", str(base / "torch"))
    mp.setenv("HOME", str(base / "home"))
    mp.setattr(constants, "HF_HUB_CACHE", str(base / "hf"))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setattr(constants, "HF_HUB_OFFLINE", True)
    src = base / "src"
    write_vctk_092(src / "vctk")
    write_aishell3(src / "aishell3")
    write_ncssd(src / "ncssd")
    _seed(recipe_specs("st-codecfake"), base / "weights")
    yield {"base": base, "src": src, "weights": base / "weights"}
    mp.undo()
    # every codec's full-size random checkpoint, twice (caches and --weights-dir): about 6 GB that pytest's
    # retention keeps for module fixtures even after a green run, so the test removes it itself
    shutil.rmtree(base, ignore_errors=True)


def _build(paths: dict[str, Path], out: Path, *extra: str) -> list:
    src = paths["src"]
    args = [
        "build-recipe", "--vctk", str(src / "vctk"), "--aishell3", str(src / "aishell3"), "--ncssd", str(src / "ncssd"),
        "--out", str(out), "--per-class-limit", "1", "--subsets", SUBSETS, "--threads", "1", *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return list(read_provenance(sorted(out.glob("provenance*.jsonl"))).values())


def test_pretrained_offline_builds_every_class_from_the_upstream_caches(offline: dict[str, Path]) -> None:
    rows = _build(offline, offline["base"] / "st")
    codec_rows = [r for r in rows if get_card(r.codec_spec).checkpoint.startswith(("hf://", "http"))]
    caches = (str(offline["base"] / "hf"), str(offline["base"] / "torch"), str(offline["base"] / "home"))
    outside = {r.codec_spec: p for r in codec_rows for p in r.checkpoint_sha256 if not p.startswith(caches)}
    assert outside == {}
    assert {r.codec_spec for r in codec_rows if not r.checkpoint_sha256} == set()
    assert {r.weights for r in rows} == {"pretrained"}


def test_pretrained_offline_records_the_cached_files_hashes(offline: dict[str, Path]) -> None:
    rows = _build(offline, offline["base"] / "st")  # resumes the folder of the test above
    wrong = {p for r in rows for p, digest in r.checkpoint_sha256.items() if sha256_file(Path(p)) != digest}
    assert wrong == set()


def test_pretrained_offline_builds_class_5_from_the_public_facodec_layout(offline: dict[str, Path]) -> None:
    rows = _build(offline, offline["base"] / "st")
    class5 = {Path(p).name for r in rows if r.class_id == 5 for p in r.checkpoint_sha256}
    assert class5 == {"pytorch_model.bin", "config.yml"}


def test_weights_dir_builds_every_class_from_save_local_folders(offline: dict[str, Path]) -> None:
    rows = _build(offline, offline["base"] / "st-dir", "--weights-dir", str(offline["weights"]))
    codec_rows = [r for r in rows if get_card(r.codec_spec).checkpoint.startswith(("hf://", "http"))]
    outside = {r.codec_spec for r in codec_rows if not r.weights.startswith(str(offline["weights"].resolve()))}
    assert outside == set()
    assert {r.codec_spec for r in codec_rows if not r.checkpoint_sha256} == set()
