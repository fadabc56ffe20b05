"""One check for every name that comes from outside before it becomes a path ncst writes to.

Downloads take names from places a user does not control: a record's file `key` and download `link`, an
archive member's name, the URL of a corpus. Each is checked here, once, before anything is opened for
writing: a name must be relative, made of plain components (no `..`, no backslash, no NUL or control
character, no drive letter), and the path it gives, with every symlink already on disk followed, must
stay inside its root. A link must be an `http(s)://` URL. Errors name what was refused and where it came
from (`what`: "record 14631091, key 'x'"), in one line.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from pathlib import Path, PurePosixPath

from ncst.errors import NcstError

__all__ = ["UnsafeNameError", "check_name", "check_url", "inside"]

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_NAME_BYTES = 4096
_MAX_PART_BYTES = 255  # NAME_MAX of Linux and macOS file systems


class UnsafeNameError(NcstError, ValueError):
    """A name from a record, a URL or an archive would write outside its folder, or is not a plain name."""


def check_name(name: object, *, what: str, single: bool = False) -> PurePosixPath:
    """Checks a relative name from outside (`a/b.wav`); returns it as a path with `.` parts dropped.

    Args:
        name: The name as received (any type: a record may hold a number or null there).
        what: Where the name comes from, for the message ("archive x.zip, member").
        single: Allow one component only (a file in a flat folder, like a record's key).

    Raises:
        UnsafeNameError: Not a string, empty, absolute, with a drive letter, a backslash, a NUL or control
            character, a `..` component, or (with `single`) a `/`.
    """
    if not isinstance(name, str):
        raise UnsafeNameError(f"{what} {name!r}: expected a file name (a string), got {type(name).__name__}")
    reason = ""
    if not name.strip():
        reason = "is empty"
    elif len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        reason = f"is longer than {_MAX_NAME_BYTES} bytes"
    elif _CONTROL.search(name):
        reason = "holds a NUL or control character"
    elif "\\" in name:
        reason = "holds a backslash"
    elif name.startswith("/") or _DRIVE.match(name):
        reason = "is absolute"
    elif ".." in name.split("/"):
        reason = "has a '..' component"
    elif single and "/" in name.rstrip("/"):
        reason = "is not a plain file name (it holds '/')"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not reason and not parts:
        reason = "names no file"
    elif not reason and any(len(p.encode("utf-8", "surrogatepass")) > _MAX_PART_BYTES for p in parts):
        reason = f"has a component longer than {_MAX_PART_BYTES} bytes (file systems refuse it)"
    if reason:
        raise UnsafeNameError(f"{what} {name[:200]!r} {reason}; refusing it (nothing was written for it)")
    return PurePosixPath(*parts)


def inside(root: Path, name: str | PurePosixPath, *, what: str) -> Path:
    """The path of `name` under `root`, after checking that it stays inside `root` on disk.

    Symlinks already on disk are followed (a `root/train` that links to `/elsewhere` is refused), so a
    file opened at the returned path lands inside `root`. `root` itself may be a symlink.

    Raises:
        UnsafeNameError: The name is not a plain relative name, or it leads outside `root`.
    """
    relative = name if isinstance(name, PurePosixPath) else check_name(name, what=what)
    base = Path(root).resolve()
    target = base.joinpath(*relative.parts)
    resolved = target.resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafeNameError(
            f"{what} {str(relative)!r} leads outside {base} (through a symlink to {resolved}); refusing to write it"
        )
    return target


def check_url(url: object, *, what: str) -> str:
    """Checks that a download link is an `http://` or `https://` URL with a host; returns it.

    Raises:
        UnsafeNameError: Not a string, another scheme (`file://`, `ftp://`, `data:`), no host, or control
            characters or spaces in it.
    """
    if not isinstance(url, str):
        raise UnsafeNameError(f"{what} link {url!r}: expected a URL string, got {type(url).__name__}")
    if _CONTROL.search(url) or " " in url:
        raise UnsafeNameError(f"{what} link {url[:200]!r} holds spaces or control characters; refusing it")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as err:
        raise UnsafeNameError(f"{what} link {url[:200]!r} is not a URL ({err})") from err
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UnsafeNameError(
            f"{what} link {url[:200]!r}: only http:// and https:// links with a host are downloaded; refusing it"
        )
    return url
