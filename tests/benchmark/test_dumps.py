from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ncst.benchmark.dumps import Dump, dump_path, load_dump, save_dump
from ncst.errors import ProtocolError


def _arrays(n: int = 5, dim: int = 4) -> dict:
    rng = np.random.default_rng(0)
    return {
        "utt_ids": [f"u{i}.wav" for i in range(n)],
        "logits": rng.normal(size=(n, 7)),
        "embeddings": rng.normal(size=(n, dim)),
        "labels": np.arange(n) % 7,
    }


def test_save_load_dump_roundtrip(tmp_path: Path) -> None:
    path = save_dump(dump_path(tmp_path, "eval_id"), **_arrays())
    dump = load_dump(path)
    assert path == tmp_path / "eval_id.npz"
    assert len(dump) == 5
    assert dump.logits.dtype == np.float32
    assert dump.embeddings.dtype == np.float32
    assert dump.labels.dtype == np.int64
    assert dump.utt_ids[0] == "u0.wav"
    np.testing.assert_array_equal(dump.pred, dump.logits.argmax(1))
    prob = np.exp(dump.logits) / np.exp(dump.logits).sum(1, keepdims=True)
    np.testing.assert_allclose(dump.msp, prob.max(1), rtol=1e-6)


def test_save_dump_rejects_bad_shapes(tmp_path: Path) -> None:
    bad = _arrays()
    bad["logits"] = np.zeros((5, 6))
    with pytest.raises(ProtocolError, match=r"logits must be \[N=5, 7\]"):
        save_dump(tmp_path / "x.npz", **bad)
    bad = _arrays()
    bad["labels"] = np.zeros(5, np.float32)
    with pytest.raises(ProtocolError, match="integers"):
        save_dump(tmp_path / "x.npz", **bad)
    assert not list(tmp_path.iterdir())


def test_load_dump_names_file_on_error(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="train.npz"):
        load_dump(tmp_path / "train.npz")
    np.savez(tmp_path / "bad.npz", logits=np.zeros((2, 7), np.float32))
    with pytest.raises(ProtocolError, match=r"bad.npz: missing arrays \['utt_ids', 'embeddings', 'labels'\]"):
        load_dump(tmp_path / "bad.npz")
    a = _arrays()
    np.savez(
        tmp_path / "f64.npz",
        utt_ids=np.array(a["utt_ids"]),
        logits=a["logits"],
        embeddings=a["embeddings"].astype(np.float32),
        labels=a["labels"],
    )
    with pytest.raises(ProtocolError, match="float32"):
        load_dump(tmp_path / "f64.npz")


def test_dump_concat_keeps_order_and_checks_width(tmp_path: Path) -> None:
    a = load_dump(save_dump(tmp_path / "a.npz", **_arrays(3)))
    b = load_dump(save_dump(tmp_path / "b.npz", **_arrays(2)))
    both = Dump.concat([a, b])
    assert len(both) == 5
    assert list(both.labels) == [0, 1, 2, 0, 1]
    c = load_dump(save_dump(tmp_path / "c.npz", **_arrays(2, dim=3)))
    with pytest.raises(ProtocolError, match="embedding widths"):
        Dump.concat([a, c])


def test_load_dump_empty_or_truncated_npz_is_a_clear_error(tmp_path: Path) -> None:
    good = save_dump(tmp_path / "good.npz", **_arrays(50, dim=64)).read_bytes()
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ProtocolError, match=r"empty.npz: empty file"):
        load_dump(tmp_path / "empty.npz")
    for cut in (10, len(good) // 3, len(good) // 2, len(good) - 30):
        (tmp_path / "cut.npz").write_bytes(good[:cut])
        with pytest.raises(ProtocolError, match=r"cut.npz: not a readable .npz dump"):
            load_dump(tmp_path / "cut.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ProtocolError, match=r"single.npy: a single .npy array"):
        load_dump(tmp_path / "single.npy")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ProtocolError, match=r"dir.npz is a directory, not a file"):
        load_dump(tmp_path / "dir.npz")


def test_duplicate_utt_ids_in_a_dump_are_an_error(tmp_path: Path) -> None:
    a = _arrays()
    a["utt_ids"] = ["u0.wav", "u1.wav", "u0.wav", "u1.wav", "u4.wav"]
    with pytest.raises(ProtocolError, match=r"2 utt_ids appear more than once \(2 extra rows\), e.g. 'u0.wav' at row"):
        save_dump(tmp_path / "x.npz", **a)
    np.savez(
        tmp_path / "dup.npz",
        utt_ids=np.array(a["utt_ids"]),
        logits=a["logits"].astype(np.float32),
        embeddings=a["embeddings"].astype(np.float32),
        labels=a["labels"],
    )
    with pytest.raises(ProtocolError, match=r"dup.npz: 2 utt_ids appear more than once"):
        load_dump(tmp_path / "dup.npz")
