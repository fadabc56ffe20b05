"""Hostile archives, names, links and servers against the corpus downloads (loopback only, never the network)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ncst.corpora.download as download_module
from ncst.cli.main import app
from ncst.corpora.archives import ArchiveLimitError, DiskFullError, Limits, MergeConflictError
from ncst.corpora.download import DownloadError, download_and_extract, download_file, extract_archive
from ncst.corpora.fakes import FakeZenodo
from ncst.errors import ChecksumError
from ncst.paths import UnsafeNameError, check_name, check_url


@pytest.fixture
def server() -> Iterator[FakeZenodo]:
    with FakeZenodo() as srv:
        yield srv


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for folders and links)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(folder.rglob("*"))
    }


def _zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../x", "a/../../x", "a\\..\\..\\x", "a\x00b", "a\nb", "C:x", "", " ", "..", 5, None, "a" * 256],
    ids=[
        "abs",
        "dotdot",
        "inner-dotdot",
        "backslash",
        "nul",
        "newline",
        "drive",
        "empty",
        "blank",
        "up",
        "int",
        "none",
        "long",
    ],
)
def test_check_name_refuses_hostile_names(name: object) -> None:
    with pytest.raises(UnsafeNameError, match="member"):
        check_name(name, what="archive a.zip, member")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://h/x.zip", "data:,x", "http://", "http://h/a b", 3])
def test_check_url_refuses_what_is_not_http(url: object) -> None:
    with pytest.raises(UnsafeNameError, match="record 7"):
        check_url(url, what="record 7")


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/abs-escape.txt", "a\\..\\..\\escape.txt", "a\x01b.txt"])
def test_zip_members_with_hostile_names_write_nothing(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "in" / "a.zip"
    archive.parent.mkdir()
    archive.write_bytes(_zip({"ok.txt": b"fine", member: b"evil"}))
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeNameError, match="a.zip, member"):
        extract_archive(archive, tmp_path / "out")
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "out"} == before


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE])
def test_tar_links_and_devices_are_refused(tmp_path: Path, kind: bytes) -> None:
    """Guards behaviour that already held (links were refused before), now with the link target named."""
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tf:
        link = tarfile.TarInfo("data/link")
        link.type, link.linkname = kind, "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(ArchiveLimitError, match="data/link"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "data").exists()


def test_symlink_already_in_the_target_leading_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "train").symlink_to(outside)
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"train/a.wav": b"RIFF"}))
    with pytest.raises(UnsafeNameError, match="leads outside"):
        extract_archive(archive, out)
    assert list(outside.iterdir()) == []


def test_merge_never_replaces_a_folder_with_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data" / "mine.wav").write_bytes(b"mine")
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"data": b"a file where my folder is", "new.txt": b"new"}))
    with pytest.raises(MergeConflictError, match="data"):
        extract_archive(archive, out)
    assert (out / "data" / "mine.wav").read_bytes() == b"mine"
    assert not (out / "new.txt").exists()  # nothing moved in before the clash was found


def test_merge_never_replaces_a_file_with_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "label").write_bytes(b"my file")
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"label/train.txt": b"a.wav real 0\n"}))
    with pytest.raises(MergeConflictError, match="label"):
        extract_archive(archive, out)
    assert (out / "label").read_bytes() == b"my file"


def test_merge_never_overwrites_a_file_with_other_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)
    (out / "d" / "a.txt").write_bytes(b"mine")
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"d/a.txt": b"theirs"}))
    with pytest.raises(MergeConflictError, match="other content"):
        extract_archive(archive, out)
    assert (out / "d" / "a.txt").read_bytes() == b"mine"


def test_extracting_the_same_archive_twice_keeps_the_files(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"d/a.txt": b"same", "d/b.txt": b"also"}))
    extract_archive(archive, tmp_path / "out")
    inode = (tmp_path / "out" / "d" / "a.txt").stat().st_ino
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "a.txt").stat().st_ino == inode  # kept, not rewritten


def test_zip_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(_zip({"zeros.bin": bytes(8 << 20)}))
    assert archive.stat().st_size * 500 < 8 << 20  # deflate packs 8 MiB of zeros about 1000:1
    with pytest.raises(ArchiveLimitError, match="decompression bomb"):
        extract_archive(archive, tmp_path / "out")
    assert _snapshot(tmp_path / "out") == {}


def test_tar_gz_bomb_is_refused_at_its_header(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 8 << 20
        tf.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(ArchiveLimitError, match="decompression bomb"):
        extract_archive(archive, tmp_path / "out")
    assert _snapshot(tmp_path / "out") == {}


def test_total_size_bound_is_settable(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tf:
        for i in range(3):
            info = tarfile.TarInfo(f"f{i}.bin")
            info.size = 4000
            tf.addfile(info, io.BytesIO(os.urandom(info.size)))
    with pytest.raises(ArchiveLimitError, match="more than 10000 bytes"):
        extract_archive(archive, tmp_path / "out", limits=Limits(max_unpacked_bytes=10_000))
    assert len(extract_archive(archive, tmp_path / "ok", limits=Limits(max_unpacked_bytes=12_000))) == 3


def test_too_little_free_disk_is_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ncst.corpora.archives as archives

    monkeypatch.setattr(archives, "_free_bytes", lambda folder: 100)
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"a.bin": os.urandom(5000)}))
    with pytest.raises(DiskFullError, match="only 100 are free"):
        extract_archive(archive, tmp_path / "out")


def test_a_full_disk_is_one_line_and_exit_2(
    server: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.files = {"st.zip": _zip({"label/train.txt": b"a.wav real 0\n", "train/a.wav": b"RIFF"})}

    def full_disk(path: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode or "a" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return open(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(download_module, "open", full_disk, raising=False)
    out = tmp_path / "st"
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(out), "--api-url", server.url])
    assert result.exit_code == 2
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert result.output.count("error:") == 1


def test_server_sending_more_than_the_record_size_is_cut_there(server: FakeZenodo, tmp_path: Path) -> None:
    data = os.urandom(3000)
    server.files = {"a.bin": data}
    server.misbehave["a.bin"] = "extra"
    got = download_file(f"{server.url}/files/a.bin", tmp_path / "a.bin", size=3000,
                        md5=hashlib.md5(data).hexdigest())  # fmt: skip
    assert got.read_bytes() == data


def test_unchecked_download_cut_short_is_resumed_not_kept(server: FakeZenodo, tmp_path: Path) -> None:
    data = os.urandom(20_000)
    server.files = {"LA.zip": data}
    server.misbehave["LA.zip"] = "truncate"
    with pytest.raises(DownloadError, match="stopped at 10000 of 20000"):
        download_file(f"{server.url}/files/LA.zip", tmp_path / "LA.zip")
    assert not (tmp_path / "LA.zip").exists()
    del server.misbehave["LA.zip"]
    server.requests.clear()
    assert download_file(f"{server.url}/files/LA.zip", tmp_path / "LA.zip").read_bytes() == data
    assert server.requests == [("/files/LA.zip", "bytes=10000-")]


def test_resume_answered_with_the_whole_file_starts_over(server: FakeZenodo, tmp_path: Path) -> None:
    data = os.urandom(5000)
    server.files = {"a.zip": data}
    server.misbehave["a.zip"] = "ignore-range"
    (tmp_path / "a.zip.part").write_bytes(data[:1000])
    assert download_file(f"{server.url}/files/a.zip", tmp_path / "a.zip").read_bytes() == data


def test_part_file_symlink_leading_out_is_refused(server: FakeZenodo, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "a.zip.part").symlink_to(victim)
    server.files = {"a.zip": b"payload"}
    with pytest.raises(UnsafeNameError, match="leads outside"):
        download_file(f"{server.url}/files/a.zip", tmp_path / "dl" / "a.zip")
    assert victim.read_bytes() == b"keep me"


def test_file_links_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    with pytest.raises(UnsafeNameError, match="only http"):
        download_and_extract(f"file://{secret}", tmp_path / "out")
    assert not (tmp_path / "out" / "downloads").exists()


def test_cached_archive_that_does_not_open_is_downloaded_again_once(server: FakeZenodo, tmp_path: Path) -> None:
    good = _zip({"LA/ASVspoof2019_LA_cm_protocols/x.txt": b"x"})
    server.files = {"LA.zip": good}
    cached = tmp_path / "out" / "downloads" / "LA.zip"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK not really a zip")
    download_and_extract(f"{server.url}/files/LA.zip", tmp_path / "out")
    assert (tmp_path / "out" / "LA" / "ASVspoof2019_LA_cm_protocols" / "x.txt").read_bytes() == b"x"
    assert [path for path, _ in server.requests] == ["/files/LA.zip"]


def test_archive_that_still_does_not_open_after_one_retry_is_an_error(server: FakeZenodo, tmp_path: Path) -> None:
    server.files = {"LA.zip": b"garbage, twice"}
    with pytest.raises(ChecksumError, match="LA.zip"):
        download_and_extract(f"{server.url}/files/LA.zip", tmp_path / "out")
    assert len(server.requests) == 2
    assert not (tmp_path / "out" / ".completed").exists()


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    import stat

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("data/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    with pytest.raises(ArchiveLimitError, match="data/link' is a link"):
        extract_archive(tmp_path / "a.zip", tmp_path / "out")
    assert _snapshot(tmp_path / "out") == {}


def test_tar_made_with_dot_as_top_folder_extracts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "train").mkdir(parents=True)
    (src / "train" / "a.wav").write_bytes(b"RIFF")
    archive = tmp_path / "a.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname=".")  # members ".", "./train", "./train/a.wav", as `tar -C src -czf a.tgz .` makes
    assert [p.name for p in extract_archive(archive, tmp_path / "out")] == ["a.wav"]


def test_cli_bounds_are_settable(tmp_path: Path, server: FakeZenodo) -> None:
    data = os.urandom(4 << 20)  # 4 MiB that do not compress: far under the default bounds
    server.files = {"st.zip": _zip({"label/train.txt": b"a.bin real 0\n", "train/a.bin": data})}
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path / "st"), "--api-url",
                                      server.url, "--max-unpacked-gb", "0.001"])  # fmt: skip
    assert result.exit_code == 2
    assert "bound: --max-unpacked-gb" in result.output
