"""What sets a dataset root holds: one typed description that the model reader, inference and verify share.

A set is what one dump holds: a name (the dump name, ``eval_ood12``), an audio folder, and either a label
file (``label/eval_ood12.txt``) or one constant true label for every file of the folder. The description
comes from, in this order:

1. ``recipe.json`` when present: ``label_files`` (label file name -> folder), ``ingested`` and ``classes``
   (class id -> codec, family, set), so a class added with ``build-recipe --add-codec`` is a set;
2. the official layout by its published names (`OFFICIAL_LABEL_SETS`, `OFFICIAL_FOLDER_SETS`);
   ``eval_id.txt`` may sit at the root (where the official config reads it) or under ``label/``;
3. every other ``label/*.txt``: ``label/eval_ood12.txt`` is set ``eval_ood12`` with audio in ``eval_ood/``
   (``eval_ood<N>`` and ``eval_id<N>`` share their official folder), and ``label/<folder with / as ->.txt``
   is the folder it names, when that folder exists.

The unseen-real folders ``ID_unseen_real/19LA`` and ``ID_unseen_real/ITW`` are where the official README
places the ASVspoof 2019 LA and In-the-Wild downloads: read as a folder they would label every spoof file
real, so `folder_items` takes the bona fide files from the corpus's own protocol or ``meta.csv``
(``OOD_voc/*_spoof``: the spoof files), and refuses a corpus folder that lacks them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ncst.errors import CorpusLayoutError
from ncst.io import PathLike
from ncst.layout import LABEL_DIR, RECIPE_FILE, read_recipe_meta
from ncst.paths import component_problem

__all__ = [
    "SetInfo",
    "OFFICIAL_LABEL_SETS",
    "OFFICIAL_FOLDER_SETS",
    "OFFICIAL_SUBFOLDERS",
    "OFFICIAL_CLASS_COUNT",
    "CORPUS_FOLDERS",
    "discover_sets",
    "find_set",
    "resolve_folder",
    "recipe_classes",
    "corpus_files",
]

log = logging.getLogger(__name__)

#: Classes 0-11 are the paper's; a larger id is an extension class.
OFFICIAL_CLASS_COUNT = 12

#: Label-file sets of the official layout: dump name -> (audio folder, label file, role).
OFFICIAL_LABEL_SETS: dict[str, tuple[str, str, str]] = {
    "train": ("train", "label/train.txt", "train"),
    "dev": ("dev", "label/dev.txt", "dev"),
    "eval_id": ("eval_id", "label/eval_id.txt", "eval_id"),
    "eval_ood7": ("eval_ood", "label/eval_ood7.txt", "ood"),
    "eval_ood8-11": ("eval_ood", "label/eval_ood8-11.txt", "ood"),
}

#: Folder sets of the official layout: dump name -> (audio folder, constant true label, role).
OFFICIAL_FOLDER_SETS: dict[str, tuple[str, int, str]] = {
    "19LA": ("ID_unseen_real/19LA", 0, "unseen_real"),
    "ITW": ("ID_unseen_real/ITW", 0, "unseen_real"),
    "NCSSD": ("ID_unseen_real/NCSSD", 0, "unseen_real"),
    **{f"C3-{i}": (f"ID_diff_config/C3-{i}", 3, "diff_config") for i in range(1, 5)},
    **{f"C4-{i}": (f"ID_diff_config/C4-{i}", 4, "diff_config") for i in range(1, 4)},
    "NCSSD-mimi": ("ID_diff_source/NCSSD-mimi", 1, "diff_source"),
    "NCSSD-snac": ("ID_diff_source/NCSSD-snac", 6, "diff_source"),
    "NCSSD_wavtokenizer": ("OOD_diff_source/NCSSD_wavtokenizer", 7, "diff_source"),
    "wavtokenizer_small40": ("OOD_diff_config/wavtokenizer_small40", 7, "diff_config"),
    "19LA_spoof": ("OOD_voc/19LA_spoof", 7, "voc"),
    "ITW_spoof": ("OOD_voc/ITW_spoof", 7, "voc"),
    "moshi": ("ALM/moshi", 1, "alm"),
    "miniomni": ("ALM/mini-omni", 6, "alm"),
    "speechgpt-gen": ("ALM/speechgpt-gen", 2, "alm"),
    "valle": ("ALM/valle", 4, "alm"),
}

#: Sub-folders the official code reads a folder set from: Mini-Omni's audio-in/audio-out outputs sit in
#: `ALM/mini-omni/A1-A2/`. A label file of that sub-folder (`label/ALM-mini-omni-A1-A2.txt`) is read too.
OFFICIAL_SUBFOLDERS: dict[str, str] = {"miniomni": "A1-A2"}

#: Folder sets where a third-party corpus is dropped in: set -> (corpus, protocol keys to keep).
CORPUS_FOLDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "19LA": ("asvspoof2019_la", ("bonafide",)),
    "ITW": ("in_the_wild", ("bona-fide",)),
    "19LA_spoof": ("asvspoof2019_la", ("spoof",)),
    "ITW_spoof": ("in_the_wild", ("spoof",)),
}

_ROLES = ("train", "dev", "eval_id", "ood", "unseen_real", "diff_config", "diff_source", "voc", "alm", "extension")
_AUDIO_SUFFIXES = (".wav", ".flac")
_LA_NAME = re.compile(r"^LA_[TDE]_\d+$")


@dataclass(frozen=True, slots=True)
class SetInfo:
    """One set of a dataset root.

    Attributes:
        name: Dump name (``eval_ood12``, ``19LA``).
        audio_dir: Audio folder, relative to the root, as spelt on disk.
        label_file: Label file relative to the root, or None for a folder set with a constant label.
        label: The constant true label of a folder set (None for a label-file set).
        class_ids: Class ids the set holds as far as the description says (empty when unknown).
        role: ``train``, ``dev``, ``eval_id``, ``ood``, ``unseen_real``, ``diff_config``, ``diff_source``,
            ``voc``, ``alm`` or ``extension`` (a set outside the official names).
        source: Where the description came from: ``recipe.json``, ``official`` or ``label file``.
        codecs: Class id -> codec spec, from recipe.json's ``classes`` where it names them. recipe.json
            records each class as ID (in train, dev and eval_id) or OOD (in its own ``eval_ood<id>.txt``).
    """

    name: str
    audio_dir: str
    label_file: str | None = None
    label: int | None = None
    class_ids: tuple[int, ...] = ()
    role: str = "extension"
    source: str = "official"
    codecs: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Returns the set as a JSON-ready dict."""
        out = {s: getattr(self, s) for s in self.__slots__}
        out["class_ids"] = list(self.class_ids)
        out["codecs"] = {str(k): v for k, v in self.codecs.items()}
        return out


def resolve_folder(root: Path, folder: str) -> Path | None:
    """`root / folder` as it is on disk, each component matched exactly or else case-insensitively.

    The official result and data folders spell `ALM` in either case (`ALM/moshi`, `alm/moshi`), so a set
    is found under either; an exact match wins, and a component that matches two entries only by case is
    ambiguous and not guessed. Returns None when no folder matches.
    """
    path = root
    for part in folder.split("/"):
        entries = _entries(path)
        if part in entries and (path / part).is_dir():
            path = path / part
            continue
        matches = [name for name in entries if name.lower() == part.lower() and (path / name).is_dir()]
        if len(matches) != 1:
            return None
        path = path / matches[0]
    return path


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError:
        return []


def recipe_classes(root: PathLike) -> dict[int, dict[str, Any]]:
    """recipe.json's ``classes`` (class id -> {codec, family, set, ...}); empty without a recipe.json."""
    path = Path(root) / RECIPE_FILE
    if not path.is_file():
        return {}
    raw = read_recipe_meta(path).get("classes") or {}
    if not isinstance(raw, dict):
        raise CorpusLayoutError(f"{path}: 'classes' must map class ids to objects")
    out: dict[int, dict[str, Any]] = {}
    for key, entry in raw.items():
        try:
            class_id = int(key)
        except (TypeError, ValueError):
            raise CorpusLayoutError(f"{path}: 'classes' key {key!r} is not a class id") from None
        out[class_id] = dict(entry) if isinstance(entry, dict) else {}
    return out


def _label_file_folder(stem: str) -> str | None:
    """The official audio folder of a label-file set named like the official ones (``eval_ood12``)."""
    for prefix in ("eval_ood", "eval_id", "train", "dev"):
        if stem == prefix or (stem.startswith(prefix) and re.fullmatch(r"[0-9][0-9-]*", stem[len(prefix) :])):
            return prefix
    return None


def _role(name: str, folder: str) -> str:
    if name in OFFICIAL_LABEL_SETS:
        return OFFICIAL_LABEL_SETS[name][2]
    if name in OFFICIAL_FOLDER_SETS:
        return OFFICIAL_FOLDER_SETS[name][2]
    if name.startswith("eval_ood") or folder.startswith("OOD_"):
        return "ood"
    return "extension"


def _codecs(ids: tuple[int, ...], classes: dict[int, dict[str, Any]]) -> dict[int, str]:
    return {c: str(classes[c]["codec"]) for c in ids if isinstance(classes.get(c, {}).get("codec"), str)}


def discover_sets(root: PathLike) -> list[SetInfo]:
    """Every set present under `root`: official names first (in their fixed order), then the others by name.

    Raises:
        CorpusLayoutError: recipe.json is malformed (file and key named).
    """
    root = Path(root)
    classes = recipe_classes(root)
    by_set: dict[str, tuple[int, ...]] = {}  # recipe.json's "set" is ID or OOD: an ID class is in every ID split,
    for class_id, entry in sorted(classes.items()):  # an OOD class has its own eval_ood<id>.txt
        if entry.get("set") == "ID":
            for split in ("train", "dev", "eval_id"):
                by_set[split] = (*by_set.get(split, ()), class_id)
        elif entry.get("set") == "OOD":
            by_set[f"eval_ood{class_id}"] = (class_id,)
    recorded: dict[str, str] = {}  # label file name -> folder
    meta_path = root / RECIPE_FILE
    if meta_path.is_file():
        meta = read_recipe_meta(meta_path)
        recorded.update({k: str(v) for k, v in (meta.get("label_files") or {}).items()})
        recorded.update({k: str(e["folder"]) for k, e in (meta.get("ingested") or {}).items()})
    found: list[SetInfo] = []
    seen_files: set[str] = set()
    for name, (set_folder, label_file, role) in OFFICIAL_LABEL_SETS.items():
        rel = label_file
        if not (root / rel).is_file() and name == "eval_id" and (root / "eval_id.txt").is_file():
            rel = "eval_id.txt"  # where the official config reads it
        if (root / rel).is_file():
            seen_files.add(Path(rel).name if rel.startswith(f"{LABEL_DIR}/") else "")
            source = "recipe.json" if Path(rel).name in recorded else "official"
            ids = by_set.get(name, ())
            found.append(SetInfo(name, set_folder, rel, None, ids, role, source, _codecs(ids, classes)))
    for name, (official_folder, label, role) in OFFICIAL_FOLDER_SETS.items():
        path = resolve_folder(root, official_folder)
        if path is None:
            continue
        rel = path.relative_to(root).as_posix()
        folder_labels, audio_dir = _folder_label_file(root, name, rel)
        if folder_labels is not None:
            seen_files.add(Path(folder_labels).name)
        source = "recipe.json" if folder_labels is not None and Path(folder_labels).name in recorded else "official"
        found.append(SetInfo(name, audio_dir, folder_labels, label, (label,), role, source))
    label_dir = root / LABEL_DIR
    extra = sorted(p.name for p in label_dir.glob("*.txt") if p.is_file()) if label_dir.is_dir() else []
    known = {s.name for s in found}
    for file_name in extra:
        if file_name in seen_files:
            continue
        stem = file_name[: -len(".txt")]
        if component_problem(stem) is not None:  # a set name becomes a dump file name: `..` and the like are no set
            log.warning("%s: label/%s does not name a set (%s); skipped", root, file_name, component_problem(stem))
            continue
        folder = recorded.get(file_name) or _label_file_folder(stem)
        source = "recipe.json" if file_name in recorded else "label file"
        if folder is None:
            folder = _folder_of_flat_name(root, stem)
        if folder is None or stem in known:
            log.debug("%s: no audio folder for label/%s; not a set", root, file_name)
            continue
        ids = by_set.get(stem, ())
        rel = f"{LABEL_DIR}/{file_name}"
        found.append(SetInfo(stem, folder, rel, None, ids, _role(stem, folder), source, _codecs(ids, classes)))
        known.add(stem)
    return found


def _folder_label_file(root: Path, name: str, rel: str) -> tuple[str | None, str]:
    """(label file, its audio folder) that ``build-dataset --recipe`` / ``ingest`` wrote for an official
    folder set, or (None, the folder) when there is none."""
    from ncst.layout import label_file_name

    candidates = [rel]
    sub = OFFICIAL_SUBFOLDERS.get(name)
    if sub and (root / rel / sub).is_dir():
        candidates.append(f"{rel}/{sub}")
    for candidate in candidates:
        path = root / LABEL_DIR / label_file_name(candidate)
        if path.is_file():
            return path.relative_to(root).as_posix(), candidate
    return None, rel


def _folder_of_flat_name(root: Path, stem: str) -> str | None:
    """The folder whose flat name (``/`` as ``-``) is `stem`, searched two levels deep; None if none or two."""
    from ncst.layout import flat_set_name

    matches = []
    for top in _entries(root):
        if not (root / top).is_dir() or top == LABEL_DIR:
            continue
        if flat_set_name(top) == stem:
            matches.append(top)
        for sub in _entries(root / top):
            if (root / top / sub).is_dir() and flat_set_name(f"{top}/{sub}") == stem:
                matches.append(f"{top}/{sub}")
    return matches[0] if len(matches) == 1 else None


def find_set(root: PathLike, name: str) -> SetInfo:
    """The set `name` of `root`.

    Raises:
        CorpusLayoutError: No such set; the message lists the sets the root holds.
    """
    sets = discover_sets(root)
    for info in sets:
        if info.name == name:
            return info
    if name in OFFICIAL_FOLDER_SETS:
        raise CorpusLayoutError(
            f"set {name!r}: folder {Path(root) / OFFICIAL_FOLDER_SETS[name][0]} not found (in any letter case)"
        )
    if name in OFFICIAL_LABEL_SETS:
        raise CorpusLayoutError(f"set {name!r}: {Path(root) / OFFICIAL_LABEL_SETS[name][1]} not found")
    raise CorpusLayoutError(f"unknown set {name!r} in {root}; sets there: {[s.name for s in sets]}")


def corpus_files(info: SetInfo, folder: Path) -> list[Path] | None:
    """The audio files of a folder set where a third-party corpus was dropped in, filtered by its protocol.

    ``ID_unseen_real/19LA`` with ``ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.eval.trl.txt`` under it
    gives the bona fide eval files only; ``ID_unseen_real/ITW`` with ``meta.csv`` the bona fide clips;
    ``OOD_voc/*_spoof`` the spoof ones. Returns None for any other folder (read every file).

    Raises:
        CorpusLayoutError: The folder holds the corpus's audio but not its protocol / meta file (spoof
            files would be scored as real), or the protocol is malformed.
    """
    if info.name not in CORPUS_FOLDERS or info.label_file is not None:
        return None
    corpus, keys = CORPUS_FOLDERS[info.name]
    if corpus == "asvspoof2019_la":
        from ncst.corpora.asvspoof2019 import PROTOCOL_DIR, PROTOCOL_FILES, read_asvspoof2019_la

        protocols = list(folder.glob(f"**/{PROTOCOL_DIR}/{PROTOCOL_FILES['eval']}"))
        if protocols:
            return [u.path for u in read_asvspoof2019_la(folder, part="eval", keys=keys)]
        if any(_LA_NAME.match(p.stem) for p in _audio(folder)):
            raise CorpusLayoutError(
                f"{folder}: holds ASVspoof 2019 LA files (LA_E_...) but no {PROTOCOL_DIR}/{PROTOCOL_FILES['eval']}; "
                f"without it spoof files cannot be told from bona fide ones: put the protocol folder there"
            )
        return None
    from ncst.corpora.in_the_wild import read_in_the_wild

    if list(folder.glob("meta.csv")) or list(folder.glob("*/meta.csv")) or list(folder.glob("*/*/meta.csv")):
        return [u.path for u in read_in_the_wild(folder, keys=keys)]
    files = _audio(folder)
    if files and all(p.stem.isdigit() for p in files):
        raise CorpusLayoutError(
            f"{folder}: holds In-the-Wild clips (numbered files) but no meta.csv; without it spoof clips "
            "cannot be told from bona fide ones: put the corpus's meta.csv there"
        )
    return None


def _audio(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in _AUDIO_SUFFIXES and p.is_file())
