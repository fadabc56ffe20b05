"""The official ST-Codecfake data loaders read an ncst-built miniature, every set they know.

Runs only when NCST_OFFICIAL_REPO names a local clone of github.com/xieyuankun/ST-Codecfake. That code has no
licence, so nothing of it is copied here: its `dataset.py` is imported from the user's clone, with the
modules it imports but the loaders never use (`feature_extraction`, `librosa`) replaced by tiny stand-ins.
The miniature is the built-in recipe planned over in-memory corpora, each planned file a short real WAV (no
codec runs), plus the corpora `ncst ingest` brings in (fake ASVspoof 2019 LA and In-the-Wild, ALM folders).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from ncst.build_dataset.jobs import JobSettings
from ncst.build_dataset.runner import BuildResult
from ncst.corpora.base import Utterance
from ncst.corpora.fakes import write_asvspoof2019_la, write_in_the_wild
from ncst.recipes import RecipeBuildConfig, build_recipe
from ncst.recipes.ingest import ingest

OFFICIAL = os.environ.get("NCST_OFFICIAL_REPO")
pytestmark = pytest.mark.skipif(not OFFICIAL, reason="set NCST_OFFICIAL_REPO to an xieyuankun/ST-Codecfake clone")


def _stub_modules() -> dict[str, types.ModuleType]:
    """Stand-ins for what the official dataset.py imports but its ST-Codecfake loaders never call."""
    features = types.ModuleType("feature_extraction")
    features.LFCC = object  # type: ignore[attr-defined]
    librosa = types.ModuleType("librosa")

    def load(path: str, sr: int) -> tuple[np.ndarray, int]:
        wave, rate = sf.read(path, dtype="float32")
        assert rate == sr, f"{path}: {rate} Hz"
        return wave, rate

    librosa.load = load  # type: ignore[attr-defined]
    librosa.util = types.SimpleNamespace(find_files=lambda *a, **k: [])  # type: ignore[attr-defined]
    return {"feature_extraction": features, "librosa": librosa}


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    """The official dataset.py, imported from the clone under a private name."""
    path = Path(str(OFFICIAL)) / "dataset.py"
    if not path.is_file():
        pytest.fail(f"NCST_OFFICIAL_REPO={OFFICIAL}: no dataset.py there")
    saved = {name: sys.modules.get(name) for name in _stub_modules()}
    sys.modules.update(_stub_modules())
    try:
        spec = importlib.util.spec_from_file_location("_official_st_codecfake_dataset", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module


def _wav(path: Path, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sf.write(path, (0.1 * rng.standard_normal(1600)).astype(np.float32), 16000)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ncst miniature: the built-in recipe's every set, plus ingested unseen-real, voc and ALM folders."""
    base = tmp_path_factory.mktemp("interop")
    out = base / "st"

    def utts(corpus: str, ids: list[str], **extra: str) -> list[Utterance]:
        return [Utterance(i, Path(f"/nowhere/{corpus}/{i}.wav"), corpus=corpus, extra=extra) for i in ids]

    corpora = {
        "vctk": utts("vctk", [f"p225_{k:03d}" for k in range(1, 9)]),
        "aishell3": utts("aishell3", [f"SSB0005{k:04d}" for k in range(1, 9)]),
        "ncssd": utts("ncssd", ["R-EN_0_0_d1", "R-EN_1_3_d1"], subset="R-EN")
        + utts("ncssd", ["R-ZH_0_0_d2", "R-ZH_1_3_d2"], subset="R-ZH"),
    }

    def write_jobs(jobs: list, settings: JobSettings, *, finish: Any = None, **_: object) -> BuildResult:
        for i, job in enumerate(jobs):  # what the runner writes, as short real audio, no codec run
            _wav(settings.out_dir / job.rel_path, i)
        if finish is not None:
            finish([])
        return BuildResult(out_dir=settings.out_dir, planned=len(jobs), done=len(jobs))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("ncst.recipes.build.read_corpora", lambda paths: corpora)
        mp.setattr("ncst.recipes.build.run_jobs", write_jobs)
        build_recipe(
            RecipeBuildConfig(
                recipe="st-codecfake",
                corpora={"vctk": Path("/nowhere/vctk"), "aishell3": Path("/nowhere/aishell3"),
                         "ncssd": Path("/nowhere/ncssd")},
                out_dir=out,
                per_class_limit=1,
                weights="random",
            )
        )  # fmt: skip
    write_asvspoof2019_la(base / "asv")
    itw = write_in_the_wild(base / "itw")
    ingest(base / "asv", out, "ID_unseen_real/19LA", 0, corpus="asvspoof2019")
    ingest(itw, out, "ID_unseen_real/ITW", 0, corpus="in_the_wild")
    ingest(base / "asv", out, "OOD_voc/19LA_spoof", 7, corpus="asvspoof2019", keys=["spoof"])
    ingest(itw, out, "OOD_voc/ITW_spoof", 7, corpus="in_the_wild", keys=["spoof"])
    for i, (folder, class_id) in enumerate(
        (("ALM/moshi", 1), ("ALM/mini-omni", 6), ("ALM/speechgpt-gen", 2), ("ALM/valle", 4))
    ):
        src = base / "alm" / folder
        _wav(src / f"{folder.split('/')[1]}_{i}.wav", i)
        ingest(src, out, folder, class_id)
    return out


def _label_count(root: Path, name: str) -> int:
    return len((root / "label" / name).read_text().splitlines())


def _read_all(dataset: Any) -> list[str]:
    """The file name of every item, each item loaded as the official code loads it (the ALM loader gives
    (waveform, name), the others (waveform, name, label))."""
    return [str(dataset[i][1]) for i in range(len(dataset))]


@pytest.mark.parametrize(
    ("folder", "label_file"),
    [("train", "train.txt"), ("dev", "dev.txt"), ("eval_id", "eval_id.txt"), ("eval_ood", "eval_ood7.txt"),
     ("eval_ood", "eval_ood8-11.txt")],
)  # fmt: skip
def test_official_label_file_loaders_read_every_listed_file(
    official: types.ModuleType, root: Path, folder: str, label_file: str
) -> None:
    for loader in (official.codecfake_st, official.codecfake_st_eval):
        if label_file.startswith("eval_ood") and loader is official.codecfake_st:
            continue  # its class table stops at 6; the official scripts read the OOD sets with the eval loader
        items = _read_all(loader(str(root / folder), str(root / "label" / label_file)))
        assert len(items) == _label_count(root, label_file)


@pytest.mark.parametrize(
    ("loader", "folder", "label_file"),
    [("NCSSD", "ID_unseen_real/NCSSD", "ID_unseen_real-NCSSD.txt"),
     ("NCSSD_mimi", "ID_diff_source/NCSSD-mimi", "ID_diff_source-NCSSD-mimi.txt"),
     ("NCSSD_snac", "ID_diff_source/NCSSD-snac", "ID_diff_source-NCSSD-snac.txt"),
     *(("id_diffconfig", f"ID_diff_config/{c}", f"ID_diff_config-{c}.txt")
       for c in ("C3-1", "C3-2", "C3-3", "C3-4", "C4-1", "C4-2", "C4-3")),
     ("ood_diff", "OOD_diff_config/wavtokenizer_small40", "OOD_diff_config-wavtokenizer_small40.txt"),
     ("ood_diff", "OOD_diff_source/NCSSD_wavtokenizer", "OOD_diff_source-NCSSD_wavtokenizer.txt"),
     ("ood_alm", "ALM/moshi", "ALM-moshi.txt"),
     ("ood_alm", "ALM/mini-omni/A1-A2", "ALM-mini-omni-A1-A2.txt"),
     ("ood_alm", "ALM/speechgpt-gen", "ALM-speechgpt-gen.txt"),
     ("ood_alm", "ALM/valle", "ALM-valle.txt")],
)  # fmt: skip
def test_official_folder_loaders_read_every_file_of_our_folder_sets(
    official: types.ModuleType, root: Path, loader: str, folder: str, label_file: str
) -> None:
    items = _read_all(getattr(official, loader)(audio_folder_path=str(root / folder)))
    assert sorted(items) == sorted(line.split()[0] for line in (root / "label" / label_file).read_text().splitlines())


def test_official_unseen_real_loaders_read_our_bona_fide_files_from_the_kept_protocols(
    official: types.ModuleType, root: Path
) -> None:
    la = official.ASVspoof2019LA_real(
        str(root / "ID_unseen_real" / "19LA"),
        str(root / "ID_unseen_real" / "19LA_protocol" / "ASVspoof2019.LA.cm.eval.trl.txt"),
    )
    itw = official.ITW_real(
        str(root / "ID_unseen_real" / "ITW"), str(root / "ID_unseen_real" / "ITW_protocol" / "meta.csv")
    )
    assert len(_read_all(la)) == _label_count(root, "ID_unseen_real-19LA.txt")
    # The official loader splits meta.csv on every comma, so a row whose quoted speaker name holds a comma
    # ("Biden, Joe" in the fake corpus) is dropped there; ncst parses the CSV and keeps it.
    with open(root / "ID_unseen_real" / "ITW_protocol" / "meta.csv", newline="", encoding="utf-8") as fh:
        comma_names = {row["file"] for row in csv.DictReader(fh) if "," in row["speaker"]}
    ours = [line.split()[0] for line in (root / "label" / "ID_unseen_real-ITW.txt").read_text().splitlines()]
    assert comma_names
    assert sorted(_read_all(itw)) == sorted(set(ours) - comma_names)


def test_official_voc_loaders_read_our_spoof_folders_from_the_kept_protocols(
    official: types.ModuleType, root: Path
) -> None:
    la = official.ASVspoof2019LA_fake(
        str(root / "OOD_voc" / "19LA_spoof"),
        str(root / "OOD_voc" / "19LA_spoof_protocol" / "ASVspoof2019.LA.cm.eval.trl.txt"),
    )
    itw = official.ITW_fake(
        str(root / "OOD_voc" / "ITW_spoof"), str(root / "OOD_voc" / "ITW_spoof_protocol" / "meta.csv")
    )
    assert len(_read_all(la)) == _label_count(root, "OOD_voc-19LA_spoof.txt")
    assert len(_read_all(itw)) == _label_count(root, "OOD_voc-ITW_spoof.txt")
