"""`ncst ingest`: place audio that no codec can regenerate into a dataset layout, with labels and provenance.

ALM outputs (Moshi, Mini-Omni, SpeechGPT-Gen, VALL-E) and the unseen-real corpora (ASVspoof 2019 LA,
In-the-Wild) are copied byte for byte into a folder of the layout, under their own file names, with a
label file `label/<folder with - for />.txt` (`<file> <real|fake> <class id>`) and one provenance row per
file, so `ncst verify` checks them like generated files. The folder and its class are recorded under
`ingested` in `recipe.json`, which later recipe builds keep.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import soundfile as sf

import ncst
from ncst.audio import PathLike
from ncst.build_dataset.provenance import ProvenanceLog, ProvenanceRow, ncst_git_commit, read_provenance
from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError, NcstError
from ncst.io import atomic_write_text, sha256_file
from ncst.recipes.build import LABEL_DIR, RECIPE_FILE
from ncst.recipes.recipe import load_recipe
from ncst.recipes.splits import format_label_line
from ncst.recipes.verify import read_recipe_meta

__all__ = ["INGEST_READERS", "IngestResult", "ingest", "label_file_for"]

log = logging.getLogger(__name__)

_AUDIO = (".wav", ".flac")


def _readers() -> dict[str, Callable[[Path], Iterator[Utterance]]]:
    from ncst.corpora.aishell3 import read_aishell3
    from ncst.corpora.asvspoof2019 import read_asvspoof2019_la
    from ncst.corpora.in_the_wild import read_in_the_wild
    from ncst.corpora.ncssd import read_ncssd
    from ncst.corpora.vctk import read_vctk

    return {
        "asvspoof2019": read_asvspoof2019_la,
        "in_the_wild": read_in_the_wild,
        "ncssd": read_ncssd,
        "vctk": read_vctk,
        "aishell3": read_aishell3,
    }


#: Corpus names `ncst ingest --corpus` accepts.
INGEST_READERS = ("asvspoof2019", "in_the_wild", "ncssd", "vctk", "aishell3")


@dataclass(slots=True)
class IngestResult:
    folder: str
    label_file: str
    copied: int = 0
    skipped: int = 0


def label_file_for(folder: str) -> str:
    """`ID_unseen_real/19LA` -> `ID_unseen_real-19LA.txt`."""
    return folder.strip("/").replace("/", "-") + ".txt"


def _sources(src: Path, corpus: str | None) -> list[Path]:
    if corpus is not None:
        readers = _readers()
        if corpus not in readers:
            raise NcstError(f"unknown corpus {corpus!r} for ingest; choose one of {list(INGEST_READERS)}")
        return [u.path for u in readers[corpus](src)]
    if not src.is_dir():
        raise CorpusLayoutError(f"ingest source folder not found: {src}")
    files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in _AUDIO)
    if not files:
        raise CorpusLayoutError(f"{src}: no .wav or .flac files to ingest")
    return files


def ingest(
    src: PathLike,
    out_dir: PathLike,
    folder: str,
    class_id: int,
    *,
    corpus: str | None = None,
) -> IngestResult:
    """Copies the audio of `src` (a folder, or a corpus read with its reader) into `out_dir/folder`.

    Args:
        src: A folder of .wav/.flac files (searched recursively), or a corpus root when `corpus` is given.
        out_dir: Dataset root (a recipe build or the official download).
        folder: Folder of the layout, e.g. `ALM/moshi`, `ID_unseen_real/19LA`.
        class_id: Class written to the label file (0 = real; moshi 1, speechgpt-gen 2, valle 4, mini-omni 6).
        corpus: Read `src` with this corpus reader (`asvspoof2019`: eval bona fide, `in_the_wild`: bona-fide).

    Returns:
        Counts; files already present with the same sha256 are skipped, so a rerun is cheap.

    Raises:
        CorpusLayoutError: The source is missing or empty, or two source files share a name.
    """
    root = Path(out_dir)
    rel_folder = folder.strip("/")
    if not rel_folder or ".." in Path(rel_folder).parts or Path(rel_folder).is_absolute():
        raise NcstError(f"--folder {folder!r} must be a relative folder inside the dataset, e.g. ALM/moshi")
    files = _sources(Path(src).expanduser(), corpus)
    names: dict[str, Path] = {}
    for path in files:
        if path.name in names:
            raise CorpusLayoutError(f"two source files are both named {path.name}: {names[path.name]} and {path}")
        names[path.name] = path
    result = IngestResult(rel_folder, label_file_for(rel_folder))
    (root / rel_folder).mkdir(parents=True, exist_ok=True)
    rows = read_provenance(sorted(root.glob("provenance*.jsonl")))
    with ProvenanceLog(root / "provenance.jsonl") as prov:
        for name, path in names.items():
            rel = f"{rel_folder}/{name}"
            target = root / rel
            source_sha = sha256_file(path)
            old = rows.get(rel)
            if old is not None and target.is_file() and old.output_sha256 == source_sha == sha256_file(target):
                result.skipped += 1
                continue
            start = time.perf_counter()
            tmp = target.with_name(f".{name}.ingest.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
            info = sf.info(str(target))
            prov.append(
                ProvenanceRow(
                    file=rel, utt_id=Path(name).stem, source_path=str(path), source_sha256=source_sha,
                    source_sample_rate_hz=int(info.samplerate), source_samples=int(info.frames),
                    codec_spec="ingest", class_id=class_id, weights="none", checkpoint="",
                    checkpoint_sha256={}, upstream_versions={}, resampling="none (copied)",
                    sample_rate_hz=int(info.samplerate), input_samples=int(info.frames),
                    output_samples=int(info.frames), output_peak=0.0, output_sha256=source_sha, seed=0,
                    ncst_version=ncst.__version__, git_commit=ncst_git_commit(),
                    created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    seconds=round(time.perf_counter() - start, 4), extra={"ingested": True},
                )
            )  # fmt: skip
            result.copied += 1
    text = "".join(format_label_line(name, class_id) for name in names)
    atomic_write_text(root / LABEL_DIR / result.label_file, text)
    _record(root, result, class_id)
    log.info("ingested %d files (%d already there) into %s", result.copied, result.skipped, rel_folder)
    return result


def _record(root: Path, result: IngestResult, class_id: int) -> None:
    """Adds the folder to `recipe.json` (created for an official download, so `ncst verify` knows it)."""
    path = root / RECIPE_FILE
    if path.is_file():
        meta = read_recipe_meta(path)
    else:
        recipe = load_recipe("st-codecfake")
        label_files = {e.label_file: e.folder for e in recipe.subsets if (root / LABEL_DIR / e.label_file).is_file()}
        meta = {"recipe": recipe.name, "label_files": label_files, "prefixes": {}, "official_download": True}
    meta.setdefault("ingested", {})[result.label_file] = {"folder": result.folder, "class_id": class_id}
    atomic_write_text(path, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def ingested_label_files(meta: dict) -> dict[str, str]:
    """`{label file: folder}` of the ingested sets recorded in a `recipe.json` payload."""
    return {name: str(entry["folder"]) for name, entry in (meta.get("ingested") or {}).items()}
