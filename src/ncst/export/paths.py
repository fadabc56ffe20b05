"""Where an export may write: the checks on `--out`, and file names derived from set names.

An export writes only under its output folder. The folder must not be the source, lie inside one of
its audio folders (an audiofolder export would put links and a `metadata.csv` among the audio, which
`ncst verify` then reports as unexpected) or hold the source (a set folder could then land on the
source's own files). A folder that already holds anything is refused unless `force` is given; with
`force`, files are replaced but nothing else is removed. Every target is checked after resolving links
already in the folder, so a link planted in a reused output folder cannot send a write elsewhere.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ncst.errors import NcstError
from ncst.layout import flat_set_name

__all__ = ["ExportError", "check_out_dir", "check_set_names", "safe_target", "set_file_name", "hf_split_name"]

log = logging.getLogger(__name__)


class ExportError(NcstError, ValueError):
    """An export cannot be written: the output folder is refused, or a target would leave it."""


def check_out_dir(src_root: Path, audio_dirs: tuple[str, ...], out: Path, *, force: bool) -> Path:
    """Checks and creates the output folder; returns it resolved.

    Raises:
        ExportError: `out` is the source, inside one of its audio folders, holds the source, is a file,
            or is not empty and `force` is not set.
    """
    root = src_root.resolve()
    target = out.resolve()
    if target == root or root.is_relative_to(target):
        raise ExportError(f"--out {out} is or holds the source folder {root}; choose a folder outside it")
    for folder in audio_dirs:
        audio = (root / folder).resolve()
        if target == audio or target.is_relative_to(audio):
            raise ExportError(
                f"--out {out} is inside the audio folder {audio} of the source; choose a folder outside it "
                f"(e.g. {root.parent / (root.name + '-export')})"
            )
    if target.exists() and not target.is_dir():
        raise ExportError(f"--out {out} is a file; give a folder")
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise ExportError(f"--out {out} is not empty; give an empty folder, or --force to write into it")
        log.warning("%s is not empty: --force replaces the files this export writes and keeps the rest", out)
    target.mkdir(parents=True, exist_ok=True)
    return target


def safe_target(out: Path, rel: str) -> Path:
    """`out/rel` with its folders created, refused if it resolves outside `out` (a planted link or `..`).

    An existing link at the target itself is removed, so the write replaces the link rather than the
    file it points at.
    """
    root = out.resolve()
    path = root / rel
    if not path.parent.resolve().is_relative_to(root) or ".." in Path(rel).parts or Path(rel).is_absolute():
        raise ExportError(f"{rel}: would be written outside the output folder {root}; refusing it")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.resolve().is_relative_to(root):  # a link raced in between
        raise ExportError(f"{rel}: would be written outside the output folder {root}; refusing it")
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        raise ExportError(
            f"{path}: a folder is in the way of a file this export writes; remove it or use another --out"
        )
    return path


def check_set_names(splits: list[str]) -> None:
    """Refuses sets whose file or split names would coincide (`a/b` and `a-b`), so no set overwrites another.

    Raises:
        ExportError: Two sets map to the same file name or Hugging Face split name.
    """
    seen: dict[str, str] = {}
    for split in splits:
        for name in dict.fromkeys((set_file_name(split), hf_split_name(split))):
            other = seen.setdefault(name, split)
            if other != split:
                raise ExportError(f"sets {other!r} and {split!r} would both be written as {name!r}; rename one")


def set_file_name(split: str) -> str:
    """A set name as one path component: `ID_diff_config/C3-1` -> `ID_diff_config-C3-1` (the label-file rule)."""
    return flat_set_name(split)


def hf_split_name(split: str) -> str:
    """A set name as a Hugging Face split name (word characters only): `ID_diff_config/C3-1` -> `ID_diff_config_C3_1`.

    `datasets` accepts only word characters (and dots) in split names.
    """
    name = re.sub(r"\W", "_", split)
    return name if name else "_"
