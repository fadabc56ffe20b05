"""Bounded, checked extraction of .zip/.tar archives, and a merge that never replaces what is already there.

An archive from a download is an input like any other and may be crafted. Extraction therefore:

* checks every member name with `ncst.paths` (no absolute paths, `..`, backslashes, control
  characters) and refuses links, devices, a name given twice, and a file where the archive also has a
  folder, all before the first byte is written;
* bounds what it writes (`Limits`): the members' declared total, the ratio of unpacked to packed bytes
  (whole archive, and each member over 1 MiB), the number of members, and the free disk space, checked up
  front from the listing AND while writing, counting the bytes actually produced, since headers can lie;
* writes into a hidden staging folder inside the target and checks each file's size there, so a corrupt
  archive changes nothing in the target;
* moves the result in with `merge_into`, which never deletes or replaces anything: a file that exists with
  the same bytes is kept, anything else in the way (other bytes, a file where a folder comes, a folder where
  a file comes) is an error that names it, raised before anything moved.

A full disk raises `DiskFullError`, one line naming the file, never a bare OSError.
"""

from __future__ import annotations

import contextlib
import errno
import filecmp
import gzip
import io
import logging
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from ncst.corpora.spanned_zip import SpannedZipView, spanned_parts
from ncst.errors import ChecksumError, NcstError
from ncst.io import PathLike
from ncst.paths import check_name, inside

__all__ = [
    "ArchiveLimitError",
    "DiskFullError",
    "Limits",
    "MergeConflictError",
    "disk_errors",
    "extract_archive",
    "merge_into",
]

log = logging.getLogger(__name__)

GIB = 1 << 30
_CHUNK = 1 << 20
_RATIO_FLOOR_BYTES = 1 << 20  # members (and archives) smaller than this are not ratio-checked
_TOP = (".", "./")  # a folder entry for the archive's own top: nothing to create
#: Called with (archive members done, members total).
MemberProgress = Callable[[int, int], None]


class ArchiveLimitError(NcstError):
    """An archive would unpack to more than the bounds allow (a decompression bomb, or too little disk)."""


class DiskFullError(NcstError, OSError):
    """The disk (or quota) filled up while writing; the message names the file."""


class MergeConflictError(NcstError):
    """A downloaded file or folder would replace something that is already in the target folder."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one download may write.

    Defaults fit the largest archives ncst fetches (AISHELL-3: 19 GB, ST-Codecfake parts: tens of GB,
    audio compresses below 2:1). `ncst download --max-unpacked-gb/--max-ratio` set the first two.

    Attributes:
        max_unpacked_bytes: Most bytes one archive may unpack to (declared and actually written).
        max_ratio: Most unpacked bytes per packed byte, for the whole archive and for each member over
            1 MiB (deflate's own limit is about 1032:1; a bomb is refused at its listing).
        max_members: Most entries one archive may list.
        max_record_bytes: Most bytes of a record's JSON description.
        max_download_bytes: Most bytes of a download whose size neither the record nor the server gives.
    """

    max_unpacked_bytes: int = 1024 * GIB
    max_ratio: float = 100.0
    max_members: int = 5_000_000
    max_record_bytes: int = 16 << 20
    max_download_bytes: int = 256 * GIB


@contextlib.contextmanager
def disk_errors(path: PathLike) -> Iterator[None]:
    """Turns "no space left" and "quota exceeded" while writing `path` into one `DiskFullError` line."""
    try:
        yield
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or isinstance(err, NcstError):
            raise
        raise DiskFullError(
            f"{path}: {os.strerror(err.errno)} while writing; free space (or pass another --out), then rerun "
            "the same command: finished files are kept"
        ) from err


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


@dataclass(slots=True)
class _Member:
    name: PurePosixPath
    is_dir: bool
    size: int
    packed: int | None  # compressed size where the format gives one (zip)


def extract_archive(
    archive: PathLike, dest_dir: PathLike, *, progress: MemberProgress | None = None, limits: Limits | None = None
) -> list[Path]:
    """Extracts a .zip (also split `.z01 ... .zip`), .tar, .tar.gz/.tgz/.tar.bz2/.tar.xz into `dest_dir`.

    Returns the regular files it placed (files already present with the same bytes included).
    `progress(members done, members total)` is called after each member.

    Raises:
        ChecksumError: A member is corrupt (CRC), truncated, or a file on disk lacks its listed size.
        UnsafeNameError: A member name would land outside `dest_dir` or is not a plain relative name.
        ArchiveLimitError: A bound of `limits` is passed, a member is a link or device, or names clash.
        DiskFullError: Not enough free space for the declared contents, or the disk filled while writing.
        MergeConflictError: A member would replace a file or folder already in `dest_dir`.
        NcstError: Unknown archive type.
    """
    path = Path(archive)
    out = Path(dest_dir).absolute()
    limits = limits or Limits()
    name = path.name.lower()
    if name.endswith(".zip"):
        extract = _extract_zip
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        extract = _extract_tar
    else:
        raise NcstError(f"{path}: unknown archive type; expected .zip, .tar, .tar.gz, .tgz, .tar.bz2 or .tar.xz")
    out.mkdir(parents=True, exist_ok=True)
    with disk_errors(out):
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.extracting-", dir=out))
    try:
        expected = extract(path, staging, progress, limits)
        wrong = [
            str(out / p)
            for p, n in expected.items()
            if not (staging / p).is_file() or (staging / p).stat().st_size != n
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
    return sorted(out.joinpath(*p.parts) for p in expected)


def _plan(path: Path, members: list[_Member], archive_bytes: int, limits: Limits, staging: Path) -> None:
    """Checks the listing as a whole before anything is written: name clashes, sizes, ratio, free disk."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    total = 0
    for m in members:
        if m.is_dir:
            folders.add(m.name)
        elif m.name in files:
            raise ArchiveLimitError(f"{path}: member {str(m.name)!r} appears twice; refusing to extract")
        else:
            files.add(m.name)
            total += m.size
        folders.update(m.name.parents)
        if m.packed is not None and m.size > _RATIO_FLOOR_BYTES and m.size > limits.max_ratio * max(m.packed, 1):
            raise ArchiveLimitError(
                f"{path}: member {str(m.name)!r} unpacks {m.packed} bytes to {m.size} (more than "
                f"{limits.max_ratio:g}:1); refusing a likely decompression bomb (bound: --max-ratio)"
            )
    clash = sorted(str(f) for f in files & folders)
    if clash:
        raise ArchiveLimitError(f"{path}: {clash[0]!r} is both a file and a folder in the archive; refusing it")
    _check_total(path, total, archive_bytes, limits)
    free = _free_bytes(staging)
    if total > free:
        raise DiskFullError(
            f"{path}: unpacks to {total} bytes but only {free} are free in {staging.parent}; free space and rerun"
        )


def _check_total(path: Path, total: int, archive_bytes: int, limits: Limits) -> None:
    if total > limits.max_unpacked_bytes:
        raise ArchiveLimitError(
            f"{path}: unpacks to more than {limits.max_unpacked_bytes} bytes (at least {total}); refusing it "
            "(bound: --max-unpacked-gb)"
        )
    if total > _RATIO_FLOOR_BYTES and total > limits.max_ratio * max(archive_bytes, 1):
        raise ArchiveLimitError(
            f"{path}: {archive_bytes} bytes unpack to at least {total} (more than {limits.max_ratio:g}:1); "
            "refusing a likely decompression bomb (bound: --max-ratio)"
        )


class _Budget:
    """Counts the bytes actually written, against each member's declared size and the archive's bound."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits, self.written = path, limits, 0

    def copy(self, source: IO[bytes], dest: Path, member: _Member) -> None:
        done = 0
        with disk_errors(dest), open(dest, "xb") as fh:
            for block in iter(lambda: source.read(_CHUNK), b""):
                done += len(block)
                self.written += len(block)
                if done > member.size:
                    raise ArchiveLimitError(
                        f"{self.path}: member {str(member.name)!r} gives more bytes than the {member.size} its "
                        "header declares; refusing it"
                    )
                if self.written > self.limits.max_unpacked_bytes:
                    raise ArchiveLimitError(
                        f"{self.path}: wrote more than {self.limits.max_unpacked_bytes} bytes; refusing it "
                        "(bound: --max-unpacked-gb)"
                    )
                fh.write(block)


def _write_members(
    path: Path, staging: Path, members: list[_Member], opener: Callable[[int], IO[bytes]],
    progress: MemberProgress | None, limits: Limits,
) -> dict[PurePosixPath, int]:  # fmt: skip
    budget = _Budget(path, limits)
    for done, member in enumerate(members, 1):
        target = staging.joinpath(*member.name.parts)
        with disk_errors(target):
            if member.is_dir:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with opener(done - 1) as source:
                        budget.copy(source, target, member)
                except zipfile.BadZipFile as err:  # ZipExtFile checks the CRC when it reaches the member's end
                    raise ChecksumError(
                        f"{path}: member {str(member.name)!r} fails its CRC check ({err}); download the archive again"
                    ) from err
        if progress:
            progress(done, len(members))
    return {m.name: m.size for m in members if not m.is_dir}


def _extract_zip(path: Path, out: Path, progress: MemberProgress | None, limits: Limits) -> dict[PurePosixPath, int]:
    try:
        with _open_zip(path) as zf:
            infos = [i for i in zf.infolist() if not (i.is_dir() and i.filename in _TOP)]
            if len(infos) > limits.max_members:
                raise ArchiveLimitError(f"{path}: lists {len(infos)} entries (bound: {limits.max_members})")
            members = []
            for info in infos:
                name = check_name(info.filename, what=f"archive {path.name}, member")
                kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0  # 3: Unix modes
                if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                    raise ArchiveLimitError(
                        f"{path}: member {info.filename!r} is a link or device; refusing to extract"
                    )
                members.append(_Member(name, info.is_dir(), info.file_size, info.compress_size))
            archive_bytes = sum(p.stat().st_size for p in spanned_parts(path))
            _plan(path, members, archive_bytes, limits, out)

            def opener(index: int) -> IO[bytes]:
                return zf.open(infos[index])

            return _write_members(path, out, members, opener, progress, limits)
    except (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, UnicodeDecodeError) as err:
        # truncated data ends inside a member; a damaged header names another method or a non-UTF-8 name
        raise ChecksumError(f"{path}: not a readable zip archive ({err!r}); download it again") from err
    except OSError as err:
        # EINVAL: an entry points before the start; no errno: bz2's "Invalid data stream". A full disk or
        # a permission problem (any other errno) is not a corrupt archive and raises as itself.
        if isinstance(err, NcstError) or err.errno not in (None, errno.EINVAL):
            raise
        raise ChecksumError(f"{path}: corrupt zip archive ({err}); download it again") from err
    except (NotImplementedError, RuntimeError) as err:  # zipfile: unknown method/version, "encrypted"
        raise ChecksumError(
            f"{path}: zipfile cannot read it ({err}): either the archive is corrupt (download it again) or it "
            "uses a feature Python lacks (Deflate64, encryption); then extract it with 7z and rerun"
        ) from err


def _extract_tar(path: Path, out: Path, progress: MemberProgress | None, limits: Limits) -> dict[PurePosixPath, int]:
    archive_bytes = path.stat().st_size
    try:
        with tarfile.open(path) as tf:
            infos: list[tarfile.TarInfo] = []
            members: list[_Member] = []
            declared = 0
            for info in tf:  # lazily: a bomb is refused at the header that announces it, before its data
                if len(infos) >= limits.max_members:
                    raise ArchiveLimitError(f"{path}: lists more than {limits.max_members} entries; refusing it")
                if info.isdir() and info.name in _TOP:  # `tar -C dir .` lists the folder itself
                    continue
                name = check_name(info.name, what=f"archive {path.name}, member")
                if not (info.isfile() or info.isdir()):
                    target = f" -> {info.linkname[:200]!r}" if info.issym() or info.islnk() else ""
                    raise ArchiveLimitError(
                        f"{path}: member {info.name!r}{target} is a link or device; refusing to extract"
                    )
                if info.size < 0:
                    raise ChecksumError(f"{path}: member {info.name!r} declares {info.size} bytes; corrupt header")
                if info.isfile():
                    declared += info.size
                    _check_total(path, declared, archive_bytes, limits)
                infos.append(info)
                members.append(_Member(name, info.isdir(), info.size if info.isfile() else 0, None))
            _plan(path, members, archive_bytes, limits, out)

            def opener(index: int) -> IO[bytes]:
                source = tf.extractfile(infos[index])
                if source is None:  # pragma: no cover - only regular files reach here
                    raise ChecksumError(f"{path}: member {infos[index].name!r} has no data")
                return source

            return _write_members(path, out, members, opener, progress, limits)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as err:
        raise ChecksumError(f"{path}: truncated or corrupt tar archive ({err}); download it again") from err
    except OSError as err:  # bz2: "Invalid data stream" (no errno)
        if isinstance(err, NcstError) or err.errno is not None:
            raise
        raise ChecksumError(f"{path}: corrupt tar archive ({err}); download it again") from err


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


def merge_into(src: Path, dest: Path) -> None:
    """Moves the contents of `src` into `dest`, merging folders; never deletes or replaces anything in `dest`.

    A file of `src` whose path exists in `dest` with the same bytes is left as it is (a rerun is a no-op);
    every other clash (other bytes, file against folder, a symlink in `dest` that leads outside it) is
    collected first and raised together, before anything moved.

    Raises:
        MergeConflictError: Something in `dest` is in the way (the message names how many and which).
        UnsafeNameError: A path would lead outside `dest` through a symlink already there.
    """
    dest = Path(dest)
    with disk_errors(dest):
        dest.mkdir(parents=True, exist_ok=True)
    moves: list[tuple[Path, Path]] = []
    clashes: list[str] = []
    _plan_merge(Path(src), dest, PurePosixPath(), moves, clashes)
    if clashes:
        raise MergeConflictError(
            f"{len(clashes)} downloaded paths would replace what is already in {dest} (e.g. {clashes[:3]}); "
            "nothing was changed: move those away (or choose another --out) and rerun"
        )
    for child, target in moves:
        with disk_errors(target):
            if child.is_dir():
                os.rename(child, target)
                continue
            try:
                os.link(child, target)  # fails if the target appeared meanwhile: never replaces
            except FileExistsError as err:
                raise MergeConflictError(f"{target} appeared while moving files in; nothing replaced") from err
            except OSError:  # a file system without hard links
                if os.path.lexists(target):
                    raise
                os.rename(child, target)
                continue
            child.unlink()


def _plan_merge(
    src: Path, dest_root: Path, rel: PurePosixPath, moves: list[tuple[Path, Path]], clashes: list[str]
) -> None:
    for child in sorted(src.iterdir()):
        name = rel / child.name
        target = inside(dest_root, name, what="downloaded path")
        if not os.path.lexists(target):
            moves.append((child, target))
        elif child.is_dir():
            if target.is_dir():
                _plan_merge(child, dest_root, name, moves, clashes)
            else:
                clashes.append(f"{name}/ (a file is there)")
        elif target.is_dir():
            clashes.append(f"{name} (a folder is there)")
        elif not (target.is_file() and filecmp.cmp(child, target, shallow=False)):
            clashes.append(f"{name} (exists with other content)")
