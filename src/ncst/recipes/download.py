"""`ncst download st-codecfake`: the official dataset from Zenodo, checked and laid out for ncst.

Records: main part 14631091 (train, dev, eval_id, eval_ood, label files), open-set part 14631085
(ID_unseen_real, ID_diff_config, ID_diff_source, OOD_diff_*, ALM). The file list, sizes and md5s are read
from the record at run time (`<api>/api/records/<id>`: `files[].key`, `.size`, `.checksum = "md5:<hex>"`,
`.links.self`), every file is md5-checked and resumes after an interruption (HTTP Range, see
`ncst.corpora.download`). Archives are then extracted: byte-split parts (`x.zip.001`) are joined first,
split zips (`x.z01 ... x.zip`) are read in place through `ncst.corpora.spanned_zip`. The result is
checked twice: every member's size on disk against the archive listing, and every file that a label file
lists against the files present, since split zips of the authors' earlier dataset were reported to
extract with CRC errors or to extract a third of the data and exit 0.

The record itself is an input that may be crafted: it is validated field by field (`ncst.recipes.zenodo`), its
keys and links pass `ncst.paths`, and the dataset root inside the extracted archives is the
one folder holding `label/`, whatever else the record ships. A finished part leaves
`.ncst-download-<part>.json` in the root, so a rerun is a no-op.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.download import (
    DiskFullError,
    Limits,
    disk_errors,
    download_file,
    extract_archive,
    merge_into,
)
from ncst.errors import ChecksumError, NcstError
from ncst.io import atomic_write_text
from ncst.layout import LABEL_DIR, read_label_file
from ncst.paths import inside
from ncst.recipes.recipe import load_recipe
from ncst.recipes.zenodo import ZENODO_API, RecordError, RecordFile, fetch_record, parse_record

__all__ = [
    "ZENODO_RECORDS",
    "ZENODO_API",
    "RecordError",
    "RecordFile",
    "fetch_record",
    "parse_record",
    "download_st_codecfake",
    "check_against_labels",
]

log = logging.getLogger(__name__)

ZENODO_RECORDS = {"main": "14631091", "openset": "14631085"}
_ARCHIVE = re.compile(r"\.(zip|tar|tgz|tar\.gz)$", re.I)
_BYTE_PART = re.compile(r"^(?P<base>.+\.(?:zip|tar|tgz|tar\.gz))\.(?:part)?(?P<n>\d{2,3})$", re.I)
_ZIP_DISK = re.compile(r"^(?P<base>.+)\.z(?P<n>\d{2})$", re.I)
_MARKERS = ("label", "train", "dev", "eval_id", "eval_ood", "ID_unseen_real", "ID_diff_config", "ID_diff_source",
            "OOD_diff_source", "OOD_diff_config", "ALM")  # fmt: skip


def _join_parts(folder: Path, files: list[RecordFile], record_id: str) -> tuple[list[Path], list[Path]]:
    """Joins byte-split parts (`x.zip.001`, `x.zip.002`, ...) into `x.zip`.

    Returns the archives to extract and the joined files written (deleted with the downloads on request).
    """
    keys = {f.key for f in files}
    groups: dict[str, list[tuple[int, str]]] = {}
    archives: list[Path] = []
    for key in sorted(keys):
        m = _BYTE_PART.match(key)
        if m:
            groups.setdefault(m.group("base"), []).append((int(m.group("n")), key))
        elif _ZIP_DISK.match(key):
            continue  # segment of a split zip: read with its .zip (`ncst.corpora.spanned_zip`)
        elif _ARCHIVE.search(key):
            archives.append(folder / key)
    joined_files = []
    for base, parts in sorted(groups.items()):
        numbers = [n for n, _ in sorted(parts)]
        if base in keys or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            raise RecordError(
                f"record {record_id}: parts of {base!r} are {[k for _, k in sorted(parts)]} "
                f"{'besides a file of that name' if base in keys else 'with a number missing'}; refusing to join them"
            )
        joined = inside(folder, base, what=f"record {record_id}: joined archive")
        need = sum((folder / key).stat().st_size for _, key in parts)
        if not (joined.is_file() and joined.stat().st_size == need):
            tmp = inside(folder, base + ".joining", what=f"record {record_id}: joined archive")
            with disk_errors(tmp), open(tmp, "wb") as fh:
                for _, key in sorted(parts):
                    with open(folder / key, "rb") as part:
                        shutil.copyfileobj(part, fh, 1 << 20)
            tmp.replace(joined)
        joined_files.append(joined)
        archives.append(joined)
    return archives, joined_files


def check_against_labels(root: Path, *, require: bool = False) -> dict[str, int]:
    """Checks that every file a label file lists is present; returns `{label file: files listed}`.

    Args:
        root: The dataset root (holding `label/`).
        require: Fail when no label file of the recipe is there (the main part ships them).

    Raises:
        ChecksumError: Files are missing (the message gives how many of how many, and examples), or no
            label file is there while `require`.
        CorpusLayoutError: A label file is not UTF-8 or lists a name that leaves its folder (file and line named).
    """
    recipe = load_recipe("st-codecfake")
    counts: dict[str, int] = {}
    for entry in recipe.subsets:
        path = inside(root, f"{LABEL_DIR}/{entry.label_file}", what="label file")
        if not path.is_file() or entry.label_file in counts:
            continue
        folder = inside(root, entry.folder, what="subset folder")
        names = [line.file for line in read_label_file(path)]
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise ChecksumError(
                f"{LABEL_DIR}/{entry.label_file} lists {len(names)} files but {len(missing)} are not in "
                f"{folder} (e.g. {missing[:3]}): the archives extracted only partly; delete the "
                "extracted folders and rerun (the downloads are kept)"
            )
        counts[entry.label_file] = len(names)
    if require and not counts:
        raise ChecksumError(
            f"{root / LABEL_DIR}: none of the label files {sorted({e.label_file for e in recipe.subsets})} is "
            "there, so the extracted files cannot be checked; the record did not ship them"
        )
    return counts


def _dataset_root(extracted: Path, record_id: str) -> Path:
    """The one folder of the extraction that holds `label/` (else the split folders); extra files and
    folders beside it (a README, another top folder) change nothing.

    Raises:
        ChecksumError: Dataset folders at two places (`label/` in one, split folders in another), which
            would let the label check miss data.
    """
    found: list[Path] = []
    level = [extracted]
    for _ in range(4):
        found += [d for d in level if any((d / m).is_dir() for m in _MARKERS)]
        level = [c for d in level for c in sorted(d.iterdir()) if c.is_dir() and not c.is_symlink()
                 and not c.name.startswith(".") and c.name not in _MARKERS]  # fmt: skip
    labelled = [d for d in found if (d / LABEL_DIR).is_dir()]
    if len(labelled) > 1 or (not labelled and len(found) > 1) or (labelled and len(found) > 1):
        places = ", ".join(str(d.relative_to(extracted)) for d in found)
        raise ChecksumError(
            f"record {record_id}: the archives hold dataset folders at {len(found)} places ({places}); expected "
            "one root holding label/ and the split folders, refusing to guess which one the label files check"
        )
    if not found:
        log.warning("record %s: no label/ or split folder in the archives; extracting them as they are", record_id)
        return extracted
    root = found[0]
    extras = [p.name for p in extracted.iterdir() if p not in (root, *root.parents)]
    if extras:
        log.warning("record %s: %s beside the dataset root are not copied (kept in the archives)", record_id, extras)
    return root


@dataclass(slots=True)
class DownloadResult:
    out_dir: Path
    files: list[RecordFile] = field(default_factory=list)
    extracted: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    already_done: bool = False


def download_st_codecfake(
    out_dir: PathLike,
    *,
    part: str = "main",
    api_url: str = ZENODO_API,
    keep_archives: bool = True,
    progress: Callable[[str, int, int | None], None] | None = None,
    limits: Limits | None = None,
    force: bool = False,
) -> DownloadResult:
    """Downloads, checks and extracts one part of the official ST-Codecfake into `out_dir` (the dataset root).

    Downloads go to `out_dir/downloads/` (kept, so a rerun skips them after an md5 check); archives are
    extracted into a staging folder, checked, and merged into `out_dir` without replacing anything there,
    so both parts end up in one root that `ncst verify`, `run-protocol --data` and `ncst train --data`
    read. A part finished before (`.ncst-download-<part>.json`) is not fetched again unless `force`.

    Raises:
        DownloadError: Offline or a server error (rerun to resume).
        RecordError, UnsafeNameError: The record is malformed or names a file or link that is refused.
        ChecksumError: A file's md5, an archive member or the extracted files do not match.
        ArchiveLimitError, MergeConflictError, DiskFullError: see `ncst.corpora.archives`.
    """
    if part not in ZENODO_RECORDS:
        raise NcstError(f"unknown part {part!r}; choose one of {sorted(ZENODO_RECORDS)}")
    record_id = ZENODO_RECORDS[part]
    root = Path(out_dir).expanduser().absolute()
    with disk_errors(root):
        root.mkdir(parents=True, exist_ok=True)
    marker = inside(root, f".ncst-download-{part}.json", what="marker")
    if marker.is_file() and not force:
        log.info("%s: part %s already downloaded (%s); nothing to do", root, part, marker.name)
        return DownloadResult(root, label_counts=check_against_labels(root), already_done=True)
    downloads = inside(root, "downloads", what="downloads folder")
    files = fetch_record(record_id, api_url=api_url, limits=limits)
    _check_space(downloads if downloads.is_dir() else root, downloads, files)
    result = DownloadResult(root, files)
    for f in files:
        log.info("%s (%d bytes)", f.key, f.size)

        def on_bytes(done: int, total: int | None, key: str = f.key) -> None:
            if progress:
                progress(key, done, total)

        download_file(f.url, downloads / f.key, md5=f.md5, size=f.size, progress=on_bytes, limits=limits)
    archives, joined = _join_parts(downloads, files, record_id)
    stale = sorted(p.name for p in root.glob(f".ncst-staging-{part}-*") if p.is_dir() and not p.is_symlink())
    if stale:
        log.warning("%s: %s left by an interrupted run; delete them to free their space", root, stale)
    with disk_errors(root):
        staging = Path(tempfile.mkdtemp(prefix=f".ncst-staging-{part}-", dir=root))
    try:
        for archive in archives:

            def on_members(done: int, total: int, label: str = f"extract {archive.name}") -> None:
                if progress:
                    progress(label, done, total)

            result.extracted += len(extract_archive(archive, staging / "archives", progress=on_members, limits=limits))
        (staging / "archives").mkdir(exist_ok=True)
        data_root = _dataset_root(staging / "archives", record_id)
        plain = staging / "plain"
        plain.mkdir()
        for f in files:  # plain files (a README, label files shipped outside an archive) go into the root
            if not _ARCHIVE.search(f.key) and not _BYTE_PART.match(f.key) and not _ZIP_DISK.match(f.key):
                with disk_errors(plain / f.key):
                    shutil.copyfile(downloads / f.key, plain / f.key)
        merge_into(plain, data_root)
        merge_into(data_root, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.label_counts = check_against_labels(root, require=part == "main")
    with disk_errors(marker):
        atomic_write_text(marker, json.dumps({"record": record_id, "files": [f.key for f in files]}) + "\n")
    if not keep_archives:  # only what this download wrote: other files in downloads/ stay
        for path in [downloads / f.key for f in files] + joined:
            path.unlink(missing_ok=True)
    return result


def _check_space(probe: Path, downloads: Path, files: list[RecordFile]) -> None:
    """Refuses up front a record whose missing bytes exceed the free disk space."""
    need = 0
    for f in files:
        have = downloads / f.key
        done = have.stat().st_size if have.is_file() else 0
        need += max(0, f.size - done)
    free = shutil.disk_usage(probe).free
    if need > free:
        raise DiskFullError(
            f"{downloads}: the record needs {need} more bytes but {free} are free; free space and rerun"
        )
