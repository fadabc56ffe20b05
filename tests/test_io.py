"""ncst.io: atomic writes follow the umask, temp names parse back, checkpoints never unpickle without opt-in."""

from __future__ import annotations

import os
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ncst.errors import UntrustedCheckpointError, WeightsError
from ncst.io import (
    TRUST_FLAG,
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    load_checkpoint,
    parse_temp_name,
    sha256_file,
    temp_name,
)
from ncst.testing import CodeOnLoad, write_crafted_checkpoint


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    text = atomic_write_text(tmp_path / "a" / "t.txt", "héllo\r\n")
    data = atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert text.read_bytes() == "héllo\r\n".encode()  # no newline translation
    assert data.read_bytes() == b"\x00\x01"
    assert _mode(text) == _mode(data) == 0o644
    os.umask(0o077)
    assert _mode(atomic_write_text(tmp_path / "private.txt", "x")) == 0o600


def test_atomic_open_keeps_old_file_and_leaves_no_temp_on_error(tmp_path: Path) -> None:
    dest = atomic_write_text(tmp_path / "f.csv", "old")
    with pytest.raises(RuntimeError):
        with atomic_open(dest, "w") as fh:
            fh.write("new")
            raise RuntimeError("boom")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]


def test_temp_names_parse_back(tmp_path: Path) -> None:
    name = temp_name(tmp_path / "encodec_p225_001.wav")
    parsed = parse_temp_name(name)
    assert parsed is not None
    assert parsed.target == "encodec_p225_001.wav"
    assert parsed.pid == os.getpid()
    legacy = parse_temp_name(".x.wav.k2j4h1a_.tmp")  # tempfile.mkstemp names of older ncst versions
    assert legacy is not None
    assert legacy.target == "x.wav"
    assert legacy.pid is None
    assert parse_temp_name("x.wav") is None
    assert parse_temp_name(".tmp") is None


def test_sha256_file(tmp_path: Path) -> None:
    path = atomic_write_bytes(tmp_path / "x", b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("legacy", [False, True])
def test_load_checkpoint_refuses_code_without_trust(tmp_path: Path, legacy: bool) -> None:
    marker = tmp_path / "pwned"
    file = tmp_path / "model.pth"
    payload = {"payload": CodeOnLoad(marker)}
    if legacy:
        with open(file, "wb") as fh:
            pickle.dump(payload, fh)
    else:
        torch.save(payload, file)
    with pytest.raises(UntrustedCheckpointError) as info:
        load_checkpoint(file)
    assert str(file) in str(info.value)
    assert TRUST_FLAG in str(info.value)
    assert not marker.exists()


def test_load_checkpoint_trust_allows_full_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    file = write_crafted_checkpoint(tmp_path / "model.pth", marker)
    state = load_checkpoint(file, trust=True)
    assert marker.exists()
    assert torch.equal(state["state_dict"]["weight"], torch.zeros(1))


def test_load_checkpoint_reads_plain_state_dicts_and_rejects_junk(tmp_path: Path) -> None:
    file = tmp_path / "ok.pth"
    torch.save({"w": torch.ones(3)}, file)
    assert torch.equal(load_checkpoint(file)["w"], torch.ones(3))
    with pytest.raises(WeightsError, match="not a file"):
        load_checkpoint(tmp_path / "missing.pth")


def test_read_text_names_file_line_and_column_of_bad_utf8(tmp_path: Path) -> None:
    from ncst.errors import CorpusLayoutError
    from ncst.io import read_text

    path = tmp_path / "meta.txt"
    path.write_bytes(b"\xef\xbb\xbfok line\nsecond caf\xe9 line\n")
    with pytest.raises(CorpusLayoutError, match=r"meta\.txt:2: not UTF-8 text \(byte 0xe9 at column 11\)"):
        read_text(path, error=CorpusLayoutError)
    path.write_bytes(b"\xef\xbb\xbfok line\n")
    assert read_text(path) == "ok line\n"  # the BOM is dropped


def test_read_json_errors_name_the_file(tmp_path: Path) -> None:
    from ncst.errors import NcstError
    from ncst.io import read_json

    path = tmp_path / "x.json"
    path.write_text('{"a": 1,\n "b": }\n')
    with pytest.raises(NcstError, match=r"x\.json:2: not valid JSON"):
        read_json(path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(NcstError, match="nested too deeply"):
        read_json(path)
    path.write_text('{"a": [1, 2]}')
    assert read_json(path) == {"a": [1, 2]}
