"""Resumable HTTP downloads with checksums, and archive extraction, on the standard library only.

Corpora and the official dataset come as archives of 10-20 GB, so a transfer that stops must continue
where it stopped: data goes to `<name>.part`, and a rerun asks the server for the remaining bytes with an
HTTP `Range` header (a server that ignores it makes us start over, logged as a warning). The file is
renamed into place only once it is complete: its size is the record's, else the server's (Content-Length
or Content-Range, kept in `<name>.part.json` for the resume), and its md5 matches when one is published.
A server that sends more than that size is cut off at it. `urllib` is used rather than a third-party
client: it does Range requests, proxies (`https_proxy`) and TLS with no extra dependency (see
`docs/install.md`). Every name and link from outside goes through `ncst.paths`, and archives
through `ncst.corpora.archives` (bounded, checked, never replacing existing files).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.archives import (
    ArchiveLimitError,
    DiskFullError,
    Limits,
    MemberProgress,
    MergeConflictError,
    disk_errors,
    extract_archive,
    merge_into,
)
from ncst.errors import ChecksumError, NcstError
from ncst.io import atomic_write_text
from ncst.paths import UnsafeNameError, check_name, check_url, inside

__all__ = [
    "ArchiveLimitError",
    "DiskFullError",
    "DownloadError",
    "FileProgress",
    "Limits",
    "MergeConflictError",
    "UnsafeNameError",
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


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """`bytes START-END/TOTAL` -> (START, TOTAL or None); None when absent or malformed."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    start, _, _ = span.partition("-")
    if not start.strip().isdigit():
        return None
    return int(start), int(total) if total.strip().isdigit() else None


def _header_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _read_saved_size(meta: Path, url: str) -> int | None:
    """The server's size saved by an earlier, interrupted run of the same URL (None if none or unreadable)."""
    try:
        saved = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    size = saved.get("size") if isinstance(saved, dict) and saved.get("url") == url else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def download_file(
    url: str,
    dest: PathLike,
    *,
    md5: str | None = None,
    size: int | None = None,
    timeout_s: float = 60.0,
    progress: ByteProgress | None = None,
    limits: Limits | None = None,
) -> Path:
    """Downloads `url` to `dest`, resuming a partial `dest.part`; verifies size and md5 when given.

    A `dest` that already exists with the right size and md5 is kept without any request. Without a
    record size, the server's (Content-Length, or the total of Content-Range) is the size the file must
    reach; it is saved beside the partial file, so a dropped connection resumes with Range and is never
    kept as a complete file. More bytes than that size are not read.

    Raises:
        UnsafeNameError: `url` is not http(s), or `dest` (or its partial file) is a symlink leading out of
            its folder.
        DownloadError: The server is unreachable, answers with an error, or the transfer stopped early
            (the partial file is kept: rerun to resume).
        ChecksumError: The finished file has the wrong md5 (the partial file is deleted, so a rerun
            starts over).
        DiskFullError: The disk filled up.
    """
    limits = limits or Limits()
    given = Path(dest)
    check_url(url, what=f"download of {given.name}:")
    folder = given.parent.absolute()
    with disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
    what = f"download of {url}: file"
    target = inside(folder, check_name(given.name, what=what, single=True), what=what)
    part = inside(folder, given.name + ".part", what=what)
    meta = inside(folder, given.name + ".part.json", what=what)
    if target.is_file() and (size is None or target.stat().st_size == size):
        if md5 is None or md5_file(target) == md5:
            log.info("%s already present%s", target, ", checksum ok" if md5 else "")
            return target
        log.warning("%s: md5 differs from the record; downloading it again (it is replaced once verified)", target)
    expected = size if size is not None else _read_saved_size(meta, url)
    for attempt in range(2):  # a second request from byte 0 when a resume cannot be trusted
        have = part.stat().st_size if part.is_file() else 0
        if expected is not None and have > expected:
            log.warning("%s is larger than the expected %d bytes; starting over", part, expected)
            have = 0
        if expected is not None and have == expected:
            break
        outcome = _transfer(url, part, meta, have, size, expected, timeout_s, progress, limits)
        if outcome is None:  # resume refused or inconsistent: start over once
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            expected = size
            if attempt == 0:
                continue
            raise DownloadError(f"{url}: the server answers Range requests inconsistently; rerun later")
        expected = outcome if outcome >= 0 else expected
        break
    if not part.is_file():  # a file the record says is empty: nothing to request
        with disk_errors(part):
            part.touch()
    got = part.stat().st_size
    if expected is not None and got != expected:
        raise DownloadError(
            f"{url}: transfer stopped at {got} of {expected} bytes; rerun the same command to resume from byte {got}"
        )
    if md5 is not None:
        actual = md5_file(part)
        if actual != md5:
            part.unlink()
            meta.unlink(missing_ok=True)
            raise ChecksumError(
                f"{target.name}: md5 {actual} differs from the record's {md5}; the partial file was deleted, "
                "rerun to download it again"
            )
    os.replace(part, target)
    meta.unlink(missing_ok=True)
    return target


def _transfer(
    url: str, part: Path, meta: Path, have: int, size: int | None, expected: int | None, timeout_s: float,
    progress: ByteProgress | None, limits: Limits,
) -> int | None:  # fmt: skip
    """One request: appends to `part` from byte `have`. Returns the size the file must reach (-1: unknown),
    or None when the resume must start over (416 without a known size, a Content-Range from elsewhere)."""
    request = urllib.request.Request(url, headers={"User-Agent": "ncst"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310 (checked: http(s) only)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # range past the end: complete only if we know the size it must have
            return None if expected is None else expected
        raise DownloadError(f"{url}: server answered HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, socket.timeout, OSError, http.client.HTTPException, ValueError) as err:
        raise DownloadError(_offline_message(url, err)) from err
    with response:
        status = getattr(response, "status", 200)
        server_total: int | None
        if have and status == 206:
            span = _content_range(response.headers.get("Content-Range"))
            if span is None or span[0] != have or (expected is not None and span[1] not in (None, expected)):
                log.warning(
                    "%s answered Range %d- with %r; starting over", url, have, response.headers.get("Content-Range")
                )
                return None
            server_total = span[1]
        else:
            if have:
                log.warning("%s ignored the Range request (HTTP %s); downloading from the start", url, status)
            have = 0
            length = _header_int(response.headers.get("Content-Length"))
            server_total = length
        if size is not None and server_total is not None and server_total != size:
            log.warning("%s: the server announces %d bytes, the record %d; reading %d", url, server_total, size, size)
        total = size if size is not None else (expected if expected is not None else server_total)
        if size is None and total is not None:
            with disk_errors(meta):
                atomic_write_text(meta, json.dumps({"url": url, "size": total}) + "\\n", fsync=False)
        cap = total if total is not None else limits.max_download_bytes
        done = have
        try:
            with disk_errors(part), open(part, "ab" if have else "wb") as fh:
                while done < cap:
                    block = response.read(min(_CHUNK, cap - done))
                    if not block:
                        break
                    fh.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
                if total is None and done >= cap and response.read(1):
                    raise DownloadError(
                        f"{url}: sends more than {cap} bytes and neither the record nor the server gives a size; "
                        "refusing it (bound: Limits.max_download_bytes)"
                    )
        except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException) as err:
            raise DownloadError(_offline_message(url, err)) from err
    return total if total is not None else -1


def _url_file_name(url: str) -> str:
    """The file name a URL ends in (`.../LA.zip?sequence=1` -> `LA.zip`), checked as a plain name."""
    path = urllib.parse.urlsplit(url).path
    name = urllib.parse.unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return str(check_name(name, what=f"{url}: file name", single=True))


def download_and_extract(
    url: str,
    target_dir: PathLike,
    *,
    force: bool = False,
    md5: str | None = None,
    progress: FileProgress | None = None,
    limits: Limits | None = None,
) -> Path:
    """Downloads one archive into `target_dir/downloads/`, extracts it into `target_dir`, marks completion.

    Returns `target_dir`. With a `.completed` marker present and `force` false, nothing is done (no
    request, nothing rewritten). Without a published md5 the archive cannot be checked before it is
    opened: one that fails to open (corrupt, truncated) is downloaded again once, then it is an error.

    Raises:
        UnsafeNameError, DownloadError, ChecksumError, ArchiveLimitError, MergeConflictError, DiskFullError:
            see `download_file`, `extract_archive` and `merge_into`.
    """
    root = Path(target_dir).expanduser().absolute()
    check_url(url, what="corpus")
    with disk_errors(root):
        root.mkdir(parents=True, exist_ok=True)
    marker = inside(root, ".completed", what="marker")
    if marker.is_file() and not force:
        log.info("%s already downloaded (remove %s or pass force=True to redo)", root, marker)
        return root
    name = _url_file_name(url)
    downloads = inside(root, "downloads", what="downloads folder")
    on_bytes: ByteProgress | None = None
    on_members: MemberProgress | None = None
    if progress is not None:
        report = progress

        def on_bytes(done: int, total: int | None) -> None:
            report(name, done, total)

        def on_members(done: int, total: int) -> None:
            report(f"extract {name}", done, total)

    archive = download_file(url, downloads / name, md5=md5, progress=on_bytes, limits=limits)
    try:
        extract_archive(archive, root, progress=on_members, limits=limits)
    except ChecksumError as err:
        if md5 is not None:
            raise
        log.warning("%s does not open (%s); downloading it again once", archive, err)
        archive.unlink()
        archive = download_file(url, downloads / name, progress=on_bytes, limits=limits)
        extract_archive(archive, root, progress=on_members, limits=limits)
    with disk_errors(marker):
        atomic_write_text(marker, url + "\\n")
    return root
