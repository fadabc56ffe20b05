"""End-to-end scoring on small synthetic inputs in the official layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark import run_protocol, save_dump, score_protocol
from ncst.benchmark.dumps import dump_path
from ncst.benchmark.ood import score_open_set
from ncst.errors import ProtocolError
from ncst.protocols import load_protocol

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PREFIXES = ["", "mimi_", "speechtokenizer_", "funcodec_", "encodec_", "facodec_", "snac_"]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def result_dir(tmp_path: Path) -> Path:
    """A tiny official result folder: every file of Tables 3, 4 and 6."""
    root = tmp_path / "result"
    lines = []
    for c, prefix in enumerate(PREFIXES):
        for i in range(4):
            pred = c if not (c == 6 and i == 0) else 0  # one SNAC file predicted real
            lines.append(f"{prefix}p225_{i:03d}.wav {pred} 0.9")
    _write(root / "result_id.txt", lines)
    for spec in load_protocol("id_robustness").sets + load_protocol("alm_backend").sets:
        # 3 of 4 files right, except 19LA where 1 of 4 is right (names without .wav, like the real file)
        n_right = 1 if spec.column == "19LA" else 3
        preds = [spec.label] * n_right + [(spec.label + 1) % 7] * (4 - n_right)
        names = [f"LA_E_{i}" if spec.column == "19LA" else f"x_{i}.wav" for i in range(4)]
        _write(root / spec.result_file, [f"{n} {p} 0.8" for n, p in zip(names, preds)])
    return root


def test_score_closed_set_from_prefixes(result_dir: Path) -> None:
    res = score_protocol("id_closed_set", predictions_dir=result_dir, n_bootstrap=50)
    # class 0: TP 4, FP 1 -> F1 8/9; class 6: TP 3, FN 1 -> 6/7
    assert res.cells["0"]["F1"] == pytest.approx(100 * 8 / 9)
    assert res.cells["6"]["F1"] == pytest.approx(100 * 6 / 7)
    assert res.cells["AVG"]["F1"] == pytest.approx(100 * (8 / 9 + 6 / 7 + 5) / 7)
    assert res.cells["AVG"]["accuracy"] == pytest.approx(100 * 27 / 28)
    assert res.settings["labels"] == "file-name prefix"
    assert res.confusion is not None
    assert res.confusion[6, 0] == 1


def test_score_closed_set_from_label_file_overrides_prefix(result_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    names = [line.split()[0] for line in (result_dir / "result_id.txt").read_text().splitlines()]
    _write(data / "label" / "eval_id.txt", [f"{n} fake 3" for n in names])  # everything labelled 3
    res = score_protocol("id_closed_set", predictions_dir=result_dir, data_dir=data, n_bootstrap=0)
    assert res.cells["3"]["F1"] == pytest.approx(100 * 2 * 4 / (4 + 28))
    assert "label file" in res.settings["labels"]


def test_score_single_class_tables(result_dir: Path) -> None:
    res = score_protocol("id_robustness", predictions_dir=result_dir, n_bootstrap=100)
    assert res.cells["19LA"]["F1"] == pytest.approx(25.0)
    assert res.cells["C4-3"]["F1"] == pytest.approx(75.0)
    assert res.cells["AVG"]["F1"] == pytest.approx((25 + 11 * 75) / 12)
    assert list(res.cells) == list(load_protocol("id_robustness").columns)
    assert res.cells["AVG"]["F1_CI95_low"] <= res.cells["AVG"]["F1"] <= res.cells["AVG"]["F1_CI95_high"]


def test_missing_result_file_names_expected_path(result_dir: Path) -> None:
    (result_dir / "alm" / "valle.txt").unlink()
    with pytest.raises(ProtocolError, match=r"alm/valle.txt"):
        score_protocol("alm_backend", predictions_dir=result_dir)
    res = score_protocol("alm_backend", predictions_dir=result_dir, skip_missing=True, n_bootstrap=0)
    assert "VALL-E" not in res.cells
    assert res.settings["complete"] is False


def test_exactly_one_input_required(result_dir: Path) -> None:
    with pytest.raises(ProtocolError, match="exactly one"):
        score_protocol("alm_backend")
    with pytest.raises(ProtocolError, match="exactly one"):
        score_protocol("alm_backend", predictions_dir=result_dir, dumps_dir=result_dir)
    with pytest.raises(ProtocolError, match="--dumps"):
        score_protocol("ood_open_set", predictions_dir=result_dir)


def test_run_protocol_writes_report_json_md_and_png(result_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_protocol("alm_backend", out, predictions_dir=result_dir, n_bootstrap=20)
    payload = json.loads((out / "report.json").read_text())
    assert payload["protocol"] == "alm_backend"
    assert set(payload["cells"]) == {"Moshi", "Mini-omni", "SpeechGPT-Gen", "VALL-E", "AVG"}
    assert payload["cells"]["Moshi"]["F1"] == pytest.approx(75.0)
    md = (out / "report.md").read_text()
    assert "| this run | 75.00 |" in md
    assert "paper: W2V2-AASIST" in md
    assert "99.99" in md
    assert (out / "confusion.png").read_bytes()[:8] == PNG_MAGIC


def _ood_dumps(root: Path, dim: int = 8) -> None:
    rng = np.random.default_rng(0)
    means = rng.normal(0, 3, (12, dim))

    def write(name: str, labels: np.ndarray) -> None:
        x = means[labels] + rng.normal(0, 1, (labels.size, dim))
        logits = np.stack([-((x - means[c]) ** 2).sum(1) / 10 for c in range(7)], 1)
        save_dump(
            dump_path(root, name),
            utt_ids=[f"{name}_{i}.wav" for i in range(labels.size)],
            logits=logits,
            embeddings=x,
            labels=labels,
        )

    write("train", np.arange(140) % 7)
    write("eval_id", np.arange(70) % 7)
    write("eval_ood7", np.full(20, 7))
    write("eval_ood8-11", 8 + np.arange(40) % 4)
    write("19LA_spoof", np.full(10, 7))
    write("ITW_spoof", np.full(10, 7))
    write("wavtokenizer_small40", np.full(20, 7))
    write("NCSSD_wavtokenizer", np.full(20, 7))


def test_open_set_from_dumps_all_cells_and_plots(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    _ood_dumps(dumps)
    out = tmp_path / "out"
    res = run_protocol("ood_open_set", out, dumps_dir=dumps, n_bootstrap_ood=20)
    conditions = ["single7", "multi8-11", "voc", "diff_config", "diff_source"]
    detectors = ["msp", "energy", "knn", "mahalanobis", "nsd"]
    assert set(res.cells) == {f"{c}/{d}" for c in conditions for d in detectors}
    cell = res.cells["voc/knn"]
    assert {"AUC", "FPR95", "EER", "EER_tie_robust", "AUC_CI95_low", "EER_CI95_high"} <= set(cell)
    assert 0.0 <= cell["AUC"] <= 100.0
    assert res.counts["voc"] == 70 + 20
    payload = json.loads((out / "report.json").read_text())
    assert payload["cells"]["single7/nsd"]["AUC"] == pytest.approx(res.cells["single7/nsd"]["AUC"], abs=1e-5)
    assert (out / "roc.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "ood_histograms.png").read_bytes()[:8] == PNG_MAGIC
    assert "single7 AUC" in (out / "report.md").read_text()


def test_open_set_missing_condition_names_paths(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    _ood_dumps(dumps)
    (dumps / "ITW_spoof.npz").unlink()
    with pytest.raises(ProtocolError, match=r"voc.npz or .*19LA_spoof.npz\+.*ITW_spoof.npz"):
        score_protocol("ood_open_set", dumps_dir=dumps, n_bootstrap_ood=0)
    with pytest.raises(ProtocolError, match="pass --skip-missing"):
        score_protocol("ood_open_set", dumps_dir=dumps, n_bootstrap_ood=0)
    res = score_protocol("ood_open_set", dumps_dir=dumps, n_bootstrap_ood=0, skip_missing=True)
    assert not any(k.startswith("voc/") for k in res.cells)


def test_id_protocol_from_dumps_uses_argmax(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    for spec in load_protocol("alm_backend").sets:
        logits = np.zeros((4, 7))
        logits[np.arange(4), [spec.label, spec.label, 0, spec.label]] = 5.0
        save_dump(
            dump_path(dumps, spec.dump),
            utt_ids=[f"{i}.wav" for i in range(4)],
            logits=logits,
            embeddings=np.ones((4, 3)),
            labels=np.full(4, spec.label),
        )
    res = score_protocol("alm_backend", dumps_dir=dumps, n_bootstrap=0)
    assert res.cells["Moshi"]["F1"] == pytest.approx(75.0)
    assert res.cells["AVG"]["F1"] == pytest.approx(75.0)


def test_prediction_with_huge_class_id_is_an_error_not_a_huge_array(result_dir: Path) -> None:
    with (result_dir / "alm" / "moshi.txt").open("a") as fh:
        fh.write("y.wav 20000000000 0.5\n")
    with pytest.raises(ProtocolError, match=r"moshi.txt:5: class id 20000000000 is not one of the protocol's classes"):
        score_protocol("alm_backend", predictions_dir=result_dir, n_bootstrap=0)


def test_repeated_prediction_lines_are_an_error(result_dir: Path) -> None:
    path = result_dir / "alm" / "moshi.txt"
    path.write_text(path.read_text() + path.read_text().splitlines()[0] + "\n")
    with pytest.raises(ProtocolError, match=r"moshi.txt: 1 file\(s\) listed more than once"):
        score_protocol("alm_backend", predictions_dir=result_dir, n_bootstrap=0)


def test_closed_set_label_file_larger_than_predictions(result_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    names = [line.split()[0] for line in (result_dir / "result_id.txt").read_text().splitlines()]
    _write(data / "label" / "eval_id.txt", [f"{n} fake 3" for n in names] + ["extra_1.wav real 0"])
    with pytest.raises(ProtocolError, match=r"1 of the 29 files in .*eval_id.txt have no prediction"):
        score_protocol("id_closed_set", predictions_dir=result_dir, data_dir=data, n_bootstrap=0)
    res = score_protocol("id_closed_set", predictions_dir=result_dir, data_dir=data, n_bootstrap=0, skip_missing=True)
    assert res.counts["AVG"] == 28


def test_closed_set_dump_labels_outside_protocol_classes(tmp_path: Path) -> None:
    save_dump(
        dump_path(tmp_path, "eval_id"),
        utt_ids=["a.wav", "b.wav"],
        logits=np.eye(7)[:2],
        embeddings=np.ones((2, 3)),
        labels=[0, 50000000],
    )
    with pytest.raises(ProtocolError, match=r"eval_id.npz: 1 labels are outside .* e.g. 50000000 at row 1"):
        score_protocol("id_closed_set", dumps_dir=tmp_path, n_bootstrap=0)


def test_open_set_nan_score_names_detector_set_and_row(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    _ood_dumps(dumps)
    path = dump_path(dumps, "eval_ood7")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["embeddings"][3] = 0.0
    save_dump(path, **arrays)
    proto = load_protocol("ood_open_set")
    with pytest.raises(ProtocolError, match=r"Detector 'knn' .*eval_ood7.npz row 3 \('eval_ood7_3.wav'\).*all zeros"):
        score_open_set(proto, dumps, detectors=("knn",), n_bootstrap=0)


def test_run_protocol_out_is_a_file(result_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("")
    with pytest.raises(ProtocolError, match=r"--out .*out is a file, not a folder"):
        run_protocol("alm_backend", tmp_path / "out", predictions_dir=result_dir, n_bootstrap=0)
    with pytest.raises(ProtocolError, match=r"is inside .*out, which is a file"):
        run_protocol("alm_backend", tmp_path / "out" / "sub", predictions_dir=result_dir, n_bootstrap=0)


def test_input_folder_given_as_file_or_result_file_as_folder(result_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"--predictions .*result_id.txt is a file, not a folder"):
        score_protocol("alm_backend", predictions_dir=result_dir / "result_id.txt")
    (result_dir / "alm" / "valle.txt").unlink()
    (result_dir / "alm" / "valle.txt").mkdir()
    with pytest.raises(ProtocolError, match=r"valle.txt is a directory, not a file"):
        score_protocol("alm_backend", predictions_dir=result_dir, n_bootstrap=0)
