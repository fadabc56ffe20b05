"""Read a split ("spanned") zip archive, `name.z01 ... name.zNN` + `name.zip`, as one ordinary zip.

Python's `zipfile` reads only single-disk archives, and a split archive is not one: each central-directory
entry gives its local header as (disk, offset within that disk), and the first segment starts with a
4-byte split marker. `SpannedZipView` is a read-only, seekable file object that presents the segments as
the single-disk archive `zip -s 0` would write: the segments' bytes in order (marker dropped), then a
central directory rewritten with disk 0 and absolute offsets (zip64 fields where an offset passes 4 GiB).
`zipfile.ZipFile(SpannedZipView(path))` then lists, CRC-checks and extracts it with no joined copy on disk;
`join_spanned_zip` writes that copy for tools that want a file.

Only the central directory is held in memory, and its size is bounded by the archive's own bytes. Every
length and offset read from the archive is checked against the segments' real sizes before use, so a
crafted archive gets a `SpannedZipError` naming the file, never an unbounded read or allocation.
The format is PKWARE's APPNOTE, sections 4.3 (records) and 8.5 (split archives).
"""

from __future__ import annotations

import bisect
import errno
import glob
import io
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from ncst.errors import ChecksumError
from ncst.io import PathLike, atomic_open

__all__ = ["SpannedZipError", "SpannedZipView", "spanned_parts", "join_spanned_zip"]

_SPLIT_MARKERS = (b"PK\x07\x08", b"PK00")  # first 4 bytes of segment 1 (APPNOTE 8.5.3); PK00: one-segment
_CD_SIG = b"PK\x01\x02"
_EOCD_SIG = b"PK\x05\x06"
_Z64_LOCATOR_SIG = b"PK\x06\x07"
_Z64_EOCD_SIG = b"PK\x06\x06"
_CD_FIXED = struct.Struct("<4s6H3L5H2L")  # central file header, 46 bytes
_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_Z64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_Z64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_ZIP64_EXTRA = 0x0001
_DISK = re.compile(r"\.z(\d{2,})$", re.I)


class SpannedZipError(ChecksumError):
    """A split archive is incomplete or malformed (a segment missing, truncated or not a zip segment)."""


def spanned_parts(last: PathLike) -> list[Path]:
    """The segments of the split archive whose last segment is `last` (`x.zip`): `[x.z01, ..., x.zip]`.

    Returns `[last]` alone when there are no `.zNN` siblings (an ordinary zip).
    """
    last = Path(last)
    disks: dict[int, Path] = {}
    for sibling in last.parent.glob(f"{glob.escape(last.stem)}.[zZ][0-9][0-9]*"):
        m = _DISK.search(sibling.name)
        if m and sibling.name[: m.start()] == last.stem and sibling.is_file():
            disks[int(m.group(1))] = sibling
    return [disks[n] for n in sorted(disks)] + [last]


@dataclass(frozen=True, slots=True)
class _Segments:
    """The segment files and where each starts in their concatenation."""

    paths: tuple[Path, ...]
    starts: tuple[int, ...]  # concatenated offset of each segment
    total: int

    @classmethod
    def of(cls, paths: list[Path]) -> "_Segments":
        starts, offset = [], 0
        for path in paths:
            starts.append(offset)
            offset += path.stat().st_size
        return cls(tuple(paths), tuple(starts), offset)


class _Concat:
    """Positional reads over the concatenated segments (opened lazily, closed together)."""

    def __init__(self, segments: _Segments) -> None:
        self.segments = segments
        self._handles: dict[int, io.FileIO] = {}

    def read_at(self, offset: int, size: int) -> bytes:
        buffer = bytearray(size)
        self.readinto_at(offset, memoryview(buffer))
        return bytes(buffer)

    def readinto_at(self, offset: int, view: memoryview) -> None:
        """Fills `view` with the bytes at `offset` of the concatenation (reads straight into it, no copies)."""
        seg = self.segments
        size = len(view)
        if offset < 0 or offset + size > seg.total:
            raise SpannedZipError(
                f"{seg.paths[-1]}: the archive points at bytes {offset}..{offset + size} but its "
                f"{len(seg.paths)} segments hold {seg.total} bytes; a segment is missing or truncated"
            )
        done = 0
        while done < size:
            at = offset + done
            index = bisect.bisect_right(seg.starts, at) - 1
            end = seg.starts[index + 1] if index + 1 < len(seg.starts) else seg.total
            take = min(size - done, end - at)
            handle = self._handles.get(index)
            if handle is None:
                handle = self._handles[index] = io.FileIO(seg.paths[index], "rb")
            handle.seek(at - seg.starts[index])
            got = 0
            while got < take:
                n = handle.readinto(view[done + got : done + take])
                if not n:
                    raise SpannedZipError(f"{seg.paths[index]}: shorter than when the archive was opened")
                got += n
            done += take

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


@dataclass(frozen=True, slots=True)
class _Directory:
    """Where the central directory lies (concatenated offsets) and what the end records say."""

    n_disks: int
    entries: int
    cd_start: int
    cd_size: int
    comment: bytes


def _find_directory(concat: _Concat) -> _Directory:
    seg = concat.segments
    last = seg.paths[-1]
    last_start = seg.starts[-1]
    last_size = seg.total - last_start
    tail_size = min(last_size, _EOCD.size + _U16)
    tail = concat.read_at(seg.total - tail_size, tail_size)
    position = -1
    for candidate in _rfind_all(tail, _EOCD_SIG):
        if candidate + _EOCD.size <= len(tail):
            comment_len = _EOCD.unpack_from(tail, candidate)[7]
            if candidate + _EOCD.size + comment_len == len(tail):
                position = candidate
                break
    if position < 0:
        raise SpannedZipError(f"{last}: no end-of-central-directory record; not the last segment of a zip archive")
    _, this_disk, cd_disk, _, entries, cd_size, cd_offset, comment_len = _EOCD.unpack_from(tail, position)
    comment = tail[position + _EOCD.size : position + _EOCD.size + comment_len]
    eocd_at = seg.total - tail_size + position
    locator_at = eocd_at - _Z64_LOCATOR.size
    if locator_at >= last_start and concat.read_at(locator_at, 4) == _Z64_LOCATOR_SIG:
        _, z64_disk, z64_offset, n_disks = _Z64_LOCATOR.unpack(concat.read_at(locator_at, _Z64_LOCATOR.size))
        z64_at = _absolute(seg, z64_disk, z64_offset, last, "zip64 end record")
        record = concat.read_at(z64_at, _Z64_EOCD.size)
        sig, _, _, _, this_disk, cd_disk, _, entries, cd_size, cd_offset = _Z64_EOCD.unpack(record)
        if sig != _Z64_EOCD_SIG:
            raise SpannedZipError(f"{last}: the zip64 locator points at no zip64 end record")
        if n_disks != this_disk + 1:
            raise SpannedZipError(f"{last}: zip64 locator says {n_disks} disks, the end record {this_disk + 1}")
    n_disks = this_disk + 1
    if n_disks != len(seg.paths):
        raise SpannedZipError(
            f"{last}: the archive has {n_disks} segments but {len(seg.paths)} were found "
            f"({', '.join(p.name for p in seg.paths)}); download the missing .zNN files"
        )
    cd_start = _absolute(seg, cd_disk, cd_offset, last, "central directory")
    if cd_start + cd_size > eocd_at:
        raise SpannedZipError(f"{last}: the central directory ({cd_size} bytes) overlaps the end record")
    return _Directory(n_disks, entries, cd_start, cd_size, comment)


def _rfind_all(data: bytes, needle: bytes) -> list[int]:
    found, end = [], len(data)
    while (i := data.rfind(needle, 0, end)) >= 0:
        found.append(i)
        end = i
    return found


def _absolute(seg: _Segments, disk: int, offset: int, where: Path, what: str) -> int:
    if disk >= len(seg.paths):
        raise SpannedZipError(f"{where}: the {what} is on disk {disk + 1} of {len(seg.paths)} segments found")
    start = seg.starts[disk]
    end = seg.starts[disk + 1] if disk + 1 < len(seg.paths) else seg.total
    if offset > end - start:
        raise SpannedZipError(f"{where}: the {what} offset {offset} lies past the end of {seg.paths[disk].name}")
    return start + offset


def _split_extra(extra: bytes) -> list[tuple[int, bytes]]:
    blocks, i = [], 0
    while i + 4 <= len(extra):
        header_id, size = struct.unpack_from("<2H", extra, i)
        blocks.append((header_id, extra[i + 4 : i + 4 + size]))
        i += 4 + size
    return blocks


def _zip64_values(z64: bytes, usize: int, csize: int, offset: int, disk: int, where: str) -> tuple[int, int, int, int]:
    """Reads the zip64 extra field's values for the header fields that are saturated (APPNOTE 4.5.3 order)."""
    cursor = 0

    def take(width: int, fmt: str) -> int:
        nonlocal cursor
        if cursor + width > len(z64):
            raise SpannedZipError(f"{where} lacks a zip64 field its header announces")
        (value,) = struct.unpack_from(fmt, z64, cursor)
        cursor += width
        return int(value)

    if usize == _U32:
        usize = take(8, "<Q")
    if csize == _U32:
        csize = take(8, "<Q")
    if offset == _U32:
        offset = take(8, "<Q")
    if disk == _U16:
        disk = take(4, "<L")
    return usize, csize, offset, disk


def _rewrite_directory(concat: _Concat, directory: _Directory, strip: int) -> bytes:
    """The central directory and end records of the joined archive (disk 0, absolute offsets)."""
    seg = concat.segments
    last = seg.paths[-1]
    data_end = directory.cd_start - strip
    out = io.BytesIO()
    position = directory.cd_start
    end = directory.cd_start + directory.cd_size
    for index in range(directory.entries):
        if position + _CD_FIXED.size > end:
            raise SpannedZipError(f"{last}: central directory ends after {index} of {directory.entries} entries")
        fields = list(_CD_FIXED.unpack(concat.read_at(position, _CD_FIXED.size)))
        if fields[0] != _CD_SIG:
            raise SpannedZipError(f"{last}: central directory entry {index + 1} has a bad signature")
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        variable = concat.read_at(position + _CD_FIXED.size, name_len + extra_len + comment_len)
        name = variable[:name_len]
        extra = variable[name_len : name_len + extra_len]
        comment = variable[name_len + extra_len :]
        position += _CD_FIXED.size + len(variable)
        usize, csize, disk, offset = fields[9], fields[8], fields[13], fields[16]
        blocks = _split_extra(extra)
        z64 = next((data for header_id, data in blocks if header_id == _ZIP64_EXTRA), b"")
        usize, csize, offset, disk = _zip64_values(z64, usize, csize, offset, disk, f"{last}: entry {name[:80]!r}")
        new_offset = _absolute(seg, disk, offset, last, f"entry {name[:80]!r}") - strip
        if not 0 <= new_offset < data_end:
            raise SpannedZipError(f"{last}: entry {name[:80]!r} points outside the archive's data")
        z64_fields = b""
        if usize >= _U32:
            z64_fields += struct.pack("<Q", usize)
        if csize >= _U32:
            z64_fields += struct.pack("<Q", csize)
        if new_offset >= _U32:
            z64_fields += struct.pack("<Q", new_offset)
        kept = b"".join(struct.pack("<2H", i, len(d)) + d for i, d in blocks if i != _ZIP64_EXTRA)
        new_extra = (struct.pack("<2H", _ZIP64_EXTRA, len(z64_fields)) + z64_fields if z64_fields else b"") + kept
        fields[8] = min(csize, _U32)
        fields[9] = min(usize, _U32)
        fields[11] = len(new_extra)
        fields[13] = 0
        fields[16] = min(new_offset, _U32)
        out.write(_CD_FIXED.pack(*fields) + name + new_extra + comment)
    if position != end:
        raise SpannedZipError(f"{last}: central directory size {directory.cd_size} does not match its entries")
    cd_size = out.tell()
    entries = directory.entries
    if entries >= _U16 or cd_size >= _U32 or data_end >= _U32:
        z64_at = data_end + cd_size
        out.write(_Z64_EOCD.pack(_Z64_EOCD_SIG, _Z64_EOCD.size - 12, 45, 45, 0, 0, entries, entries, cd_size, data_end))
        out.write(_Z64_LOCATOR.pack(_Z64_LOCATOR_SIG, 0, z64_at, 1))
    short = min(entries, _U16)
    out.write(
        _EOCD.pack(_EOCD_SIG, 0, 0, short, short, min(cd_size, _U32), min(data_end, _U32), len(directory.comment))
    )
    out.write(directory.comment)
    return out.getvalue()


class SpannedZipView(io.RawIOBase):
    """A split zip archive, read as the single-disk archive it stands for (see the module docstring).

    Args:
        last: The last segment, `x.zip`; its `x.zNN` siblings are found beside it.

    Raises:
        SpannedZipError: A segment is missing or truncated, or the end records are malformed.
    """

    def __init__(self, last: PathLike) -> None:
        super().__init__()
        self.name = str(last)
        self._concat = _Concat(_Segments.of(spanned_parts(last)))
        try:
            first = self._concat.read_at(0, min(4, self._concat.segments.total))
            self._strip = 4 if first in _SPLIT_MARKERS else 0
            directory = _find_directory(self._concat)
            self._data_end = directory.cd_start - self._strip
            self._tail = _rewrite_directory(self._concat, directory, self._strip)
        except BaseException:
            self._concat.close()
            raise
        self._size = self._data_end + len(self._tail)
        self._position = 0

    @property
    def size(self) -> int:
        """Bytes of the joined archive."""
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:  # as a real file answers (zipfile seeks there on a corrupt directory)
            raise OSError(errno.EINVAL, f"{self.name}: seek before the start of the archive")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self._size - self._position))
        done = 0
        while done < wanted:
            at = self._position + done
            if at < self._data_end:
                n = min(wanted - done, self._data_end - at)
                self._concat.readinto_at(at + self._strip, view[done : done + n])
            else:
                n = wanted - done
                view[done : done + n] = self._tail[at - self._data_end : at - self._data_end + n]
            done += n
        self._position += done
        return done

    def close(self) -> None:
        self._concat.close()
        super().close()


def join_spanned_zip(last: PathLike, out: PathLike) -> Path:
    """Writes the split archive ending in `last` as one ordinary zip file at `out` (atomically).

    Extraction does not need this (`extract_archive` reads split archives through `SpannedZipView`); it
    is for tools that want one file, like `zip -s 0 x.zip --out joined.zip`.
    """
    target = Path(out)
    with SpannedZipView(last) as view, atomic_open(target, "wb") as handle:
        shutil.copyfileobj(view, handle, 1 << 20)
    return target
