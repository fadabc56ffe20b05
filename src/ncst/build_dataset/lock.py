"""One build at a time per folder and shard: an advisory lock file that names its holder.

`BuildLock` takes an exclusive `flock` on ``<build folder>/build[.shard-I-of-N].lock`` and writes who holds
it (pid, host, start time, command line) into the file. A second run of the same shard finds the lock
taken and stops with `BuildLockedError` naming the holder, so no file is generated twice, no provenance
row is written twice, and no run deletes another's temp files. The kernel drops the lock when its
holder exits, however it exits (SIGKILL included), so a lock left by a dead run is never stale: the next
run takes it over and says whose it was. Different shards of one folder lock different files and run
side by side.

The lock file is kept between runs (emptied on release) rather than deleted: deleting a locked file lets
a waiting process lock the old inode while a third one locks a new file of the same name.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from ncst.errors import BuildLockedError

try:  # POSIX; Windows has no flock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["BuildLock", "lock_path"]

log = logging.getLogger(__name__)


def lock_path(out_dir: Path, shard_suffix: str = "") -> Path:
    """Lock file of one shard of a build folder: ``build<shard suffix>.lock``."""
    return Path(out_dir) / f"build{shard_suffix}.lock"


class BuildLock:
    """Exclusive, non-blocking lock of one shard of a build folder; use as a context manager.

    Args:
        out_dir: The build folder (must exist).
        shard_suffix: `Shard.suffix` (``""`` when not sharded).
        shard_label: How messages name the shard (``"0/4"``).
    """

    def __init__(self, out_dir: Path, shard_suffix: str = "", shard_label: str = "0/1") -> None:
        self.path = lock_path(out_dir, shard_suffix)
        self.shard_label = shard_label
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock, or raises `BuildLockedError` naming the live holder.

        Raises:
            BuildLockedError: Another live process holds this shard's lock.
        """
        if fcntl is None:  # pragma: no cover - Windows
            log.warning("no file locking on this platform: do not run two builds of one shard at once")
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise BuildLockedError(
                f"{self.path.parent}: shard {self.shard_label} is already being built by {holder} "
                f"(lock {self.path}); wait for that run to finish or stop it, or build another --shard"
            ) from err
        except OSError:
            os.close(fd)
            raise
        previous = _read_holder(fd)
        if previous:
            log.warning(
                "%s: taking over the lock of %s, which ended without releasing it (killed or crashed)",
                self.path,
                _describe(previous),
            )
        _write_holder(fd, _holder_info())
        self._fd = fd

    def release(self) -> None:
        """Empties the lock file and releases the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _holder_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:500],
    }


def _read_holder(fd: int) -> dict[str, Any]:
    """The holder info in an open lock file; {} when empty or unreadable."""
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, min(size, 1 << 16), 0) if size else b""
        info = json.loads(data.decode("utf-8")) if data else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def _write_holder(fd: int, info: dict[str, Any]) -> None:
    data = (json.dumps(info, sort_keys=True) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _describe(info: dict[str, Any]) -> str:
    if not info:
        return "another process (its pid is not recorded yet)"
    return f"pid {info.get('pid', '?')} on host {info.get('host', '?')} (started {info.get('started_utc', '?')})"
