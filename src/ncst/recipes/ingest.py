"""`ncst ingest`: place audio that no codec can regenerate into a dataset layout, with labels and provenance.

ALM outputs (Moshi, Mini-Omni, SpeechGPT-Gen, VALL-E), the unseen-real corpora (ASVspoof 2019 LA,
In-the-Wild, bona fide) and the open-set voc sets (their spoofed audio, `--keys spoof`) are copied byte
for byte into a folder of the layout, under their own file names, with a label file
`label/<folder with - for />.txt` (`<file> <real|fake> <class id>`) and one provenance row per file, so
`ncst verify` checks them like generated files. The folder and its class are recorded under
`ingested` in `recipe.json`, which later recipe builds keep.

Every argument may be hostile (a typo, a crafted corpus, a root someone else prepared), so an ingest first
decides (`_plan`: the folder, the root, the class, every source name and every target) and only then
writes; a refused ingest leaves the disk as it was. It never writes outside the root and never replaces a
file it did not write itself: a generated file, another folder's label file, or audio already there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import soundfile as sf

import ncst
from ncst.audio import PathLike
from ncst.build_dataset.provenance import ProvenanceLog, ProvenanceRow, ncst_git_commit, read_provenance
from ncst.classes import CLASSES
from ncst.corpora.registry import corpus_entry, corpus_names
from ncst.errors import CorpusLayoutError, NcstError
from ncst.io import atomic_open, atomic_write_text, parse_temp_name, sha256_file
from ncst.layout import LABEL_DIR, RECIPE_FILE, format_label_line, label_file_name, read_label_file, read_recipe_meta
from ncst.paths import component_problem
from ncst.recipes.ingest_checks import (
    IngestError,
    check_folder,
    check_place,
    known_classes,
    label_owner,
)
from ncst.recipes.recipe import load_recipe
from ncst.recipes.verify import is_recipe_layout

__all__ = [
    "INGEST_READERS",
    "MINI_OMNI_FOLDER",
    "PROTOCOL_SUFFIX",
    "IngestError",
    "IngestResult",
    "check_keys",
    "corpus_protocol",
    "ingest",
]

log = logging.getLogger(__name__)

_AUDIO = (".wav", ".flac")

#: Unseen-real folders whose corpus mixes bona fide and spoofed audio: ingest takes them only through the
#: corpus reader, which keeps the bona fide rows of the corpus's own protocol / meta file.
_PROTOCOL_FOLDERS = {"ID_unseen_real/19LA": "asvspoof2019", "ID_unseen_real/ITW": "in_the_wild"}
#: Where the official configuration reads Mini-Omni: its audio-in, audio-out mode, one level down.
MINI_OMNI_FOLDER = "ALM/mini-omni/A1-A2"
#: Suffix of the folder beside an ingested corpus set that keeps the corpus's own protocol / meta file.
PROTOCOL_SUFFIX = "_protocol"


#: Corpus names `ncst ingest --corpus` accepts (every corpus of `ncst.corpora.registry`).
INGEST_READERS = tuple(corpus_names())


@dataclass(slots=True)
class IngestResult:
    folder: str
    label_file: str
    copied: int = 0
    skipped: int = 0


@dataclass(slots=True)
class _Plan:
    """Everything `ingest` decided before its first write."""

    root: Path
    folder: str
    label_file: str
    class_id: int
    meta: dict[str, Any] | None
    copies: list[tuple[str, Path, str]] = field(default_factory=list)  # (name, source, source sha256)
    skipped: int = 0
    label_text: str = ""
    protocol: tuple[Path, str] | None = None  # (the corpus's protocol / meta file, where it is kept in root)


def corpus_protocol(src: Path, corpus: str | None) -> Path | None:
    """The corpus's own protocol / meta file that selects its files (None for corpora without one).

    ASVspoof 2019 LA: ``ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.eval.trl.txt`` (5 columns);
    In-the-Wild: ``meta.csv``. The official loaders read these files, not ncst's label files.
    """
    if corpus == "asvspoof2019":
        from ncst.corpora.asvspoof2019 import PROTOCOL_DIR, PROTOCOL_FILES, find_asvspoof2019_root

        return find_asvspoof2019_root(src) / PROTOCOL_DIR / PROTOCOL_FILES["eval"]
    if corpus == "in_the_wild":
        from ncst.corpora.in_the_wild import find_in_the_wild_root

        return find_in_the_wild_root(src) / "meta.csv"
    return None


def _official_folder(rel_folder: str) -> str:
    """The folder the official code reads for `rel_folder`: ``ALM/mini-omni`` -> ``ALM/mini-omni/A1-A2``."""
    if rel_folder.lower() == "alm/mini-omni":
        target = f"{rel_folder.split('/')[0]}/mini-omni/A1-A2"
        log.info("--folder %s: writing to %s, where the official configuration reads Mini-Omni", rel_folder, target)
        return target
    return rel_folder


def _plan_protocol(src: Path, root: Path, folder: str, corpus: str | None) -> tuple[Path, str] | None:
    """The protocol file to keep beside `folder` (``<folder>_protocol/<its own name>``), or None.

    Raises:
        IngestError: The target exists with other bytes (ingest never replaces a file it did not write).
    """
    source = corpus_protocol(src, corpus)
    if source is None:
        return None
    target = f"{folder}{PROTOCOL_SUFFIX}/{source.name}"
    path = root / target
    if os.path.lexists(path) and (path.is_symlink() or not path.is_file() or sha256_file(path) != sha256_file(source)):
        raise IngestError(f"{path}: exists and is not a copy of {source}; not replacing it")
    return source, target


def check_keys(corpus: str | None, keys: Sequence[str]) -> tuple[str, ...]:
    """The label keys to read (`--keys`), checked against the corpus's own (`CorpusEntry.keys`).

    Raises:
        IngestError: Keys without `--corpus`, an unknown corpus, or a key the corpus does not have.
    """
    if corpus is None:
        if keys:
            raise IngestError(f"--keys {','.join(keys)}: keys select files of a corpus; give --corpus too")
        return ()
    if corpus not in INGEST_READERS:
        raise IngestError(f"--corpus {corpus!r}: unknown corpus for ingest; choose one of {list(INGEST_READERS)}")
    known = corpus_entry(corpus).keys
    bad = [k for k in keys if k not in known]
    if bad:
        raise IngestError(f"--keys {','.join(bad)}: not a label key of {corpus}; choose from {list(known)}")
    return tuple(dict.fromkeys(keys)) or known[:1]


def _sources(src: Path, corpus: str | None, keys: tuple[str, ...]) -> list[Path]:
    if corpus is not None:
        entry = corpus_entry(corpus)
        # a corpus of bona fide audio only has one key and its reader takes no `keys`
        utts = entry.read(src, keys=keys) if len(entry.keys) > 1 else entry.read(src)
        return [u.path for u in utts]
    if not src.is_dir():
        raise CorpusLayoutError(f"ingest source folder not found: {src}")
    files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in _AUDIO)
    if not files:
        raise CorpusLayoutError(f"{src}: no .wav or .flac files to ingest")
    return files


def _plan(
    src: Path, root: Path, folder: str, class_id: int, corpus: str | None, force: bool, keys: Sequence[str] = ()
) -> _Plan:
    """Checks everything an ingest needs; returns what to copy and the label file to write. Writes nothing."""
    rel_folder = _official_folder(check_folder(folder))
    wanted_keys = check_keys(corpus, keys)
    if rel_folder in _PROTOCOL_FOLDERS and corpus is None:
        raise IngestError(
            f"--folder {folder!r}: this corpus mixes bona fide and spoofed audio; give --src the corpus root and "
            f"--corpus {_PROTOCOL_FOLDERS[rel_folder]}, so only the bona fide files its own protocol lists are taken"
        )
    if class_id == 0 and corpus is not None and "spoof" in wanted_keys:
        raise IngestError(
            f"--class-id 0 labels the files real, but --keys {','.join(wanted_keys)} reads spoofed audio; "
            "the voc sets take an OOD class, e.g. --class-id 7"
        )
    if os.path.lexists(root) and not root.is_dir():
        raise IngestError(f"--out {str(root)!r}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not is_recipe_layout(root):
        raise IngestError(
            f"--out {str(root)!r}: not a dataset root (no {RECIPE_FILE}, {LABEL_DIR}/ or set folders) and not "
            "empty; ingest into a recipe build, the official download, or a new folder"
        )
    meta = read_recipe_meta(root / RECIPE_FILE) if (root / RECIPE_FILE).is_file() else None
    check_place(root, rel_folder, meta, force)
    if class_id not in known_classes(meta):
        raise IngestError(
            f"--class-id {class_id}: not a class of ncst.classes (0-{len(CLASSES) - 1}) nor of {root / RECIPE_FILE}"
        )
    label_file = label_file_name(rel_folder)
    owner = label_owner(root, meta, label_file)
    label_path = root / LABEL_DIR / label_file
    if owner is not None and owner != rel_folder:
        raise IngestError(f"--folder {folder!r}: its label file {LABEL_DIR}/{label_file} is that of folder {owner!r}")
    if owner is None and os.path.lexists(label_path):
        raise IngestError(f"{label_path}: exists, and {RECIPE_FILE} does not say which folder it labels; move it away")
    previous = ((meta or {}).get("ingested") or {}).get(label_file)
    if isinstance(previous, dict) and previous.get("class_id") not in (None, class_id):
        raise IngestError(
            f"--class-id {class_id}: {rel_folder} was ingested as class {previous.get('class_id')}; "
            "one class per ingested folder"
        )
    names: dict[str, Path] = {}
    for path in _sources(Path(src).expanduser(), corpus, wanted_keys):
        problem = component_problem(path.name) or ("is a temp-file name" if parse_temp_name(path.name) else None)
        if problem:
            raise IngestError(f"{str(path)!r}: the file name {path.name!r} {problem}; label files cannot hold it")
        if path.name in names:
            raise CorpusLayoutError(f"two source files are both named {path.name}: {names[path.name]} and {path}")
        names[path.name] = path
    plan = _Plan(root, rel_folder, label_file, class_id, meta)
    plan.protocol = _plan_protocol(Path(src).expanduser(), root, rel_folder, corpus)
    rows = read_provenance(sorted(root.glob("provenance*.jsonl")))
    for name, path in names.items():
        try:
            sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as err:
            raise CorpusLayoutError(f"{path}: not readable audio ({err})") from err
        source_sha = sha256_file(path)
        if _already_there(root, f"{rel_folder}/{name}", source_sha, rows.get(f"{rel_folder}/{name}")):
            plan.skipped += 1
        else:
            plan.copies.append((name, path, source_sha))
    kept = []
    if os.path.lexists(label_path):  # this folder's own label file: keep the lines of other files
        for line in read_label_file(label_path, error=IngestError):
            name = line.file
            if name not in names:
                kept.append(f"{line.file} {line.kind} {line.class_id}\n")
                continue
            row = rows.get(f"{rel_folder}/{name}")
            if row is None or not row.extra.get("ingested"):
                raise IngestError(f"{label_path}: already lists {name}, a file ingest did not write; not replacing it")
    plan.label_text = "".join(kept) + "".join(format_label_line(name, class_id) for name in names)
    return plan


def _already_there(root: Path, rel: str, source_sha: str, row: ProvenanceRow | None) -> bool:
    """True if a previous ingest put these bytes at `rel`; refuses any other file or record already there."""
    target = root / rel
    ingested = row is not None and bool(row.extra.get("ingested"))
    if not os.path.lexists(target):
        if row is not None and not ingested:
            raise IngestError(f"{target}: a generated file ({row.codec_spec}) recorded in provenance; not replacing it")
        return False
    if target.is_symlink() or not target.is_file():
        raise IngestError(f"{target}: exists and is not a plain file; not replacing it")
    if row is None:
        raise IngestError(f"{target}: exists and was not written by ingest (no provenance row); not replacing it")
    if not ingested:
        raise IngestError(f"{target}: a generated file ({row.codec_spec}) recorded in provenance; not replacing it")
    target_sha = sha256_file(target)
    if target_sha != row.output_sha256:
        raise IngestError(f"{target}: changed since it was ingested (sha256 differs from provenance); not replacing it")
    if target_sha != source_sha:
        raise IngestError(f"{target}: holds a different file ingested earlier; delete it first to replace it")
    return True


def ingest(
    src: PathLike,
    out_dir: PathLike,
    folder: str,
    class_id: int,
    *,
    corpus: str | None = None,
    force: bool = False,
    keys: Sequence[str] = (),
) -> IngestResult:
    """Copies the audio of `src` (a folder, or a corpus read with its reader) into `out_dir/folder`.

    Args:
        src: A folder of .wav/.flac files (searched recursively), or a corpus root when `corpus` is given.
        out_dir: Dataset root (a recipe build, the official download, or a new folder).
        folder: Folder of the layout, e.g. `ALM/moshi`, `ID_unseen_real/19LA`. `ALM/mini-omni` is written to
            `ALM/mini-omni/A1-A2`, where the official configuration reads it. `ID_unseen_real/19LA` and
            `ID_unseen_real/ITW` need `corpus` (their downloads hold spoofed audio too); the corpus's own
            protocol / meta file is kept in `<folder>_protocol/` for the official loaders.
        class_id: Class written to the label file (0 = real; moshi 1, speechgpt-gen 2, valle 4, mini-omni 6).
        corpus: Read `src` with this corpus reader (`asvspoof2019`: LA eval, `in_the_wild`, ...).
        force: Allow a folder of the dataset's own sets (`eval_id`, `ID_diff_config/C3-1`, ...).
        keys: Label keys of the corpus to read (`CorpusEntry.keys`); empty = its first (bona fide). The voc
            sets are `keys=("spoof",)` into `OOD_voc/19LA_spoof` and `OOD_voc/ITW_spoof` with class 7.

    Returns:
        Counts; files an earlier ingest placed with the same sha256 are skipped, so a rerun is cheap.

    Raises:
        IngestError: A bad or reserved folder, an unknown class, a key the corpus does not have (or spoofed
            audio labelled real), a source name a label file cannot hold, or a target that holds a file
            ingest did not write; nothing was written.
        CorpusLayoutError: The source is missing, empty or not audio, or two source files share a name.
    """
    if corpus is not None:
        corpus = corpus.replace("-", "_")  # `in-the-wild` as the corpus is usually written
    try:
        plan = _plan(Path(src), Path(out_dir), folder, class_id, corpus, force, keys)
    except OSError as err:  # an unreadable source or root: named, not a traceback
        raise IngestError(f"{err.filename or out_dir}: {err.strerror or err}; nothing was written") from err
    try:
        return _write(plan)
    except OSError as err:
        raise NcstError(f"ingest into {plan.root / plan.folder} failed: {err}") from err


def _write(plan: _Plan) -> IngestResult:
    root = plan.root
    result = IngestResult(plan.folder, plan.label_file, skipped=plan.skipped)
    (root / plan.folder).mkdir(parents=True, exist_ok=True)
    with ProvenanceLog(root / "provenance.jsonl") as prov:
        for name, path, source_sha in plan.copies:
            rel = f"{plan.folder}/{name}"
            start = time.perf_counter()
            with open(path, "rb") as fin, atomic_open(root / rel, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            info = sf.info(str(root / rel))
            prov.append(
                ProvenanceRow(
                    file=rel, utt_id=Path(name).stem, source_path=str(path), source_sha256=source_sha,
                    source_sample_rate_hz=int(info.samplerate), source_samples=int(info.frames),
                    codec_spec="ingest", class_id=plan.class_id, weights="none", checkpoint="",
                    checkpoint_sha256={}, upstream_versions={}, resampling="none (copied)",
                    sample_rate_hz=int(info.samplerate), input_samples=int(info.frames),
                    output_samples=int(info.frames), output_peak=0.0, output_sha256=source_sha, seed=0,
                    ncst_version=ncst.__version__, git_commit=ncst_git_commit(),
                    created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    seconds=round(time.perf_counter() - start, 4), extra={"ingested": True},
                )
            )  # fmt: skip
            result.copied += 1
    atomic_write_text(root / LABEL_DIR / plan.label_file, plan.label_text)
    if plan.protocol is not None:  # kept for the official loaders, which select bona fide rows from it
        source, target = plan.protocol
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as fin, atomic_open(root / target, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        log.info("kept %s as %s for the official loaders", source.name, target)
    _record(root, plan.meta, result, plan.class_id)
    log.info("ingested %d files (%d already there) into %s", result.copied, result.skipped, plan.folder)
    return result


def _record(root: Path, meta: dict[str, Any] | None, result: IngestResult, class_id: int) -> None:
    """Adds the folder to `recipe.json` (created for an official download, so `ncst verify` knows it)."""
    if meta is None:
        recipe = load_recipe("st-codecfake")
        label_files = {e.label_file: e.folder for e in recipe.subsets if (root / LABEL_DIR / e.label_file).is_file()}
        meta = {"recipe": recipe.name, "label_files": label_files, "prefixes": {}, "official_download": True}
    if result.label_file not in (meta.get("label_files") or {}):  # an official set (--force) keeps its entry
        meta.setdefault("ingested", {})[result.label_file] = {"folder": result.folder, "class_id": class_id}
    counts = meta.get("counts")
    if isinstance(counts, dict) and isinstance(counts.get(result.folder), dict):  # a built set (--force)
        per_class = counts[result.folder]
        old = per_class.get(str(class_id), 0)
        per_class[str(class_id)] = (old if isinstance(old, int) else 0) + result.copied
    atomic_write_text(root / RECIPE_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def ingested_label_files(meta: dict) -> dict[str, str]:
    """`{label file: folder}` of the ingested sets recorded in a `recipe.json` payload."""
    return {name: str(entry["folder"]) for name, entry in (meta.get("ingested") or {}).items()}
