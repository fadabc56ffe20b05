"""What `ncst export` reads: one `ExportEntry` per labelled audio file of a build folder or dataset root.

Two layouts are read, both through the readers that write or verify them:

* a flat build folder (`build-dataset` without a recipe): `label.txt` names files of `wav/`, all in one
  set called `wav` (a set is named after its folder in both layouts; `all` is reserved by `datasets`);
* a dataset root (a recipe build or the official download): `label/<name>.txt` per set, the folder of each
  label file taken from `recipe.json` (or, for a download, from the built-in ST-Codecfake recipe).

Provenance rows (`provenance*.jsonl`) add the exact codec spec and how each file was made; `manifest.csv`
adds speaker, corpus and language. The inputs may be crafted: a label line naming a path, a file that is a
link to somewhere outside the folder, or a line that repeats a file is refused with the file and line.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from ncst.build_dataset.provenance import read_provenance
from ncst.build_dataset.records import ProvenanceRow
from ncst.errors import CorpusLayoutError
from ncst.io import PathLike, read_text
from ncst.layout import LABEL_DIR, RECIPE_FILE, read_label_file, read_recipe_meta
from ncst.recipes.recipe import load_recipe
from ncst.recipes.verify import is_recipe_layout

__all__ = ["ExportEntry", "ExportSource", "read_export_source", "FLAT_SET"]

log = logging.getLogger(__name__)

#: Set name of a flat build's files: like every set, named after its folder (a flat build has no splits).
FLAT_SET = "wav"
_FLAT_LABELS = "label.txt"
_KINDS = ("real", "fake")


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One labelled audio file.

    Attributes:
        split: Set the file belongs to: its folder in a dataset root (`train`, `ID_diff_config/C3-1`), or
            `wav` in a flat build.
        file: Path relative to the source folder (`train/mimi_p225_001.wav`, `wav/fake_spk1_000.wav`).
        path: Absolute path of the audio file.
        label: `real` or `fake` (label-file column 2).
        class_id: ST-Codecfake class id (column 3; -1 for a codec without one).
        codec_spec: Codec that made the file: from provenance, else from the built-in recipe for an
            official download, else None (and None for real speech).
        sample_rate_hz: Rate read from the file header.
        num_samples: Frames read from the file header.
        channels: Channels read from the file header.
        utt_id: Source utterance id (provenance or manifest), or None.
        speaker: Speaker from `manifest.csv`, or None.
        corpus: Corpus from `manifest.csv`, or None.
        language: Language from `manifest.csv`, or None.
        provenance: The file's provenance row, or None (official downloads, ingested files without rows).
    """

    split: str
    file: str
    path: Path
    label: str
    class_id: int
    codec_spec: str | None
    sample_rate_hz: int
    num_samples: int
    channels: int
    utt_id: str | None = None
    speaker: str | None = None
    corpus: str | None = None
    language: str | None = None
    provenance: ProvenanceRow | None = None

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate_hz


@dataclass(frozen=True, slots=True)
class ExportSource:
    """A source folder read for export.

    Attributes:
        root: The source folder (resolved).
        layout: `flat` (a `build-dataset` folder) or `dataset` (a recipe build or official download).
        audio_dirs: Folders holding the audio, relative to `root` (`wav`, or every labelled folder).
        entries: Every labelled file present on disk, in label-file order, sets sorted by name.
        missing: `label file:line` of each labelled file that is not on disk (skipped, with a warning).
    """

    root: Path
    layout: str
    audio_dirs: tuple[str, ...]
    entries: tuple[ExportEntry, ...]
    missing: tuple[str, ...]

    @property
    def splits(self) -> dict[str, int]:
        """Files per set, in entry order."""
        counts: dict[str, int] = {}
        for e in self.entries:
            counts[e.split] = counts.get(e.split, 0) + 1
        return counts


def read_export_source(src_dir: PathLike) -> ExportSource:
    """Reads a flat build folder or a dataset root; see the module docstring.

    Raises:
        CorpusLayoutError: The folder is neither layout, or a label line, manifest, recipe.json or audio
            file is unusable (the message names the file, and the line where there is one).
    """
    root = Path(src_dir).resolve()
    if not root.is_dir():
        raise CorpusLayoutError(f"{src_dir}: not a folder; give a build-dataset output folder or a dataset root")
    if is_recipe_layout(root):
        sets = _dataset_sets(root)
        layout = "dataset"
    elif (root / _FLAT_LABELS).is_file():
        sets = [(root / _FLAT_LABELS, FLAT_SET, FLAT_SET)]
        layout = "flat"
    else:
        raise CorpusLayoutError(
            f"{src_dir}: no {_FLAT_LABELS}, {RECIPE_FILE} or {LABEL_DIR}/train.txt / eval_id.txt; give a "
            "build-dataset output folder or a dataset root (recipe build or the official download)"
        )
    rows = read_provenance(sorted(root.glob("provenance*.jsonl")))
    people = _read_manifest(root / "manifest.csv")
    recipe_codecs = _recipe_codecs(root) if layout == "dataset" else {}
    entries: list[ExportEntry] = []
    missing: list[str] = []
    for label_path, folder, split in sets:
        seen: dict[str, int] = {}
        for line in read_label_file(label_path):
            where = f"{label_path}:{line.line}"
            if not _plain_name(line.file):
                raise CorpusLayoutError(
                    f"{where}: {line.file[:80]!r} is not a plain file name of {folder}/; a label line may only "
                    "name a file of its own folder"
                )
            if line.kind not in _KINDS:
                raise CorpusLayoutError(f"{where}: column 2 is {line.kind[:40]!r}; expected one of {list(_KINDS)}")
            if (line.kind == "real") != (line.class_id == 0) or line.class_id < -1:
                raise CorpusLayoutError(
                    f"{where}: {line.kind} with class {line.class_id} (real is class 0, fake a class >= 1, or -1 "
                    "for a codec without one); fix the line or run `ncst verify`"
                )
            if line.file in seen:
                raise CorpusLayoutError(f"{where}: {line.file} is listed twice (first at line {seen[line.file]})")
            seen[line.file] = line.line
            rel = f"{folder}/{line.file}"
            path = root / folder / line.file
            if not path.is_file():
                log.warning("%s: %s is not there; skipping it", where, rel)
                missing.append(where)
                continue
            real_path = path.resolve()
            if not real_path.is_relative_to(root):
                raise CorpusLayoutError(f"{where}: {rel} is a link to {real_path}, outside {root}; refusing it")
            entries.append(_entry(split, rel, real_path, line.kind, line.class_id, where, rows, people, recipe_codecs))
    return ExportSource(root, layout, tuple(sorted({f for _, f, _ in sets})), tuple(entries), tuple(missing))


def _entry(
    split: str,
    rel: str,
    path: Path,
    kind: str,
    class_id: int,
    where: str,
    rows: dict[str, ProvenanceRow],
    people: dict[str, dict[str, str]],
    recipe_codecs: dict[tuple[str, int], str],
) -> ExportEntry:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise CorpusLayoutError(f"{where}: {rel} is not readable audio ({err}); run `ncst verify`") from err
    if info.samplerate <= 0 or info.frames <= 0:
        raise CorpusLayoutError(f"{where}: {rel} has {info.frames} frames at {info.samplerate} Hz; run `ncst verify`")
    row = rows.get(rel)
    person = people.get(rel, {})
    codec = row.codec_spec if row is not None else recipe_codecs.get((split, class_id))
    return ExportEntry(
        split=split,
        file=rel,
        path=path,
        label=kind,
        class_id=class_id,
        codec_spec=None if class_id == 0 else codec,
        sample_rate_hz=int(info.samplerate),
        num_samples=int(info.frames),
        channels=int(info.channels),
        utt_id=row.utt_id if row is not None else (person.get("utt_id") or None),
        speaker=person.get("speaker") or None,
        corpus=person.get("corpus") or None,
        language=person.get("language") or None,
        provenance=row,
    )


def _dataset_sets(root: Path) -> list[tuple[Path, str, str]]:
    """(label file, folder, set name) of a dataset root; label files that are absent are skipped."""
    meta_path = root / RECIPE_FILE
    if meta_path.is_file():
        meta = read_recipe_meta(meta_path)
        folders = {str(k): str(v) for k, v in meta.get("label_files", {}).items()}
        folders.update({str(k): str(e["folder"]) for k, e in (meta.get("ingested") or {}).items()})
    else:
        folders = {e.label_file: e.folder for e in load_recipe("st-codecfake").subsets}
    sets = []
    for name, folder in sorted(folders.items(), key=lambda kv: (kv[1], kv[0])):
        path = root / LABEL_DIR / name
        if not path.is_file():
            log.warning("%s: not there; skipping the %s set", path, folder)
            continue
        sets.append((path, folder.strip("/").replace("\\", "/"), folder.strip("/").replace("\\", "/")))
    if not sets:
        raise CorpusLayoutError(f"{root / LABEL_DIR}: no label file of the layout is there; nothing to export")
    return sets


def _recipe_codecs(root: Path) -> dict[tuple[str, int], str]:
    """(folder, class id) -> codec spec of the built-in recipe, for files without provenance.

    Used for an official download and for a root built from the built-in recipe; a root built from
    another recipe file gets no recipe codec (its rows carry the spec).
    """
    meta_path = root / RECIPE_FILE
    if meta_path.is_file() and read_recipe_meta(meta_path).get("recipe") != "st-codecfake":
        return {}
    recipe = load_recipe("st-codecfake")
    return {(e.folder, c): recipe.codec_for(e, c) for e in recipe.subsets for c in e.classes if c in recipe.classes}


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """`manifest.csv` rows by file path relative to the root: utt_id, speaker, corpus, language.

    A flat build's `file` column is already that path; a recipe build's is the name within `folder`.
    A missing manifest gives nothing (the fields stay empty); an unreadable one names the file and line.
    """
    if not path.is_file():
        return {}
    text = read_text(path, error=CorpusLayoutError)
    people: dict[str, dict[str, str]] = {}
    try:
        reader = csv.DictReader(text.splitlines())
        for row in reader:
            file = row.get("file") or ""
            folder = row.get("folder") or ""
            rel = f"{folder}/{file}" if folder else file
            people[rel] = {k: str(row.get(k) or "") for k in ("utt_id", "speaker", "corpus", "language")}
    except csv.Error as err:
        raise CorpusLayoutError(f"{path}:{reader.line_num}: not a readable CSV row ({err})") from err
    return people


def _plain_name(name: str) -> bool:
    """A bare file name: no separator, not `.` or `..`, so a crafted label line cannot reach outside its folder."""
    return name not in (".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
