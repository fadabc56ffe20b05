"""Resumable HTTP downloads with checksums, and archive extraction, on the standard library only.

Corpora and the official dataset come as archives of 10-20 GB, so a transfer that stops must continue
where it stopped: data goes to `<name>.part`, and a rerun asks the server for the remaining bytes with an
HTTP `Range` header (a server that ignores it makes us start over, logged as a warning). The file is
renamed into place only once its size and md5 (when known) match. `urllib` is used rather than a
third-party client: it does Range requests, proxies (`https_proxy`) and TLS with no extra dependency
(see `docs/install.md`).
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import logging
import lzma
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.spanned_zip import SpannedZipView, spanned_parts
from ncst.errors import ChecksumError, NcstError

__all__ = [
    "DownloadError",
    "FileProgress",
    "download_file",
    "extract_archive",
    "download_and_extract",
    "md5_file",
    "merge_into",
]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
#: Called with (bytes done, bytes total or None).
ByteProgress = Callable[[int, "int | None"], None]
#: Called with (archive members done, members total).
MemberProgress = Callable[[int, int], None]
#: Called with (what: a file name, or "extract <archive>"; amount done; total or None): bytes while
#: downloading, members while extracting. `ncst download` draws one progress bar per label.
FileProgress = Callable[[str, int, "int | None"], None]


class DownloadError(NcstError):
    """The network or the server failed; the message says what to do (retry, check the connection)."""


def md5_file(path: PathLike, *, chunk_bytes: int = _CHUNK) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_bytes), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline_message(url: str, err: BaseException) -> str:
    return (
        f"cannot reach {url} ({err}); check the network connection or proxy (https_proxy), then rerun the "
        "same command: finished files are kept and a partial file resumes where it stopped"
    )


def download_file(
    url: str,
    dest: PathLike,
    *,
    md5: str | None = None,
    size: int | None = None,
    timeout_s: float = 60.0,
    progress: ByteProgress | None = None,
) -> Path:
    """Downloads `url` to `dest`, resuming a partial `dest.part`; verifies size and md5 when given.

    A `dest` that already exists with the right size and md5 is kept without any request.

    Raises:
        DownloadError: The server is unreachable or answers with an error.
        ChecksumError: The finished file has the wrong size or md5 (the partial file is deleted, so a
            rerun starts over).
    """
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and (size is None or target.stat().st_size == size):
        if md5 is None or md5_file(target) == md5:
            log.info("%s already present, checksum ok", target)
            return target
        log.warning("%s: md5 differs from the record; downloading it again", target)
        target.unlink()
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have > size:
        log.warning("%s is larger than the expected %d bytes; starting over", part, size)
        part.unlink()
        have = 0
    if size is None or have < size:
        request = urllib.request.Request(url, headers={"User-Agent": "ncst"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310 (https URLs from records)
        except urllib.error.HTTPError as err:
            if err.code == 416 and have:  # range past the end: the part file is already complete
                response = None
            else:
                raise DownloadError(f"{url}: server answered HTTP {err.code} {err.reason}") from err
        except (urllib.error.URLError, socket.timeout, OSError) as err:
            raise DownloadError(_offline_message(url, err)) from err
        if response is not None:
            with response:
                status = getattr(response, "status", 200)
                if have and status != 206:
                    log.warning("%s ignored the Range request (HTTP %s); downloading from the start", url, status)
                    have = 0
                total = size
                length = response.headers.get("Content-Length")
                if total is None and length is not None:
                    total = int(length) + have
                mode = "ab" if have else "wb"
                try:
                    with open(part, mode) as fh:
                        done = have
                        for block in iter(lambda: response.read(_CHUNK), b""):
                            fh.write(block)
                            done += len(block)
                            if progress:
                                progress(done, total)
                except (urllib.error.URLError, socket.timeout, ConnectionError) as err:
                    raise DownloadError(_offline_message(url, err)) from err
    got = part.stat().st_size
    if size is not None and got != size:
        raise DownloadError(
            f"{url}: transfer stopped at {got} of {size} bytes; rerun the same command to resume from byte {got}"
        )
    if md5 is not None:
        actual = md5_file(part)
        if actual != md5:
            part.unlink()
            raise ChecksumError(
                f"{target.name}: md5 {actual} differs from the record's {md5}; the partial file was deleted, "
                "rerun to download it again"
            )
    os.replace(part, target)
    return target


def extract_archive(archive: PathLike, dest_dir: PathLike, *, progress: MemberProgress | None = None) -> list[Path]:
    """Extracts a .zip, .tar, .tar.gz/.tgz archive into `dest_dir`; returns the regular files it wrote.

    Every member is checked: paths must stay inside `dest_dir` (all of them, before anything is written),
    zip CRCs are verified while the data is written (one pass over the archive, not a `testzip` pass and
    then an extraction pass), and the number and sizes of the files on disk are compared with the
    archive's own listing afterwards, so an archive that extracts only partly fails loudly instead of
    exiting 0. The archive is extracted into a hidden folder inside `dest_dir` and moved into place only
    once every check passed: a corrupt archive changes nothing in `dest_dir` (no half-extracted files,
    no file of the same name overwritten). `progress(members done, members total)` is called after each
    member.

    Raises:
        ChecksumError: A member is corrupt, or a file on disk does not have its listed size.
        NcstError: Unknown archive type, or a member would land outside `dest_dir`.
    """
    path = Path(archive)
    out = Path(dest_dir).absolute()
    name = path.name.lower()
    if name.endswith(".zip"):
        extract = _extract_zip
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        extract = _extract_tar
    else:
        raise NcstError(f"{path}: unknown archive type; expected .zip, .tar, .tar.gz or .tgz")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.extracting-", dir=out))
    try:
        expected = extract(path, staging, progress)
        wrong = [
            str(out / p.relative_to(staging)) for p, n in expected.items() if not p.is_file() or p.stat().st_size != n
        ]
        if wrong:
            raise ChecksumError(
                f"{path}: {len(wrong)} of {len(expected)} extracted files are missing or have the wrong size "
                f"(e.g. {wrong[:3]}); free disk space and extract again"
            )
        merge_into(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("extracted %d files from %s", len(expected), path)
    return sorted(out / p.relative_to(staging) for p in expected)


def merge_into(src: Path, dest: Path) -> None:
    """Moves the contents of `src` into `dest` (renames; merges folders that exist in both)."""
    dest.mkdir(parents=True, exist_ok=True)
    for child in sorted(src.iterdir()):
        target = dest / child.name
        if child.is_dir() and target.is_dir():
            merge_into(child, target)
            child.rmdir()
        else:
            if target.exists():
                target.unlink() if target.is_file() else shutil.rmtree(target)
            child.replace(target)


def _extract_zip(path: Path, out: Path, progress: MemberProgress | None) -> dict[Path, int]:
    try:
        with _open_zip(path) as zf:
            infos = zf.infolist()
            targets = [_inside(out, info.filename) for info in infos]
            for done, info in enumerate(infos, 1):
                try:
                    zf.extract(info, out)  # ZipExtFile checks the CRC when it reaches the member's end
                except zipfile.BadZipFile as err:
                    raise ChecksumError(
                        f"{path}: member {info.filename!r} fails its CRC check ({err}); download the archive again"
                    ) from err
                if progress:
                    progress(done, len(infos))
            return {t: i.file_size for t, i in zip(targets, infos) if not i.is_dir()}
    except (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, UnicodeDecodeError) as err:
        # truncated data ends inside a member; a damaged header names another method or a non-UTF-8 name
        raise ChecksumError(f"{path}: not a readable zip archive ({err!r}); download it again") from err
    except OSError as err:
        # EINVAL: an entry points before the start; no errno: bz2's "Invalid data stream". A full disk or
        # a permission problem (any other errno) is not a corrupt archive and raises as itself.
        if err.errno not in (None, errno.EINVAL):
            raise
        raise ChecksumError(f"{path}: corrupt zip archive ({err}); download it again") from err
    except (NotImplementedError, RuntimeError) as err:  # zipfile: unknown method/version, "encrypted"
        raise ChecksumError(
            f"{path}: zipfile cannot read it ({err}): either the archive is corrupt (download it again) or it "
            "uses a feature Python lacks (Deflate64, encryption); then extract it with 7z and rerun"
        ) from err


def _extract_tar(path: Path, out: Path, progress: MemberProgress | None) -> dict[Path, int]:
    expected: dict[Path, int] = {}
    try:
        with tarfile.open(path) as tf:
            members = tf.getmembers()
            for member in members:
                target = _inside(out, member.name)
                if member.isfile():
                    expected[target] = member.size
                elif not member.isdir():
                    raise NcstError(f"{path}: member {member.name!r} is a link or device; refusing to extract")
            for done, member in enumerate(members, 1):
                if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: refuse unsafe members
                    tf.extract(member, out, filter="data")
                else:  # pragma: no cover - older patch releases; members were checked above
                    tf.extract(member, out)
                if progress:
                    progress(done, len(members))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as err:
        raise ChecksumError(f"{path}: truncated or corrupt tar archive ({err}); download it again") from err
    return expected


@contextlib.contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """Opens a zip archive; a split one (`x.z01 ... x.zip`) through a view of its segments as one archive."""
    if len(spanned_parts(path)) == 1:
        with zipfile.ZipFile(path) as zf:
            yield zf
        return
    # Buffered: zipfile reads members with read(n), which a raw stream answers with an extra copy.
    with io.BufferedReader(SpannedZipView(path), buffer_size=1 << 20) as view, zipfile.ZipFile(view) as zf:
        yield zf


def _inside(root: Path, member: str) -> Path:
    target = (root / member).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise NcstError(f"archive member {member!r} would be written outside {root}; refusing to extract")
    return target


def download_and_extract(
    url: str, target_dir: Path, *, force: bool = False, md5: str | None = None, progress: FileProgress | None = None
) -> Path:
    """Downloads one archive into `target_dir/downloads/`, extracts it into `target_dir`, marks completion.

    Returns `target_dir`. With a `.completed` marker present and `force` false, nothing is done.
    """
    target_dir = Path(target_dir).expanduser().absolute()
    marker = target_dir / ".completed"
    if marker.is_file() and not force:
        log.info("%s already downloaded (remove %s or pass force=True to redo)", target_dir, marker)
        return target_dir
    name = url.rstrip("/").rsplit("/", 1)[-1]
    on_bytes: ByteProgress | None = None
    on_members: MemberProgress | None = None
    if progress is not None:
        report = progress

        def on_bytes(done: int, total: int | None) -> None:
            report(name, done, total)

        def on_members(done: int, total: int) -> None:
            report(f"extract {name}", done, total)

    archive = download_file(url, target_dir / "downloads" / name, md5=md5, progress=on_bytes)
    extract_archive(archive, target_dir, progress=on_members)
    marker.write_text(url + "\n", encoding="utf-8")
    return target_dir
