"""The open-set voc condition end to end: spoofed ASVspoof 2019 LA and In-the-Wild audio ingested into
`OOD_voc/`, dumped by a tiny model and scored by `run-protocol ood_open_set`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.corpora.asvspoof2019 import read_asvspoof2019_la
from ncst.corpora.fakes import write_asvspoof2019_la, write_in_the_wild
from ncst.corpora.in_the_wild import read_in_the_wild
from ncst.corpora.registry import corpus_entry
from ncst.layout import read_label_file
from ncst.models.data import read_set
from ncst.recipes.ingest import IngestError, ingest

RATE = 16_000


def _tiny_root(root: Path, per_class: int = 2, n_samples: int = 1200) -> Path:
    """train/dev/eval_id of classes 0-6 with label files; each class a tone of its own frequency."""
    rng = np.random.default_rng(0)
    (root / "label").mkdir(parents=True)
    for split in ("train", "dev", "eval_id"):
        (root / split).mkdir()
        lines = []
        for label in range(7):
            for k in range(per_class):
                t = np.arange(n_samples) / RATE
                wave = 0.3 * np.sin(2 * np.pi * 150 * (label + 1) * t + k) + 0.02 * rng.standard_normal(n_samples)
                name = f"c{label}_{split}_{k}.wav"
                sf.write(root / split / name, wave.astype(np.float32), RATE)
                lines.append(f"{name} {'real' if label == 0 else 'fake'} {label}\n")
        (root / "label" / f"{split}.txt").write_text("".join(lines))
    return root


def test_readers_of_both_corpora_take_keys_spoof(tmp_path: Path) -> None:
    la = write_asvspoof2019_la(tmp_path / "la")
    itw = write_in_the_wild(tmp_path / "itw")
    assert [u.utt_id for u in read_asvspoof2019_la(la, keys=("spoof",))] == ["LA_E_1000002"]
    assert [u.utt_id for u in read_in_the_wild(itw, keys=("spoof",))] == ["0"]
    assert [u.utt_id for u in corpus_entry("in_the_wild").read(itw, keys=("spoof",))] == ["0"]


@pytest.mark.parametrize(
    ("corpus", "keys", "class_id", "message"),
    [
        (None, ("spoof",), 7, "give --corpus too"),
        ("asvspoof2019", ("bona-fide",), 0, r"not a label key of asvspoof2019; choose from \['bonafide', 'spoof'\]"),
        ("in_the_wild", ("spoof",), 0, "--class-id 0 labels the files real"),
    ],
    ids=["no-corpus", "other-corpus-key", "spoof-as-real"],
)
def test_ingest_keys_are_checked_before_anything_is_written(
    tmp_path: Path, corpus: str | None, keys: tuple[str, ...], class_id: int, message: str
) -> None:
    src = write_in_the_wild(tmp_path / "itw") if corpus != "asvspoof2019" else write_asvspoof2019_la(tmp_path / "la")
    out = tmp_path / "root"
    with pytest.raises(IngestError, match=message):
        ingest(src, out, "OOD_voc/x", class_id, corpus=corpus, keys=keys)
    assert not out.exists()


def test_voc_condition_is_scored_end_to_end_from_ingested_spoof_sets(tmp_path: Path) -> None:
    from ncst.models.train import TrainConfig, train

    root = _tiny_root(tmp_path / "data")
    la = write_asvspoof2019_la(tmp_path / "la")
    itw = write_in_the_wild(tmp_path / "itw")
    runner = CliRunner()
    for src, corpus, folder in ((la, "asvspoof2019", "OOD_voc/19LA_spoof"), (itw, "in-the-wild", "OOD_voc/ITW_spoof")):
        args = ["ingest", "--src", str(src), "--out", str(root), "--folder", folder, "--class-id", "7",
                "--corpus", corpus, "--keys", "spoof"]  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    la_lines = read_label_file(root / "label" / "OOD_voc-19LA_spoof.txt")
    assert [(ln.file, ln.kind, ln.class_id) for ln in la_lines] == [("LA_E_1000002.flac", "fake", 7)]
    itw_lines = read_label_file(root / "label" / "OOD_voc-ITW_spoof.txt")
    assert [(ln.file, ln.class_id) for ln in itw_lines] == [("0.wav", 7)]
    assert [it.utt_id for it in read_set(root, "19LA_spoof")] == ["LA_E_1000002.flac"]

    cfg = TrainConfig(
        model="mel-lcnn", data_dir=root, out_dir=tmp_path / "run", model_config={"n_samples": 2048},
        epochs=1, batch_size=7,
    )  # fmt: skip
    checkpoint = train(cfg).best_path
    out = tmp_path / "report"
    args = ["run-protocol", "ood_open_set", "--checkpoint", str(checkpoint), "--data", str(root), "--out", str(out),
            "--bootstrap", "0", "--ood-bootstrap", "0", "--no-plots", "--skip-missing"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert "voc/msp" in report["cells"]
    assert report["counts"]["voc"] == 2 * 7 + 2  # eval_id (ID) + one 19LA spoof + one ITW spoof
