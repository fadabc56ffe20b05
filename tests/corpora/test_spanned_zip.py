"""Split (`.zNN`) zip archives are read as one archive: listed, CRC-checked and extracted, no joined copy."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from ncst.corpora.download import ArchiveLimitError, UnsafeNameError, extract_archive
from ncst.corpora.fakes import write_split_zip
from ncst.corpora.spanned_zip import SpannedZipError, SpannedZipView, join_spanned_zip, spanned_parts
from ncst.errors import ChecksumError

MEMBERS = {
    "st/label/train.txt": b"a.wav real 0\nb.wav fake 1\n",
    "st/train/a.wav": bytes(range(256)) * 40,
    "st/train/b.wav": os.urandom(9000),
    "st/train/empty.wav": b"",
}


def _zip_bytes(comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, payload) in enumerate(MEMBERS.items()):
            zf.writestr(name, payload, compress_type=zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED)
        zf.comment = comment
    return buf.getvalue()


def _read_all(last: Path) -> dict[str, bytes]:
    with SpannedZipView(last) as view, zipfile.ZipFile(view) as zf:
        assert zf.testzip() is None
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.mark.parametrize(
    "options",
    [
        {"segment_bytes": 1000},
        {"segment_bytes": 777, "marker": False},
        {"segment_bytes": 1500, "zip64_fields": True},
        {"segment_bytes": 4096, "zip64_end": True},
        {"segment_bytes": None, "zip64_fields": True, "zip64_end": True},
    ],
    ids=["marker", "no-marker", "zip64-fields", "zip64-end", "one-entry-per-segment"],
)
def test_split_layouts_read_as_the_original(tmp_path: Path, options: dict) -> None:
    parts = write_split_zip(_zip_bytes(b"made by ncst"), tmp_path, "arc", **options)
    assert len(parts) >= 3
    assert spanned_parts(tmp_path / "arc.zip") == parts
    assert _read_all(tmp_path / "arc.zip") == MEMBERS
    joined = join_spanned_zip(tmp_path / "arc.zip", tmp_path / "joined.zip")
    with zipfile.ZipFile(joined) as zf:
        assert zf.testzip() is None and zf.comment == b"made by ncst"
        assert {i.filename: zf.read(i) for i in zf.infolist()} == MEMBERS


def test_entries_past_4_gib_get_zip64_offsets(tmp_path: Path) -> None:
    hole = (1 << 32) + 12345
    parts = write_split_zip(_zip_bytes(), tmp_path, "big", segment_bytes=None, hole_bytes=hole)
    if parts[0].stat().st_blocks * 512 > (1 << 24):
        parts[0].unlink()
        pytest.skip("this file system does not keep sparse files sparse")
    with SpannedZipView(tmp_path / "big.zip") as view, zipfile.ZipFile(view) as zf:
        assert view.size > 1 << 32
        offsets = sorted(info.header_offset for info in zf.infolist())
        assert offsets[-1] > 1 << 32  # read back through the zip64 extra field the view wrote
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in zf.infolist()} == MEMBERS


def test_extract_archive_reads_split_archives(tmp_path: Path) -> None:
    write_split_zip(_zip_bytes(), tmp_path / "dl", "arc", segment_bytes=1000)
    written = extract_archive(tmp_path / "dl" / "arc.zip", tmp_path / "out")
    assert len(written) == len(MEMBERS)
    for name, payload in MEMBERS.items():
        assert (tmp_path / "out" / name).read_bytes() == payload


def test_missing_segment_is_named(tmp_path: Path) -> None:
    parts = write_split_zip(_zip_bytes(), tmp_path, "arc", segment_bytes=1000)
    parts[1].unlink()
    with pytest.raises(SpannedZipError, match=r"segments but .* were found.*download the missing \.zNN"):
        SpannedZipView(tmp_path / "arc.zip")
    with pytest.raises(ChecksumError, match="arc.zip"):
        extract_archive(tmp_path / "arc.zip", tmp_path / "out")


def test_truncated_segment_fails_the_crc_or_the_layout_check(tmp_path: Path) -> None:
    parts = write_split_zip(_zip_bytes(), tmp_path, "arc", segment_bytes=1000)
    with open(parts[0], "r+b") as fh:
        fh.truncate(600)
    with pytest.raises(ChecksumError):
        extract_archive(tmp_path / "arc.zip", tmp_path / "out")


def test_crafted_offsets_and_counts_are_refused(tmp_path: Path) -> None:
    parts = write_split_zip(_zip_bytes(), tmp_path, "arc", segment_bytes=1000)
    last = bytearray(parts[-1].read_bytes())
    eocd = last.rfind(b"PK\x05\x06")
    crafted = bytearray(last)
    crafted[eocd + 10 : eocd + 12] = (60000).to_bytes(2, "little")  # 60000 entries in a 4-entry directory
    parts[-1].write_bytes(bytes(crafted))
    with pytest.raises(SpannedZipError, match="central directory ends after 4 of 60000 entries"):
        SpannedZipView(parts[-1])
    crafted = bytearray(last)
    first_entry = crafted.find(b"PK\x01\x02")
    crafted[first_entry + 42 : first_entry + 46] = (999_999).to_bytes(4, "little")
    parts[-1].write_bytes(bytes(crafted))
    with pytest.raises(SpannedZipError, match="offset 999999 lies past the end"):
        SpannedZipView(parts[-1])
    parts[-1].write_bytes(b"not a zip at all")
    with pytest.raises(SpannedZipError, match="no end-of-central-directory record"):
        SpannedZipView(parts[-1])


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP's zip is not installed")
def test_archives_made_by_info_zip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name, payload in {**MEMBERS, "st/train/big.wav": os.urandom(150_000)}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(payload)
    subprocess.run(["zip", "-q", "-r", "-s", "64k", str(tmp_path / "arc.zip"), "st"], cwd=src, check=True)
    assert len(spanned_parts(tmp_path / "arc.zip")) >= 3
    files = {k: v for k, v in _read_all(tmp_path / "arc.zip").items() if not k.endswith("/")}
    assert files == {name: (src / name).read_bytes() for name in files} and len(files) == len(MEMBERS) + 1
    subprocess.run(["zip", "-q", "-s", "0", "arc.zip", "--out", "ref.zip"], cwd=tmp_path, check=True)
    joined = join_spanned_zip(tmp_path / "arc.zip", tmp_path / "joined.zip")
    # `zip -s 0` copies only the bytes entries point at; the view keeps every segment byte (Info-ZIP can
    # leave unreferenced bytes in a segment), so compare listings, not bytes.
    with zipfile.ZipFile(joined) as ours, zipfile.ZipFile(tmp_path / "ref.zip") as ref:
        assert ours.testzip() is None
        listing = [(i.filename, i.CRC, i.file_size, i.compress_size) for i in ours.infolist()]
        assert listing == [(i.filename, i.CRC, i.file_size, i.compress_size) for i in ref.infolist()]
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-tq", str(joined)], check=True, capture_output=True)


def test_mutated_archives_fail_only_with_checksum_errors(tmp_path: Path) -> None:
    """Seeded byte flips and truncations anywhere in plain and split archives: extraction either succeeds
    or raises ChecksumError, or an ncst refusal when a flip lands in a name or a mode (before: bare
    EOFError, NotImplementedError, RuntimeError or OSError)."""
    import random

    rng = random.Random(20261128)
    data = _zip_bytes()
    outcomes = {"ok": 0, "refused": 0}
    for trial in range(300):
        folder = tmp_path / f"t{trial}"
        if trial % 4 == 0:
            folder.mkdir()
            parts = [folder / "a.zip"]
            parts[0].write_bytes(data)
        else:
            parts = write_split_zip(data, folder, "a", segment_bytes=rng.choice([700, 1500, 4000]),
                                    zip64_fields=rng.random() < 0.5, zip64_end=rng.random() < 0.5)  # fmt: skip
        target = rng.choice(parts)
        mutated = bytearray(target.read_bytes())
        if rng.random() < 0.1:
            del mutated[rng.randrange(len(mutated)) :]
        for _ in range(rng.randint(1, 4)):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        target.write_bytes(bytes(mutated))
        try:
            extract_archive(parts[-1], folder / "out")
            outcomes["ok"] += 1
        except (ChecksumError, UnsafeNameError, ArchiveLimitError):
            outcomes["refused"] += 1
        shutil.rmtree(folder)
    assert outcomes["refused"] > 250  # most mutations are caught (CRC, offsets, signatures)


def test_mutated_compressed_tars_fail_only_with_checksum_errors(tmp_path: Path) -> None:
    """The same for .tar.gz/.tar.bz2/.tar.xz (before: gzip's BadGzipFile escaped as itself)."""
    import random
    import tarfile

    rng = random.Random(7)
    archives = {}
    for mode, suffix in (("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
            for name, payload in MEMBERS.items():
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
        archives[suffix] = buf.getvalue()
    refused = 0
    for trial in range(300):
        suffix = rng.choice(sorted(archives))
        mutated = bytearray(archives[suffix])
        if rng.random() < 0.2:
            del mutated[rng.randrange(len(mutated)) :]
        for _ in range(rng.randint(1, 4)):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path = tmp_path / f"t{trial}.{suffix}"
        path.write_bytes(bytes(mutated))
        try:
            extract_archive(path, tmp_path / f"out{trial}")
        except (ChecksumError, UnsafeNameError, ArchiveLimitError):
            refused += 1
        shutil.rmtree(tmp_path / f"out{trial}", ignore_errors=True)
        path.unlink()
    assert refused > 150


def test_zip_damage_found_by_the_sweeps_is_a_checksum_error(tmp_path: Path) -> None:
    """Two cases a 16,000-archive sweep found after the first fixes, made deterministic."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("d/a.bin", b"abc" * 300, compress_type=zipfile.ZIP_BZIP2)
    data = bytearray(buf.getvalue())
    # 1. The UTF-8 name flag set on a name that is not UTF-8 (zipfile: bare UnicodeDecodeError).
    bad_name = bytearray(data)
    entry = bad_name.find(b"PK\x01\x02")
    bad_name[entry + 9] |= 0x08  # general purpose flags, high byte: bit 11 = UTF-8 names
    bad_name[entry + 46 + 1] = 0xFF  # second byte of the name
    (tmp_path / "name.zip").write_bytes(bytes(bad_name))
    with pytest.raises(ChecksumError, match="name.zip"):
        extract_archive(tmp_path / "name.zip", tmp_path / "out1")
    # 2. A bzip2 member whose stream header is damaged (zipfile: OSError 'Invalid data stream', no errno).
    bad_stream = bytearray(data)
    name_len, extra_len = int.from_bytes(data[26:28], "little"), int.from_bytes(data[28:30], "little")
    bad_stream[30 + name_len + extra_len] ^= 0xFF  # the 'B' of 'BZh'
    (tmp_path / "bz2.zip").write_bytes(bytes(bad_stream))
    with pytest.raises(ChecksumError, match="bz2.zip"):
        extract_archive(tmp_path / "bz2.zip", tmp_path / "out2")


def test_crc_failure_midway_leaves_no_files_and_progress_counts_members(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # stored: a flipped data byte reaches the CRC check, not inflate
        for i in range(3):
            zf.writestr(f"d/f{i}.bin", bytes([i]) * 1000)
    data = bytearray(buf.getvalue())
    good = tmp_path / "good.zip"
    good.write_bytes(bytes(data))
    calls: list[tuple[int, int]] = []
    assert len(extract_archive(good, tmp_path / "ok", progress=lambda d, t: calls.append((d, t)))) == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    second = data.find(b"d/f1.bin") + len("d/f1.bin") + 10  # inside the second member's data
    data[second] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    mine = tmp_path / "out" / "d" / "f0.bin"  # a file of the same name, already there
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"mine")
    with pytest.raises(ChecksumError, match=r"member 'd/f1\.bin' fails its CRC check"):
        extract_archive(bad, tmp_path / "out")
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == [mine]  # nothing added, nothing left over
    assert mine.read_bytes() == b"mine"  # and nothing overwritten
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["d"]  # no staging folder after success
