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
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.download import DownloadError, download_file, extract_archive, merge_into
from ncst.errors import ChecksumError, NcstError
from ncst.layout import LABEL_DIR
from ncst.recipes.recipe import load_recipe

__all__ = [
    "ZENODO_RECORDS",
    "ZENODO_API",
    "RecordFile",
    "fetch_record",
    "download_st_codecfake",
    "check_against_labels",
]

log = logging.getLogger(__name__)

ZENODO_API = "https://zenodo.org"
ZENODO_RECORDS = {"main": "14631091", "openset": "14631085"}
_ARCHIVE = re.compile(r"\.(zip|tar|tgz|tar\.gz)$", re.I)
_BYTE_PART = re.compile(r"^(?P<base>.+\.(?:zip|tar|tgz|tar\.gz))\.(?:part)?(?P<n>\d{2,3})$", re.I)
_ZIP_DISK = re.compile(r"^(?P<base>.+)\.z(?P<n>\d{2})$", re.I)


@dataclass(frozen=True, slots=True)
class RecordFile:
    """One file of a Zenodo record."""

    key: str
    size: int
    md5: str | None
    url: str


def fetch_record(record_id: str, *, api_url: str = ZENODO_API, timeout_s: float = 60.0) -> list[RecordFile]:
    """The files of a Zenodo record, from its JSON API.

    Raises:
        DownloadError: Offline, or the server answers with an error or something that is not a record.
    """
    url = f"{api_url.rstrip('/')}/api/records/{record_id}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=timeout_s) as response:  # fmt: skip
            payload = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, socket.timeout, OSError) as err:
        raise DownloadError(
            f"cannot reach {url} ({err}): ncst download needs the network; check the connection or proxy "
            "(https_proxy) and rerun, finished files are kept and partial ones resume"
        ) from err
    except json.JSONDecodeError as err:
        raise DownloadError(f"{url}: the answer is not JSON ({err})") from err
    files = []
    for entry in payload.get("files") or []:
        checksum = str(entry.get("checksum", ""))
        links = entry.get("links") or {}
        key = str(entry["key"])
        files.append(
            RecordFile(
                key=key,
                size=int(entry["size"]),
                md5=checksum.split(":", 1)[1] if checksum.startswith("md5:") else None,
                url=str(links.get("self") or links.get("download") or f"{api_url}/records/{record_id}/files/{key}"),
            )
        )
    if not files:
        raise DownloadError(f"{url}: record {record_id} lists no files")
    return files


def _join_parts(folder: Path, keys: list[str]) -> list[Path]:
    """Joins byte-split parts (`x.zip.001`, `x.zip.002`, ...) into `x.zip`; returns the archives to extract."""
    groups: dict[str, list[tuple[int, str]]] = {}
    archives: list[Path] = []
    for key in keys:
        m = _BYTE_PART.match(key)
        if m:
            groups.setdefault(m.group("base"), []).append((int(m.group("n")), key))
        elif _ZIP_DISK.match(key):
            continue  # segment of a split zip: read with its .zip (`ncst.corpora.spanned_zip`)
        elif _ARCHIVE.search(key):
            archives.append(folder / key)
    for base, parts in sorted(groups.items()):
        joined = folder / base
        if not joined.is_file():
            tmp = joined.with_name(joined.name + ".joining")
            with open(tmp, "wb") as fh:
                for _, key in sorted(parts):
                    with open(folder / key, "rb") as part:
                        shutil.copyfileobj(part, fh, 1 << 20)
            tmp.replace(joined)
        archives.append(joined)
    return archives


def check_against_labels(root: Path) -> dict[str, int]:
    """Checks that every file a label file lists is present; returns `{label file: files listed}`.

    Raises:
        ChecksumError: Files are missing (the message gives how many of how many, and examples).
    """
    recipe = load_recipe("st-codecfake")
    counts: dict[str, int] = {}
    for entry in recipe.subsets:
        path = root / LABEL_DIR / entry.label_file
        if not path.is_file() or entry.label_file in counts:
            continue
        names = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        missing = [n for n in names if not (root / entry.folder / n).is_file()]
        if missing:
            raise ChecksumError(
                f"{LABEL_DIR}/{entry.label_file} lists {len(names)} files but {len(missing)} are not in "
                f"{root / entry.folder} (e.g. {missing[:3]}): the archives extracted only partly; delete the "
                "extracted folders and rerun (the downloads are kept)"
            )
        counts[entry.label_file] = len(names)
    return counts


def _dataset_root(staging: Path) -> Path:
    """The folder inside the extraction that holds `label/` or the split folders (archives may add a top folder)."""
    markers = ("label", "train", "eval_id", "ID_unseen_real", "ID_diff_config", "ALM")
    current = staging
    for _ in range(3):
        if any((current / m).exists() for m in markers):
            return current
        children = [c for c in current.iterdir() if not c.name.startswith(".")]
        if len(children) != 1 or not children[0].is_dir():
            return current
        current = children[0]
    return current


@dataclass(slots=True)
class DownloadResult:
    out_dir: Path
    files: list[RecordFile] = field(default_factory=list)
    extracted: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)


def download_st_codecfake(
    out_dir: PathLike,
    *,
    part: str = "main",
    api_url: str = ZENODO_API,
    keep_archives: bool = True,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> DownloadResult:
    """Downloads, checks and extracts one part of the official ST-Codecfake into `out_dir` (the dataset root).

    Downloads go to `out_dir/downloads/` (kept, so a rerun skips them after an md5 check); archives are
    extracted into a staging folder, checked, and moved into `out_dir`, so both parts end up in one root
    that `ncst verify`, `run-protocol --data` and `ncst train --data` read.

    Raises:
        DownloadError: Offline or a server error (rerun to resume).
        ChecksumError: A file's md5, an archive member or the extracted files do not match.
    """
    if part not in ZENODO_RECORDS:
        raise NcstError(f"unknown part {part!r}; choose one of {sorted(ZENODO_RECORDS)}")
    root = Path(out_dir).expanduser().absolute()
    downloads = root / "downloads"
    files = fetch_record(ZENODO_RECORDS[part], api_url=api_url)
    result = DownloadResult(root, files)
    for f in files:
        log.info("%s (%d bytes)", f.key, f.size)

        def on_bytes(done: int, total: int | None, key: str = f.key) -> None:
            if progress:
                progress(key, done, total)

        download_file(f.url, downloads / f.key, md5=f.md5, size=f.size, progress=on_bytes)
    staging = root / f".staging-{part}"
    if staging.exists():
        shutil.rmtree(staging)
    for archive in _join_parts(downloads, [f.key for f in files]):

        def on_members(done: int, total: int, label: str = f"extract {archive.name}") -> None:
            if progress:
                progress(label, done, total)

        result.extracted += len(extract_archive(archive, staging, progress=on_members))
    for f in files:  # plain files (label files shipped outside an archive)
        if not _ARCHIVE.search(f.key) and not _BYTE_PART.match(f.key) and not _ZIP_DISK.match(f.key):
            target = staging / f.key
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(downloads / f.key, target)
    if staging.is_dir():
        merge_into(_dataset_root(staging), root)
        shutil.rmtree(staging, ignore_errors=True)
    result.label_counts = check_against_labels(root)
    if not keep_archives:
        shutil.rmtree(downloads, ignore_errors=True)
    return result
