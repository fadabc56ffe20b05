"""Names from outside (recipes, label files, archives, records, options) that become paths: checked before use.

A recipe's subset `folder`, `label_file` and file `prefix`, a codec card's file prefix, an `extends` path,
the file column of a label line and an ingest `--folder` all end up inside a path ncst writes or reads.
Each is checked as text first (`check_rel_path`, `check_file_name`: relative, no `..`, `.`, empty or
hidden components, no separators or control characters), and the folders a build writes are then resolved
through any symlinks on disk (`resolve_inside`), so that no name, however crafted, leads outside the root
it belongs to.

Names inside downloads (a record's file `key` and `link`, an archive member) come from upstream corpora
and may hold spaces or hidden names that ncst never writes itself, so they pass a looser check of the same
kind (`check_name`, `check_url`, `inside`: relative, no `..`, backslash, NUL, control character or drive
letter, http(s) links only), which still keeps every write inside its root.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import urllib.parse
from pathlib import Path, PurePosixPath

from ncst.errors import NcstError

__all__ = [
    "MAX_NAME_BYTES",
    "UnsafeNameError",
    "check_file_name",
    "check_name",
    "check_rel_path",
    "check_url",
    "component_problem",
    "inside",
    "resolve_inside",
    "show",
]

log = logging.getLogger(__name__)

#: Longest path component in UTF-8 bytes (file systems allow 255; 200 leaves room for a prefix or suffix).
MAX_NAME_BYTES = 200
#: Characters no component may hold: separators of any platform, the Windows drive/stream mark, whitespace
#: (label lines are whitespace-separated) and the characters Windows refuses in names.
_FORBIDDEN = set('/\\:*?"<>|')


def show(value: object, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters: crafted values may be megabytes long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def component_problem(part: str) -> str | None:
    """Why `part` is not a safe single path component (a file or folder name), or None when it is."""
    if not part:
        return "an empty path component"
    if part.startswith("."):
        return "a component starting with '.' ('.', '..' or a hidden name)"
    for ch in part:
        if ch in _FORBIDDEN:
            return f"the character {ch!r}"
        if ch.isspace():
            return f"whitespace (U+{ord(ch):04X})"
        if unicodedata.category(ch) in ("Cc", "Cs", "Cf"):
            return f"the control character U+{ord(ch):04X}"
    if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"a component longer than {MAX_NAME_BYTES} bytes"
    return None


def check_rel_path(value: object, where: str, *, error: type[NcstError] = NcstError) -> str:
    """Checks that `value` is a relative path of safe components joined by `/` (`ID_diff_config/C3-1`).

    Args:
        value: The text from the recipe (any type: the recipe may be crafted).
        where: What names the value in the message (`recipe.toml: [[subsets]] #3 folder`).
        error: The exception to raise.

    Raises:
        error: Not a string, absolute, or a component that is empty, `.`, `..`, hidden, or holds a
            separator, whitespace or control character.
    """
    if not isinstance(value, str):
        raise error(f"{where}: expected a relative path (text), got {type(value).__name__} {show(value)}")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise error(f"{where}: {show(value)} is an absolute path; give a path relative to its root")
    for part in value.split("/"):
        problem = component_problem(part)
        if problem is not None:
            raise error(f"{where}: {show(value)} has {problem}; use plain names such as 'ID_diff_config/C3-1'")
    return value


def check_file_name(value: object, where: str, *, error: type[NcstError] = NcstError, allow_empty: bool = False) -> str:
    """Checks that `value` is one safe path component (a file name or file-name prefix).

    Raises:
        error: Not a string, empty (unless `allow_empty`), or not a safe component (see `check_rel_path`).
    """
    if not isinstance(value, str):
        raise error(f"{where}: expected a file name (text), got {type(value).__name__} {show(value)}")
    if allow_empty and value == "":
        return value
    problem = component_problem(value)
    if problem is not None:
        raise error(f"{where}: {show(value)} has {problem}; give a plain file name such as 'train.txt'")
    return value


def resolve_inside(root: Path, rel: str, where: str, *, error: type[NcstError] = NcstError) -> Path:
    """`root / rel` after checking that, with every symlink on disk followed, it still lies inside `root`.

    `rel` must already have passed `check_rel_path`. Parts that do not exist yet are taken as they are, so
    the check holds for the folders a build is about to create.

    Raises:
        error: A symlink (or a loop of them) leads out of `root`.
    """
    path = root / rel
    try:
        real = _outside(root, path)
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise error(f"{where}: {path} cannot be resolved ({err}); remove the symlink loop") from err
    if real is not None:
        raise error(f"{where}: {path} leads to {real}, outside {root} (a symlink); remove the link or use another root")
    return path


def _outside(root: Path, path: Path) -> Path | None:
    """Where `path` really leads (every symlink on disk followed) if that is outside `root`, else None.

    Raises:
        OSError, RuntimeError: A symlink loop (the callers name the path in their own error).
    """
    real_root = Path(root).resolve()
    real = Path(path).resolve()
    return None if real == real_root or real_root in real.parents else real


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_MEMBER_BYTES = 4096
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
    elif len(name.encode("utf-8", "surrogatepass")) > _MAX_MEMBER_BYTES:
        reason = f"is longer than {_MAX_MEMBER_BYTES} bytes"
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
    try:
        resolved = _outside(base, target)
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise UnsafeNameError(f"{what} {str(relative)!r} cannot be resolved ({err}); refusing to write it") from err
    if resolved is not None:
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
