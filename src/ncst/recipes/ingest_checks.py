"""What `ncst ingest` may do in a dataset root: which folders it may fill, with which class, beside what.

These checks run before an ingest writes anything (`ncst.recipes.ingest`): the folder is a plain relative
name that no link leads out of, not a folder of the dataset's own sets (unless `--force`), the class is
known, and the label file is this folder's own.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ncst.classes import CLASSES
from ncst.errors import NcstError
from ncst.layout import LABEL_DIR, RECIPE_FILE, label_file_name
from ncst.paths import MAX_NAME_BYTES, component_problem
from ncst.recipes.recipe import load_recipe

__all__ = [
    "IngestError",
    "check_folder",
    "check_place",
    "check_reserved",
    "known_classes",
    "label_owner",
    "reserved_folders",
]

log = logging.getLogger(__name__)

_ROOT_FILES = (RECIPE_FILE, "provenance.jsonl")


class IngestError(NcstError, ValueError):
    """An ingest was refused before anything was written; the message names the option or file and why."""


def check_folder(folder: str) -> str:
    """The layout folder `--folder` names, as `a/b`; refuses anything that is not plain relative names.

    Raises:
        IngestError: Empty, absolute, `.`/`..`/empty components, backslashes, or a component a label file
            cannot hold (whitespace, control characters, over 200 bytes, bytes that are not UTF-8).
    """
    rel = folder[:-1] if folder.endswith("/") else folder  # tab completion leaves one trailing slash

    def refuse(why: str) -> IngestError:
        return IngestError(f"--folder {folder!r}: {why}; give a relative folder inside the dataset, e.g. ALM/moshi")

    if not rel:
        raise refuse("empty")
    if rel.startswith("/") or "\\" in rel:
        raise refuse("absolute, or has a backslash")
    for part in rel.split("/"):
        if part in ("", ".", ".."):
            raise refuse(f"component {part!r} is not a folder name")
        problem = component_problem(part)
        if problem:
            raise refuse(f"component {part!r} {problem}")
    if len(label_file_name(rel).encode("utf-8")) > MAX_NAME_BYTES:
        raise refuse(f"too long for a label file name (over {MAX_NAME_BYTES} bytes)")
    return rel


def reserved_folders(meta: dict[str, Any] | None) -> tuple[set[str], set[str]]:
    """(folders, groups) that belong to the dataset's own sets, from the built-in recipe and `recipe.json`.

    Folders: every set's folder. Groups: the top folder of every set the recipe fills with codec output
    (`train`, `ID_diff_config`, `OOD_diff_source`, ...), since ingest is for audio no codec regenerates; a
    group of real-speech sets only (`ID_unseen_real`) takes ingested real corpora beside its own.
    """
    subsets = load_recipe("st-codecfake").subsets
    folders = {e.folder for e in subsets}
    groups = {e.folder.split("/")[0] for e in subsets if set(e.classes) != {0}}
    if meta is not None:
        folders |= {str(f) for f in (meta.get("label_files") or {}).values()}
    return folders, groups


def check_reserved(folder: str, meta: dict[str, Any] | None, force: bool, given: str) -> None:
    if folder.split("/")[0] == LABEL_DIR or folder in ("", "."):
        raise IngestError(f"--folder {given!r}: {LABEL_DIR}/ and the root itself hold no audio; pick another folder")
    folders, groups = reserved_folders(meta)
    for official in sorted(folders | groups):
        related = folder == official or official.startswith(folder + "/") or folder.startswith(official + "/")
        if related and not force:
            raise IngestError(
                f"--folder {given!r}: the dataset's own sets live in {official!r}; "
                "ingest into a folder of its own (e.g. ALM/moshi), or pass --force to add files there"
            )


def check_place(root: Path, folder: str, meta: dict[str, Any] | None, force: bool) -> None:
    """Refuses reserved folders and any path (folder, label dir, root files) that leads out of the root.

    A link inside the root is checked by where it leads as well: `x -> label` makes `x/y` a label folder.
    """
    check_reserved(folder, meta, force, folder)
    try:
        real_root = root.resolve()
        path = root
        for part in folder.split("/"):
            path = path / part
            if not os.path.lexists(path):
                break
            if not path.resolve().is_relative_to(real_root):
                raise IngestError(f"--folder {folder!r}: {path} is a link that leads outside {root}")
            if not path.is_dir():
                raise IngestError(f"--folder {folder!r}: {path} exists and is not a folder")
        resolved = (root / folder).resolve().relative_to(real_root).as_posix()
    except (OSError, RuntimeError) as err:  # a link loop
        raise IngestError(f"--folder {folder!r}: cannot resolve it inside {root} ({err})") from err
    if resolved != folder:
        check_reserved(resolved, meta, force, folder)
    for name in (LABEL_DIR, *_ROOT_FILES):
        if (root / name).is_symlink():
            raise IngestError(f"{root / name}: a symbolic link; ingest writes there and follows no links")
    if os.path.lexists(root / LABEL_DIR) and not (root / LABEL_DIR).is_dir():
        raise IngestError(f"{root / LABEL_DIR}: exists and is not a folder")


def known_classes(meta: dict[str, Any] | None) -> set[int]:
    known = {c.class_id for c in CLASSES}
    for key in (meta or {}).get("classes") or {}:
        if isinstance(key, str) and re.fullmatch(r"[0-9]{1,9}", key):
            known.add(int(key))
    return known


def label_owner(root: Path, meta: dict[str, Any] | None, label_file: str) -> str | None:
    """The folder a label file belongs to (recipe.json, then the built-in recipe), or None if unrecorded."""
    recorded: dict[str, str] = {e.label_file: e.folder for e in load_recipe("st-codecfake").subsets}
    if meta is not None:
        recorded.update({k: str(v) for k, v in (meta.get("label_files") or {}).items()})
        recorded.update({k: str(e["folder"]) for k, e in (meta.get("ingested") or {}).items()})
    return recorded.get(label_file)
