"""What a card shows, read from a dataset folder: its sets, and per set the classes and their files.

Two layouts are read:

* a flat build folder (`build-dataset --codec ...`): `wav/`, `label.txt`, `provenance*.jsonl`; one group
  per codec spec, the set is `wav`;
* a dataset root in the ST-Codecfake layout (a recipe build or an official download): `label/*.txt`
  naming the folders (`recipe.json` when ncst built it, else the built-in recipe's names), one group per
  (folder, class id, codec spec).

Label files go through `ncst.layout.read_label_file`, provenance through `read_provenance`; a file
without a provenance row still counts (an official download has none), with its utterance id taken
from its name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ncst.build_dataset.provenance import read_provenance
from ncst.build_dataset.records import ProvenanceRow
from ncst.cards.order import natural_key, set_key
from ncst.classes import CLASSES, REAL_CLASS_ID
from ncst.errors import CorpusLayoutError
from ncst.layout import LABEL_DIR, RECIPE_FILE, read_label_file

__all__ = ["CardFile", "ClassGroup", "DatasetView", "class_name", "group_hours", "read_dataset"]

log = logging.getLogger(__name__)

FLAT_SET = "wav"
FLAT_LABEL_FILE = "label.txt"


@dataclass(frozen=True, slots=True)
class CardFile:
    """One audio file of the dataset.

    Attributes:
        rel: Path relative to the dataset root, POSIX separators (`eval_id/mimi_p225_001.wav`).
        utt_id: Source utterance id (provenance `utt_id`, else the file name without class prefix).
        row: The file's provenance row, or None.
    """

    rel: str
    utt_id: str
    row: ProvenanceRow | None

    @property
    def duration_s(self) -> float | None:
        """Duration from provenance, or None without a row."""
        if self.row is None or self.row.sample_rate_hz <= 0:
            return None
        return self.row.output_samples / self.row.sample_rate_hz


@dataclass(frozen=True, slots=True)
class ClassGroup:
    """The files of one class in one set, made by one codec spec.

    Attributes:
        set_name: The set's folder (`train`, `ID_diff_config/C3-1`; `wav` in a flat build).
        class_id: Class id from the label file (-1: a codec without a class id).
        codec_spec: Codec spec from provenance (`encodec@6kbps`), or None when no file has a row.
        files: The files, in label-file order.
    """

    set_name: str
    class_id: int
    codec_spec: str | None
    files: tuple[CardFile, ...]

    @property
    def key(self) -> str:
        """Unique name of the group: `<set>/<class id>/<spec>`."""
        return f"{self.set_name}/{self.class_id}/{self.codec_spec or '-'}"

    @property
    def name(self) -> str:
        """What a reader calls it: the class name and, when known, the codec spec."""
        base = class_name(self.class_id)
        return f"{base} ({self.codec_spec})" if self.codec_spec else base

    @property
    def is_real(self) -> bool:
        return self.class_id == REAL_CLASS_ID


@dataclass(frozen=True, slots=True)
class DatasetView:
    """A dataset folder as a card sees it.

    Attributes:
        root: The folder.
        layout: `flat` or `recipe`.
        title: Recipe name (from `recipe.json`) or the folder name.
        groups: Every group, sets in `set_key` order, then class id, then codec spec in natural order.
        rows: Provenance rows by file.
    """

    root: Path
    layout: str
    title: str
    groups: tuple[ClassGroup, ...]
    rows: Mapping[str, ProvenanceRow]

    @property
    def random_weight_files(self) -> int:
        """Files made with randomly initialised codecs (provenance `weights == "random"`)."""
        return sum(1 for r in self.rows.values() if r.is_random_weights)

    @property
    def sets(self) -> list[str]:
        return list(dict.fromkeys(g.set_name for g in self.groups))


def group_hours(root: Path, group: ClassGroup, *, sample: int = 200, seed: int = 0) -> tuple[float, bool]:
    """(hours, estimated): exact from provenance; files without a row (an official download) are estimated
    from the headers of up to `sample` of them, drawn with `seed`, so a large set costs `sample` reads."""
    known = sum(f.duration_s or 0.0 for f in group.files if f.row is not None)
    unknown = [f for f in group.files if f.row is None]
    if not unknown:
        return known / 3600.0, False
    import random

    import soundfile as sf

    durations = []
    for f in random.Random(f"{seed}:{group.key}").sample(unknown, min(sample, len(unknown))):
        try:
            info = sf.info(str(root / f.rel))
        except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError):
            continue  # missing or unreadable: `ncst verify` reports it
        if info.samplerate > 0:
            durations.append(info.frames / info.samplerate)
    mean = sum(durations) / len(durations) if durations else 0.0
    return (known + mean * len(unknown)) / 3600.0, len(durations) < len(unknown)


def class_name(class_id: int) -> str:
    """`real`, the codec family of an ST-Codecfake class (`EnCodec`), or `class N` outside the table."""
    if class_id == REAL_CLASS_ID:
        return "real"
    if 0 <= class_id < len(CLASSES):
        return CLASSES[class_id].family
    return "no class id" if class_id == -1 else f"class {class_id}"


def read_dataset(root: Path) -> DatasetView:
    """Reads a flat build folder or a dataset root (see the module docstring).

    Raises:
        CorpusLayoutError: `root` is neither layout, or a label file or `recipe.json` is malformed (the
            message names the file and line).
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusLayoutError(f"{root}: not a folder; give a build folder or a dataset root")
    rows = read_provenance(sorted(root.glob("provenance*.jsonl")))
    prefixes: dict[str, dict[str, str]] = {}
    if (root / RECIPE_FILE).is_file() or (root / LABEL_DIR).is_dir():
        label_files, title, prefixes = _recipe_label_files(root)
        layout = "recipe"
    elif (root / FLAT_LABEL_FILE).is_file():
        label_files, title, layout = {FLAT_LABEL_FILE: FLAT_SET}, root.name, "flat"
    else:
        raise CorpusLayoutError(
            f"{root}: no {FLAT_LABEL_FILE} (a build-dataset folder) and no {LABEL_DIR}/ or {RECIPE_FILE} "
            "(a dataset root); not a dataset"
        )
    members: dict[tuple[str, int, str | None], list[CardFile]] = {}
    for label_file, folder in label_files.items():
        path = root / label_file if layout == "flat" else root / LABEL_DIR / label_file
        if not path.is_file():
            log.warning("%s is missing; its set %s is left out of the card", path, folder)
            continue
        for line in read_label_file(path):
            rel = f"{folder}/{line.file}"
            row = rows.get(rel)
            spec = row.codec_spec if row is not None else None
            prefix = prefixes.get(folder, {}).get(str(line.class_id))
            utt_id = row.utt_id if row is not None else _utt_from_name(line.file, line.class_id, prefix)
            members.setdefault((folder, line.class_id, spec), []).append(CardFile(rel, utt_id, row))
    if not members:
        raise CorpusLayoutError(f"{root}: the label files list no files; nothing to show")
    groups = [ClassGroup(s, c, spec, tuple(files)) for (s, c, spec), files in members.items()]
    groups.sort(key=lambda g: (set_key(g.set_name), g.class_id, natural_key(g.codec_spec or "")))
    return DatasetView(root=root, layout=layout, title=title, groups=tuple(groups), rows=rows)


def _recipe_label_files(root: Path) -> tuple[dict[str, str], str, dict[str, dict[str, str]]]:
    """(label file -> folder, title, folder -> {class id: file prefix}) from `recipe.json`, else the built-in
    recipe's files that exist (and no prefixes: the class table's serve)."""
    meta_path = root / RECIPE_FILE
    if meta_path.is_file():
        from ncst.recipes.verify import read_recipe_meta

        meta = read_recipe_meta(meta_path)
        label_files = {str(k): str(v) for k, v in meta.get("label_files", {}).items()}
        label_files.update({str(k): str(e["folder"]) for k, e in (meta.get("ingested") or {}).items()})
        return label_files, str(meta.get("recipe") or root.name), dict(meta.get("prefixes", {}))
    from ncst.recipes import load_recipe

    recipe = load_recipe("st-codecfake")
    found = {e.label_file: e.folder for e in recipe.subsets if (root / LABEL_DIR / e.label_file).is_file()}
    if not found:
        raise CorpusLayoutError(f"{root}: {LABEL_DIR}/ holds none of the ST-Codecfake label files and no {RECIPE_FILE}")
    return found, root.name, {}


def _utt_from_name(file: str, class_id: int, prefix: str | None = None) -> str:
    """`mimi_p225_001.wav` (class 1) -> `p225_001`: the name without folder, extension and class prefix.

    The prefix is the one `recipe.json` records for the folder and class (classes added beyond the class
    table have their codec's own), else the class table's.
    """
    stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if prefix is None:
        prefix = CLASSES[class_id].file_prefix if 0 <= class_id < len(CLASSES) else ""
    if prefix and stem.startswith(prefix + "_"):
        return stem[len(prefix) + 1 :]
    return stem
