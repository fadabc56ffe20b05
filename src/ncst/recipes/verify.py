"""`ncst verify` on a recipe build (or an official download): label files against the files on disk.

Checks, each reported per file:

* missing: a label line (or a provenance row) names a file that is not there, or a label file is absent
  (one `recipe.json` lists, or an official one whose folder holds audio);
* corrupt: a file's sha256 differs from its provenance row, or (without provenance) its header is unreadable;
* extra: an audio file in a labelled folder that no label file lists, or (built roots) audio in a folder
  that no label file in `recipe.json` covers;
* untracked (built roots, and ingested folders anywhere): a listed file with no provenance row;
* unexpected: anything else in a labelled folder: a non-audio file, a temp file of an interrupted or running
  build, or a sub-folder that is not itself a labelled folder;
* mislabelled: a label line's class id differs from the class the file was made as (provenance), or, for
  files without provenance, from the class its file-name prefix stands for in `recipe.json`;
* bad label lines: a line that is not `<file> <real|fake> <id>`, not UTF-8, a file name with a path in it
  (a label file may only name files of its own folder), or a file listed twice;
* provenance (built roots): `provenance.jsonl` missing, empty, or with unreadable lines.

A *built* root has a `recipe.json` written by a recipe build; an *official* root is the download (no
`recipe.json`, or one that `ncst ingest` created, marked `official_download`). Deleting a record does not
make a built root clean: a missing provenance log, a file without its row, or a label file dropped from
`recipe.json` while its folder still holds audio is reported.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

from ncst.audio import sha256_file
from ncst.build_dataset.provenance import read_provenance
from ncst.build_dataset.verify import provenance_problems
from ncst.classes import prefix_labels
from ncst.errors import CorpusLayoutError
from ncst.io import parse_temp_name
from ncst.layout import (
    CARD_ASSET_DIR,
    LABEL_DIR,
    RECIPE_FILE,
    LabelLine,
    VerifyReport,
    iter_label_lines,
    read_recipe_meta,
)
from ncst.recipes.recipe import load_recipe
from ncst.sets import discover_sets

__all__ = ["verify_recipe_build", "is_recipe_layout"]

log = logging.getLogger(__name__)

_AUDIO = (".wav", ".flac")


def _builtin_subsets() -> list[tuple[str, str]]:
    return [(e.label_file, e.folder) for e in load_recipe("st-codecfake").subsets]


def is_recipe_layout(out_dir: Path) -> bool:
    """A dataset root: `recipe.json`, a `label/` folder, or a folder of the built-in recipe's sets.

    Anything else in the root (a README, a stray provenance log) does not change the answer, so the label
    files of an official download are always checked.
    """
    root = Path(out_dir)
    if (root / RECIPE_FILE).is_file() or (root / LABEL_DIR).is_dir():
        return True
    return any((root / folder.split("/")[0]).is_dir() for _, folder in _builtin_subsets())


@dataclass(slots=True)
class _Layout:
    """What a root must hold: label file -> folder, prefixes per folder, and which folders need provenance."""

    built: bool
    label_files: dict[str, str]
    prefixes: dict[str, dict[str, str]] = field(default_factory=dict)
    tracked: set[str] = field(default_factory=set)  # folders whose every file needs a provenance row
    meta: dict[str, Any] = field(default_factory=dict)
    listed: dict[tuple[str, str], int] = field(default_factory=dict)  # (folder, class id) -> label lines


def _holds_audio(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.lower().endswith(_AUDIO) for e in entries)
    except OSError:
        return False


def _layout(root: Path) -> _Layout:
    meta_path = root / RECIPE_FILE
    meta = read_recipe_meta(meta_path) if meta_path.is_file() else {}
    built = meta_path.is_file() and meta.get("official_download") is not True
    ingested = {name: str(e["folder"]) for name, e in (meta.get("ingested") or {}).items()}
    label_files = dict(meta.get("label_files", {}))
    if not built:  # the official label files: those present, and those whose (top-level) folder holds audio
        for label_file, folder in _builtin_subsets():
            shipped = "/" not in folder  # the download labels its main sets by file, its folder sets by folder
            if (root / LABEL_DIR / label_file).is_file() or (shipped and _holds_audio(root / folder)):
                label_files.setdefault(label_file, folder)
    for info in discover_sets(root) if not built else []:  # a built root's recipe.json is the record; others:
        if info.label_file is not None and info.source != "official":  # every label file that names a folder
            label_files.setdefault(Path(info.label_file).name, info.audio_dir)
        elif info.label_file == "eval_id.txt":  # at the root, where the official config reads it
            label_files.setdefault("eval_id.txt", info.audio_dir)
    label_files.update(ingested)
    prefixes = {folder: {p: c for c, p in m.items()} for folder, m in meta.get("prefixes", {}).items()}
    if not built:  # the official names: no prefix is real speech, `mimi_` ... `snac_` are classes 1-6
        official = {"": "0", **{p.rstrip("_"): str(c) for p, c in prefix_labels(official_only=True).items()}}
        for folder in _OFFICIAL_PREFIXED:
            prefixes.setdefault(folder, official)
    tracked = set(label_files.values()) if built else set(ingested.values())
    return _Layout(built, label_files, prefixes, tracked, meta)


#: Folders of the official layout whose file names tell the class by prefix (the ID sets: real files carry none).
_OFFICIAL_PREFIXED = ("train", "dev", "eval_id")


def _class_from_prefix(name: str, prefixes: dict[str, str]) -> str | None:
    stem = name.rsplit(".", 1)[0]
    best: str | None = None
    for prefix in prefixes:
        if prefix and stem.startswith(prefix + "_") and (best is None or len(prefix) > len(best)):
            best = prefix
    if best is not None:
        return prefixes[best]
    return prefixes.get("")


def verify_recipe_build(out_dir: Path, *, rehash: bool = True) -> VerifyReport:
    """Checks a recipe build or an official download; see the module docstring.

    Args:
        out_dir: Dataset root.
        rehash: Re-hash files that have provenance rows (off: only existence and labels).

    Raises:
        CorpusLayoutError: The folder is not a dataset root, or its `recipe.json` is malformed.
    """
    root = Path(out_dir)
    if not is_recipe_layout(root):
        raise CorpusLayoutError(f"{root}: no {RECIPE_FILE}, no {LABEL_DIR}/ and no set folders; not a dataset root")
    layout = _layout(root)
    prov_files = sorted(root.glob("provenance*.jsonl"))
    rows = read_provenance(prov_files)
    report = VerifyReport()
    if prov_files:
        report.provenance = provenance_problems(prov_files, rows)
    elif layout.built or layout.tracked:
        report.provenance.append("provenance.jsonl: missing; every file of a built or ingested set has a row there")
    listed: set[str] = set()
    for label_file, folder in sorted(layout.label_files.items()):
        path = root / LABEL_DIR / label_file
        if label_file == "eval_id.txt" and not path.is_file() and (root / label_file).is_file():
            path = root / label_file  # the official config's place for it
        if not path.is_file():
            report.missing.append(f"{LABEL_DIR}/{label_file}")
            continue
        try:
            for lineno, item in iter_label_lines(path):
                _check_line(root, f"{LABEL_DIR}/{label_file}:{lineno}", item, folder, layout, rows, listed,
                            report, rehash)  # fmt: skip
        except OSError as err:  # unreadable label file (permissions, an I/O error): a discrepancy, not a traceback
            report.labels.append(f"{LABEL_DIR}/{label_file}: unreadable ({err.strerror or err})")
    folders = sorted(set(layout.label_files.values()))
    for rel in sorted(set(rows) - listed):
        if not (root / rel).is_file():
            report.missing.append(rel)
        elif not layout.built and rel.rpartition("/")[0] not in folders:  # built roots: `_scan_uncovered`
            report.extra.append(f"{rel}: has a provenance row, but no label file covers its folder")
    if not (root / RECIPE_FILE).is_file() and (root / "build.json").is_file():
        report.missing.append(f"{RECIPE_FILE} (build.json says this root was built)")
    _scan_folders(root, folders, listed, report)
    if layout.built:
        _scan_uncovered(root, set(folders), report)
        _check_counts(layout, report)
    else:
        _list_unverified(root, set(folders), report)
    return report


def _list_unverified(root: Path, folders: set[str], report: VerifyReport) -> None:
    """Official roots: names each folder of audio outside the labelled folders, with its file count.

    The download labels its folder sets (`ID_diff_config/C3-1`, `ALM/moshi`, the unseen-real corpora) by
    folder name only, so nothing can check their files; they are listed, never counted as ok.
    """
    counts: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in (CARD_ASSET_DIR, LABEL_DIR)]
        if any(rel_dir == f or rel_dir.startswith(f + "/") for f in folders):
            continue  # `_scan_folders` checked it
        n_audio = sum(1 for name in filenames if name.lower().endswith(_AUDIO))
        if n_audio:
            counts[rel_dir] = n_audio
    report.unverified.extend(f"{folder}/: {n} audio files, no label file" for folder, n in counts.items())


def _check_counts(layout: _Layout, report: VerifyReport) -> None:
    """Compares the files per folder that `recipe.json` planned with the lines its label files hold.

    Label files list every planned file, built or not, so fewer lines mean deleted ones (a class changed
    on a line is a mislabelled file, reported there).
    """
    counts = layout.meta.get("counts")
    if counts is None:
        return
    if not isinstance(counts, dict) or not all(isinstance(m, dict) for m in counts.values()):
        report.labels.append(f"{RECIPE_FILE}: 'counts' must map folders to {{class id: files}}")
        return
    for folder, per_class in sorted(counts.items()):
        planned = sum(n for n in per_class.values() if isinstance(n, int))
        listed = sum(n for (f, _), n in layout.listed.items() if f == folder)
        if planned != listed or not all(isinstance(n, int) for n in per_class.values()):
            report.labels.append(
                f"{RECIPE_FILE}: counts plan {planned} files in {folder}, its label files list {listed}"
            )


def _check_line(
    root: Path, where: str, item: LabelLine | str, folder: str, layout: _Layout, rows: dict, listed: set[str],
    report: VerifyReport, rehash: bool,
) -> None:  # fmt: skip
    """Checks one label line (or reports its problem) against the file it names and that file's provenance row."""
    if isinstance(item, str):
        report.labels.append(f"{where}: {item} (in {folder}/)")
        return
    class_text = str(item.class_id)
    rel = f"{folder}/{item.file}"
    if rel in listed:
        report.labels.append(f"{where}: {item.file} listed twice")
        return
    listed.add(rel)
    layout.listed[(folder, class_text)] = layout.listed.get((folder, class_text), 0) + 1
    if item.is_real != (item.class_id == 0):
        report.mislabelled.append(f"{rel}: column 2 {item.kind!r} contradicts class {class_text}")
        return
    file = root / rel
    row = rows.get(rel)
    if not file.is_file():
        report.missing.append(rel)
        return
    if row is not None:
        if row.is_random_weights:
            report.random_weights += 1
        try:
            changed = rehash and sha256_file(file) != row.output_sha256
        except OSError as err:
            report.corrupt.append(f"{rel}: unreadable ({err.strerror or err})")
            return
        if changed:
            report.corrupt.append(rel)
            return
        expected = None if row.class_id is None else str(row.class_id)
    elif folder in layout.tracked:
        report.untracked.append(f"{rel}: no provenance row")
        return
    else:
        try:
            sf.info(str(file))
        except (sf.LibsndfileError, RuntimeError) as err:
            report.corrupt.append(f"{rel}: {err}")
            return
        expected = _class_from_prefix(item.file, layout.prefixes.get(folder, {}))
    if expected is not None and expected != class_text:
        report.mislabelled.append(f"{rel}: label says {class_text}, made as class {expected}")
        return
    report.n_ok += 1


def _scan_folders(root: Path, folders: list[str], listed: set[str], report: VerifyReport) -> None:
    """Reports what the labelled folders hold beyond their listed files (extra audio, anything unexpected)."""
    # A labelled folder may sit inside another (e.g. `ALM` beside `ALM/moshi`): those sub-folders are expected.
    nested = set(folders) | {"/".join(f.split("/")[:i]) for f in folders for i in range(1, f.count("/") + 1)}
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            rel = f"{folder}/{path.name}"
            if rel in listed:
                continue
            if path.is_dir():
                if rel not in nested:
                    report.unexpected.append(f"{rel}/: sub-folder no label file covers")
            elif parse_temp_name(path.name) is not None:
                report.unexpected.append(f"{rel}: temp file of an interrupted or running build")
            elif path.is_file() and path.suffix.lower() in _AUDIO:
                report.extra.append(rel)
            else:
                report.unexpected.append(f"{rel}: not an audio file")


def _scan_uncovered(root: Path, folders: set[str], report: VerifyReport) -> None:
    """Reports audio anywhere in a built root outside the folders its label files cover (links not followed).

    A label file dropped from `recipe.json` (or never listed) must not take its folder out of the check.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir == "." and CARD_ASSET_DIR in dirnames:
            dirnames.remove(CARD_ASSET_DIR)  # the dataset card's own figures and source copies
        if rel_dir in folders:
            continue  # `_scan_folders` checked it
        for name in sorted(filenames):
            if name.lower().endswith(_AUDIO):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                report.extra.append(f"{rel}: audio in a folder that no label file in {RECIPE_FILE} covers")
