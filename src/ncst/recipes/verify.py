"""`ncst verify` on a recipe build (or an official download): label files against the files on disk.

Checks, each reported per file:

* missing: a label line (or a provenance row) names a file that is not there;
* corrupt: a file's sha256 differs from its provenance row, or (without provenance) its header is unreadable;
* extra: an audio file in a labelled folder that no label file lists;
* unexpected: anything else in a labelled folder: a non-audio file, a temp file of an interrupted or running
  build, or a sub-folder that is not itself a labelled folder;
* mislabelled: a label line's class id differs from the class the file was made as (provenance), or, for
  files without provenance, from the class its file-name prefix stands for in `recipe.json`;
* bad label lines: a line that is not `<file> <real|fake> <id>`, a file name with a path in it (a label
  file may only name files of its own folder), or a file listed twice.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import soundfile as sf

from ncst.audio import sha256_file
from ncst.build_dataset.provenance import read_provenance
from ncst.build_dataset.verify import VerifyReport
from ncst.errors import CorpusLayoutError
from ncst.io import parse_temp_name, read_json
from ncst.recipes.build import LABEL_DIR, RECIPE_FILE
from ncst.recipes.recipe import load_recipe

__all__ = ["verify_recipe_build", "is_recipe_layout", "read_recipe_meta"]

log = logging.getLogger(__name__)

_AUDIO = (".wav", ".flac")


def is_recipe_layout(out_dir: Path) -> bool:
    """A recipe build (`recipe.json`) or an official download (`label/train.txt` or `label/eval_id.txt`)."""
    root = Path(out_dir)
    return (root / RECIPE_FILE).is_file() or any((root / LABEL_DIR / n).is_file() for n in ("train.txt", "eval_id.txt"))


def _layout(root: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(label file -> folder, folder -> {prefix: class id}) from recipe.json or the built-in recipe."""
    meta_path = root / RECIPE_FILE
    if meta_path.is_file():
        meta = read_recipe_meta(meta_path)
        label_files = dict(meta.get("label_files", {}))
        label_files.update({name: str(e["folder"]) for name, e in (meta.get("ingested") or {}).items()})
        prefixes = {folder: {p: c for c, p in m.items()} for folder, m in meta.get("prefixes", {}).items()}
        return label_files, prefixes
    recipe = load_recipe("st-codecfake")
    label_files = {e.label_file: e.folder for e in recipe.subsets if (root / LABEL_DIR / e.label_file).is_file()}
    return label_files, {}


def read_recipe_meta(path: Path) -> dict[str, Any]:
    """Reads a dataset root's `recipe.json`, checking the parts verify and ingest use.

    The file may come from a download or a colleague: its folders must stay inside the root, and every
    mapping must have the shape ncst writes, or a `CorpusLayoutError` names the file and the key.
    """
    meta = read_json(path, error=CorpusLayoutError)

    def bad(what: str) -> CorpusLayoutError:
        return CorpusLayoutError(f"{path}: {what}; rebuild the dataset or fix the file")

    def folder_ok(folder: object) -> bool:
        return (
            isinstance(folder, str)
            and bool(folder)
            and not folder.startswith(("/", "\\"))
            and ".." not in (folder.replace("\\", "/").split("/"))
        )

    def name_ok(name: object) -> bool:
        return isinstance(name, str) and _plain_name(name) and bool(name)

    if not isinstance(meta, dict):
        raise bad("not a JSON object")
    label_files = meta.get("label_files", {})
    if not isinstance(label_files, dict) or not all(name_ok(k) and folder_ok(v) for k, v in label_files.items()):
        raise bad("'label_files' must map label file names to folders inside the dataset root")
    ingested = meta.get("ingested") or {}
    if not isinstance(ingested, dict) or not all(
        name_ok(k) and isinstance(e, dict) and folder_ok(e.get("folder")) for k, e in ingested.items()
    ):
        raise bad("'ingested' must map label file names to {\"folder\": ...} inside the dataset root")
    prefixes = meta.get("prefixes", {})
    if not isinstance(prefixes, dict) or not all(
        isinstance(m, dict) and all(isinstance(c, str) and isinstance(p, str) for c, p in m.items())
        for m in prefixes.values()
    ):
        raise bad("'prefixes' must map folders to {class id: file prefix}")
    return meta


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
        CorpusLayoutError: The folder has neither `recipe.json` nor official label files.
    """
    root = Path(out_dir)
    if not is_recipe_layout(root):
        raise CorpusLayoutError(
            f"{root}: no {RECIPE_FILE} and no {LABEL_DIR}/train.txt or eval_id.txt; not a dataset root"
        )
    label_files, prefixes = _layout(root)
    rows = read_provenance(sorted(root.glob("provenance*.jsonl")))
    report = VerifyReport()
    listed: set[str] = set()
    for label_file, folder in sorted(label_files.items()):
        path = root / LABEL_DIR / label_file
        if not path.is_file():
            report.missing.append(f"{LABEL_DIR}/{label_file}")
            continue
        for lineno, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not text.strip():
                continue
            fields = text.split()
            where = f"{LABEL_DIR}/{label_file}:{lineno}"
            if len(fields) != 3 or not fields[2].isdigit() or fields[1] not in ("real", "fake"):
                report.labels.append(f"{where}: {text.strip()[:80]!r}")
                continue
            if not _plain_name(fields[0]):
                report.labels.append(f"{where}: {fields[0][:80]!r} is not a plain file name of {folder}/")
                continue
            rel = f"{folder}/{fields[0]}"
            if rel in listed:
                report.labels.append(f"{where}: {fields[0]} listed twice")
                continue
            listed.add(rel)
            if (fields[1] == "real") != (fields[2] == "0"):
                report.mislabelled.append(f"{rel}: column 2 {fields[1]!r} contradicts class {fields[2]}")
                continue
            file = root / rel
            row = rows.get(rel)
            if not file.is_file():
                report.missing.append(rel)
                continue
            if row is not None:
                if row.is_random_weights:
                    report.random_weights += 1
                if rehash and sha256_file(file) != row.output_sha256:
                    report.corrupt.append(rel)
                    continue
                expected = None if row.class_id is None else str(row.class_id)
            else:
                try:
                    sf.info(str(file))
                except (sf.LibsndfileError, RuntimeError) as err:
                    report.corrupt.append(f"{rel}: {err}")
                    continue
                expected = _class_from_prefix(fields[0], prefixes.get(folder, {}))
            if expected is not None and expected != fields[2]:
                report.mislabelled.append(f"{rel}: label says {fields[2]}, made as class {expected}")
                continue
            report.n_ok += 1
    for rel in sorted(set(rows) - listed):
        if not (root / rel).is_file():
            report.missing.append(rel)
    _scan_folders(root, sorted(set(label_files.values())), listed, report)
    return report


def _plain_name(name: str) -> bool:
    """A bare file name: no separator, not `.` or `..`, so a crafted label line cannot reach outside its folder."""
    return name not in (".", "..") and "/" not in name and "\\" not in name


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
