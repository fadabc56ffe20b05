"""File plumbing shared by every part of ncst: atomic writes, hashing, temp-file names, safe checkpoints.

* `atomic_open` / `atomic_write_text` / `atomic_write_bytes`: write to a temp file in the destination
  folder, fsync, rename into place. A reader never sees a half-written file; a process killed
  mid-write leaves only a temp file named by `temp_name`, which `parse_temp_name` reads back (the
  build runner uses it to clean up after an interrupted run of its own shard).
* Files are created with mode `0o666` minus the process umask, like `open(path, "w")` would, so a
  dataset built under umask 022 is readable by group and others (`tempfile.mkstemp` would give 0600).
* `load_checkpoint` reads a torch checkpoint with `weights_only=True` and never falls back to full
  unpickling (which runs code stored in the file) unless the caller passes `trust=True`, which the
  CLI exposes as `--trust-checkpoint`.

This module imports torch only inside `load_checkpoint`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Literal, Union, overload

from ncst.errors import NcstError, UntrustedCheckpointError, WeightsError

__all__ = [
    "PathLike",
    "TempName",
    "TRUST_FLAG",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "load_checkpoint",
    "parse_temp_name",
    "read_json",
    "read_text",
    "sha256_file",
    "temp_name",
]

log = logging.getLogger(__name__)

#: Anything `open` accepts as a file name.
PathLike = Union[str, "os.PathLike[str]"]

#: The command-line flag that allows full unpickling; named in `UntrustedCheckpointError` messages.
TRUST_FLAG = "--trust-checkpoint"

_TEMP_SUFFIX = ".tmp"
_NEW_FILE_MODE = 0o666  # the umask is applied by the kernel, as for any open(..., "w")


# -- temp-file names ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TempName:
    """What a temp file name says: the file it will become and the process that writes it.

    `pid` is None for names written before ncst put the pid in them (`.<target>.<random>.tmp`).
    """

    target: str
    pid: int | None


def temp_name(target: PathLike) -> str:
    """Name of a fresh temp file for `target`: `.<target name>.<pid>-<random hex>.tmp`."""
    return f".{Path(target).name}.{os.getpid()}-{secrets.token_hex(4)}{_TEMP_SUFFIX}"


def parse_temp_name(name: str) -> TempName | None:
    """Reads back a name made by `temp_name`; None for any other file name."""
    if not (name.startswith(".") and name.endswith(_TEMP_SUFFIX)):
        return None
    target, sep, tag = name[1 : -len(_TEMP_SUFFIX)].rpartition(".")
    if not (sep and target and tag):
        return None
    pid, dash, token = tag.partition("-")
    if dash and pid.isdigit() and token:
        return TempName(target=target, pid=int(pid))
    return TempName(target=target, pid=None)


# -- reading text -------------------------------------------------------------------------------------------
def read_text(path: PathLike, *, error: type[NcstError] = NcstError) -> str:
    """Reads a UTF-8 text file (a leading BOM is dropped).

    Metadata files come from corpora, downloads and users, and any of them may be in another encoding or
    damaged: bad UTF-8 raises `error` naming the file, line, column and byte, never a bare
    UnicodeDecodeError. Memory is bounded by the file's size.
    """
    data = Path(path).read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as err:
        at = start + err.start  # the error's offset is into the text after the BOM
        line = data.count(b"\n", 0, at) + 1
        column = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise error(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[at]:02x} at column {column}); "
            "save the file as UTF-8 or fetch it again"
        ) from err


def read_json(path: PathLike, *, error: type[NcstError] = NcstError) -> Any:
    """Reads a UTF-8 JSON file; bad UTF-8, bad JSON or absurd nesting raise `error` naming file and line."""
    text = read_text(path, error=error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}:{err.lineno}: not valid JSON ({err.msg} at column {err.colno})") from err
    except RecursionError as err:
        raise error(f"{path}: not valid JSON (nested too deeply)") from err


# -- atomic writes -----------------------------------------------------------------------------------------
@overload
def atomic_open(
    path: PathLike, mode: Literal["wb"] = "wb", *, encoding: None = None, fsync: bool = True
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_open(
    path: PathLike, mode: Literal["w"], *, encoding: str = "utf-8", fsync: bool = True
) -> contextlib.AbstractContextManager[IO[str]]: ...
def atomic_open(
    path: PathLike, mode: str = "wb", *, encoding: str | None = None, fsync: bool = True
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Opens a temp file next to `path` for writing; on a clean exit it is fsynced and renamed to `path`.

    Args:
        path: Destination file; its folder is created.
        mode: `"wb"` (bytes) or `"w"` (text, `encoding`, no newline translation).
        encoding: Text encoding for mode `"w"` (default UTF-8).
        fsync: Flush the data to disk before the rename (crash safety; off only for scratch files).

    On an exception the temp file is removed and `path` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    return _atomic_open(Path(path), mode, encoding, fsync)


@contextlib.contextmanager
def _atomic_open(dest: Path, mode: str, encoding: str | None, fsync: bool) -> Iterator[IO[Any]]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(dest)
    try:
        if mode == "w":
            fh: IO[Any] = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="")
        else:
            fh = os.fdopen(fd, "wb")
        with fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temp(dest: Path) -> tuple[int, Path]:
    """Creates a new, empty temp file for `dest` (mode 0o666 minus the umask); returns its fd and path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = dest.parent / temp_name(dest)
        try:
            return os.open(tmp, flags, _NEW_FILE_MODE), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temp file for {dest} (100 names taken)")


def atomic_write_bytes(path: PathLike, data: bytes, *, fsync: bool = True) -> Path:
    """Writes `data` to `path` atomically (see `atomic_open`); returns the path."""
    with atomic_open(path, "wb", fsync=fsync) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str, *, encoding: str = "utf-8", fsync: bool = True) -> Path:
    """Writes `text` to `path` atomically, without newline translation (see `atomic_open`); returns the path."""
    with atomic_open(path, "w", encoding=encoding, fsync=fsync) as fh:
        fh.write(text)
    return Path(path)


# -- hashing -----------------------------------------------------------------------------------------------
def sha256_file(path: PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_bytes), b""):
            h.update(chunk)
    return h.hexdigest()


# -- checkpoints -------------------------------------------------------------------------------------------
def load_checkpoint(path: PathLike, *, trust: bool = False, map_location: Any = "cpu") -> Any:
    """Reads a torch checkpoint without running code stored in it, unless `trust` says otherwise.

    The file is read with `torch.load(..., weights_only=True)`, which accepts tensors, containers and
    plain values only. A file that needs more (any pickled Python object, which may run arbitrary code
    while loading) is refused unless `trust=True`.

    Args:
        path: Checkpoint file (`torch.save` format, zip or legacy pickle).
        trust: Allow full unpickling when the safe read refuses the file (`--trust-checkpoint`).
        map_location: Passed to `torch.load`.

    Raises:
        UntrustedCheckpointError: The file needs full unpickling and `trust` is False; the message names
            the file and `--trust-checkpoint`.
        WeightsError: The file is missing or is not a torch checkpoint.
    """
    import pickle

    import torch

    file = Path(path)
    if not file.is_file():
        raise WeightsError(f"checkpoint {str(file)!r} is not a file")
    with open(file, "rb") as fh:
        head = fh.read(2)
    if not (head == b"PK" or head[:1] == b"\x80"):  # a torch zip archive, or a legacy pickle
        raise WeightsError(f"{file}: not a torch checkpoint (neither a torch zip archive nor a pickle)")
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not trust:
            raise UntrustedCheckpointError(
                f"{file}: refusing to unpickle this checkpoint: torch.load(weights_only=True) finds more than "
                f"tensors and plain values ({_refusal_reason(err)}), and unpickling it could run code stored in "
                f"the file. If you trust "
                f"where it came from, pass {TRUST_FLAG} (Codec.load(..., trust_checkpoint=True))."
            ) from err
        log.warning(
            "%s is not weights_only-safe; loading it with full unpickling because %s was given", file, TRUST_FLAG
        )
    except Exception as err:  # torch raises several types (RuntimeError, EOFError, ...) for a non-checkpoint
        raise WeightsError(f"{file}: not a torch checkpoint ({type(err).__name__}: {err})") from err
    try:
        return torch.load(file, map_location=map_location, weights_only=False)
    except Exception as err:  # anything unpickling can raise
        raise WeightsError(f"{file}: not a torch checkpoint ({type(err).__name__}: {err})") from err


def _refusal_reason(err: Exception) -> str:
    """The useful line of torch's long weights_only message (e.g. `Unsupported global: GLOBAL ...`)."""
    text = str(err)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    line = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return line.strip()[:300]
