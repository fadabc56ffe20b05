"""Names from outside (recipes, label files, archives, records, options) that become paths: checked before use.

A recipe's subset `folder`, `label_file` and file `prefix`, a codec card's file prefix, an `extends` path,
the file column of a label line and an ingest `--folder` all end up inside a path ncst writes or reads.
Each is checked as text first (`check_rel_path`, `check_file_name`: relative, no `..`, `.`, empty or
hidden components, no separators or control characters), and the folders a build writes are then resolved
through any symlinks on disk (`resolve_inside`), so that no name, however crafted, leads outside the root
it belongs to.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from ncst.errors import NcstError

__all__ = ["MAX_NAME_BYTES", "check_file_name", "check_rel_path", "component_problem", "resolve_inside", "show"]

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
        real_root = root.resolve()
        real = path.resolve()
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise error(f"{where}: {path} cannot be resolved ({err}); remove the symlink loop") from err
    if real != real_root and real_root not in real.parents:
        raise error(f"{where}: {path} leads to {real}, outside {root} (a symlink); remove the link or use another root")
    return path
