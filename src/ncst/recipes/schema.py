"""The schema of a recipe file: its entries as frozen dataclasses, and the field-by-field checks that make them.

A recipe file may be crafted. Every table and value is checked before it becomes an entry: unknown keys,
wrong types, numbers out of range, codec specs that do not parse, and names that would become paths outside
the dataset root (`ncst.paths`) raise `RecipeError` naming the file, the key and the value.
`ncst.recipes.recipe` puts the entries together (`extends`) and checks what only the whole recipe shows.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ncst.classes import CLASSES
from ncst.codecs.registry import parse_spec
from ncst.corpora.base import MAX_FILE_PREFIX_BYTES
from ncst.corpora.registry import CORPORA, corpus_names
from ncst.errors import NcstError, UnknownCodecError
from ncst.paths import check_file_name, check_rel_path, show

__all__ = [
    "MAX_CLASS_ID",
    "MAX_COUNT",
    "MAX_SEED",
    "PAIRINGS",
    "RESERVED_NAMES",
    "SETS",
    "TOP_KEYS",
    "SPLITS",
    "ClassEntry",
    "Fields",
    "RecipeError",
    "SourceSpec",
    "SubsetEntry",
    "check_prefix",
    "parse_classes",
    "parse_sources",
    "parse_subsets",
]

log = logging.getLogger(__name__)

#: The two sets a class can belong to: seen in training (ID) or not (OOD).
SETS = ("ID", "OOD")
#: How the classes of a drawn subset (train, dev) share source utterances: `paired` (the default): every
#: class resynthesises the same draw as class 0, so classes differ only by codec; `independent`: each class
#: draws its own utterances (the plans of ncst before pairing existed).
PAIRINGS = ("paired", "independent")


class RecipeError(NcstError):
    """A recipe file is malformed; the message names the file, the entry and the expected form."""


@dataclass(frozen=True, slots=True)
class ClassEntry:
    """One class of the dataset: its id, the codec spec of its main sets, and whether it is ID or OOD."""

    class_id: int
    codec: str
    family: str
    set: str

    @property
    def is_real(self) -> bool:
        return self.class_id == 0


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A pool of source utterances: the corpora that feed it and the published sizes per corpus.

    `sizes[corpus]` maps a split name (`train`, `dev`, `eval`) to a count, or for a source without
    splits (NCSSD) `sizes[group]` maps to `{"all": count}` per subset group (`R-EN`, `R-ZH`).
    """

    name: str
    readers: tuple[str, ...]
    sizes: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class SubsetEntry:
    """One folder x class-list of the layout.

    Attributes:
        folder: Folder relative to the dataset root, e.g. `train`, `ID_diff_config/C3-1`.
        source: `<source>:<split>` (`main:eval`) or `<source>` (`ncssd`).
        classes: Class ids written into this folder by this entry.
        label_file: File name under `label/` listing this entry's files (`<file> <real|fake> <id>`).
        codec: Codec spec overriding the class's main codec (config variants), or None.
        prefix: File-name prefix overriding the codec card's, or None.
        per_class: Files per class drawn from the source split, or None for all of it.
    """

    folder: str
    source: str
    classes: tuple[int, ...]
    label_file: str
    codec: str | None = None
    prefix: str | None = None
    per_class: int | None = None

    @property
    def source_name(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def split(self) -> str | None:
        return self.source.split(":", 1)[1] if ":" in self.source else None


#: Keys of a recipe file, of a class table and of a `[[subsets]]` table; any other key is an error.
TOP_KEYS = ("name", "title", "seed", "pairing", "extends", "classes", "corpora", "subsets")
_CLASS_KEYS = ("codec", "set", "family")
_SUBSET_KEYS = ("folder", "source", "classes", "label_file", "codec", "prefix", "per_class")
SPLITS = ("train", "dev", "eval")
#: Largest class id (label files, models and protocols index classes by id; 999 leaves room for any recipe).
MAX_CLASS_ID = 999
#: Largest seed (numpy takes any non-negative integer; TOML integers are signed 64-bit).
MAX_SEED = 2**63 - 1
#: Largest count in a recipe (pool sizes, `per_class`): far above any corpus, far below memory trouble.
MAX_COUNT = 10**9
#: First folder components a subset may not use: they hold the build's own files.
RESERVED_NAMES = (
    "label", "recipe.json", "build.json", "manifest.csv", "DATASET.md", "DATASET_spectrograms.png", "taxonomy.csv",
)  # fmt: skip
_RESERVED_PATTERNS = ("provenance*.jsonl", "failures*.csv", "build*.lock")


class Fields:
    """Builds `RecipeError`s that name the recipe file and the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, key: str, msg: str) -> RecipeError:
        return RecipeError(f"{self.origin}: {key}: {msg}")

    def text(self, value: object, key: str, *, limit: int = 200) -> str:
        """Printable text of at most `limit` characters (names and titles go into messages and the card)."""
        if not isinstance(value, str):
            raise self.error(key, f"expected text, got {type(value).__name__} {show(value)}")
        if len(value) > limit or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            raise self.error(key, f"{show(value)} must be printable text of at most {limit} characters")
        return value

    def integer(self, value: object, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {type(value).__name__} {show(value)}")
        if not low <= value <= high:
            raise self.error(key, f"{value} is out of range {low}..{high}")
        return value

    def choice(self, value: object, key: str, choices: Sequence[str]) -> str:
        """One of `choices`, spelled exactly."""
        if not isinstance(value, str) or value not in choices:
            raise self.error(key, f"{show(value)}; expected one of {list(choices)}")
        return value

    def table(self, value: object, key: str, allowed: Sequence[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected a table, got {type(value).__name__} {show(value)}")
        unknown = sorted(k for k in value if allowed is not None and k not in allowed)
        if unknown:
            raise self.error(key, f"unknown key(s) {[show(k) for k in unknown]}; allowed: {list(allowed or ())}")
        return value

    def codec(self, value: object, key: str) -> str:
        """A codec spec (`encodec@6kbps`): well-formed text; whether it is registered is the plan's business."""
        spec = self.text(value, key, limit=100)
        if not spec or any(ch.isspace() for ch in spec):
            raise self.error(key, f"{show(value)} is not a codec spec such as 'encodec@6kbps'")
        try:
            parse_spec(spec)
        except UnknownCodecError as err:
            raise self.error(key, str(err)) from err
        return spec


def parse_classes(data: object, where: Fields) -> dict[int, ClassEntry]:
    """`[classes]`: id -> codec spec, or id -> `{ codec, set, family }` (a class outside the table needs `set`)."""
    classes: dict[int, ClassEntry] = {}
    for key, value in where.table(data, "[classes]").items():
        name = f"[classes] {show(key)}"
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key):
            raise where.error(name, f"class ids are integers 0..{MAX_CLASS_ID} written plainly ('12')")
        class_id = where.integer(int(key), name, 0, MAX_CLASS_ID)
        table = where.table(value, name, _CLASS_KEYS) if not isinstance(value, str) else {"codec": value}
        if "codec" not in table:
            raise where.error(name, 'needs a codec spec ("encodec@6kbps") or a table with codec = "spec"')
        codec = where.codec(table["codec"], f"{name} codec")
        known = CLASSES[class_id] if class_id < len(CLASSES) else None
        if "set" in table:
            set_name = where.text(table["set"], f"{name} set")
        elif known is not None:
            set_name = known.split
        else:
            raise where.error(name, 'a class outside the class table needs set = "ID" or "OOD"')
        if set_name not in SETS:
            raise where.error(f"{name} set", f"{show(set_name)}; expected one of {list(SETS)}")
        family = where.text(table.get("family", known.family if known else codec), f"{name} family", limit=100)
        classes[class_id] = ClassEntry(class_id, codec, family, set_name)
    return classes


def parse_sources(data: object, where: Fields) -> dict[str, SourceSpec]:
    """`[corpora.<name>]`: known readers, and either split sizes per reader or one count per group."""
    sources: dict[str, SourceSpec] = {}
    for name, value in where.table(data, "[corpora]").items():
        key = f"[corpora.{name}]"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise where.error(key, "a source name is 1-64 letters, digits, '_' or '-'")
        table = where.table(value, key)
        readers = table.get("readers")
        if not isinstance(readers, list) or not readers:
            raise where.error(f"{key} readers", f'needs readers = ["vctk", ...], got {show(readers)}')
        for reader in readers:
            if not isinstance(reader, str) or reader not in CORPORA:
                raise where.error(f"{key} readers", f"unknown reader {show(reader)}; known: {corpus_names()}")
        if len(set(readers)) != len(readers):
            raise where.error(f"{key} readers", f"{readers} names a reader twice")
        sizes: dict[str, dict[str, int]] = {}
        for group, size in table.items():
            if group == "readers":
                continue
            if isinstance(size, Mapping):
                where.table(size, f"{key} {group}", SPLITS)
                sizes[group] = {s: where.integer(n, f"{key} {group}.{s}", 0, MAX_COUNT) for s, n in size.items()}
            else:
                sizes[group] = {"all": where.integer(size, f"{key} {show(group)}", 0, MAX_COUNT)}
        if not sizes:
            raise where.error(key, "gives no sizes: per corpus { train = N, dev = N, eval = N }, or per group N")
        grouped = [g for g, v in sizes.items() if set(v) == {"all"}]
        if grouped and len(grouped) != len(sizes):
            raise where.error(key, f"mixes group counts {grouped} with split tables; use one form")
        if not grouped:
            for corpus in sorted(set(readers) ^ set(sizes)):
                what = "has no split sizes" if corpus in readers else "is not one of its readers"
                raise where.error(key, f"corpus {show(corpus)} {what} ({readers})")
            for corpus, split_sizes in sizes.items():
                if sum(split_sizes.values()) <= 0:
                    raise where.error(f"{key} {corpus}", "split sizes add up to 0")
        sources[name] = SourceSpec(name, tuple(readers), sizes)
    return sources


def parse_subsets(data: object, where: Fields) -> list[SubsetEntry]:
    """`[[subsets]]`: each folder, label file and prefix checked as a name inside the dataset root."""
    if not isinstance(data, list):
        raise where.error("[[subsets]]", f"expected an array of tables, got {type(data).__name__}")
    subsets: list[SubsetEntry] = []
    for i, value in enumerate(data, 1):
        key = f"[[subsets]] #{i}"
        table = where.table(value, key, _SUBSET_KEYS)
        missing = [k for k in ("folder", "source", "classes", "label_file") if k not in table]
        if missing:
            raise where.error(key, f"lacks {missing}; has {sorted(table)}")
        folder = check_rel_path(table["folder"], f"{where.origin}: {key} folder", error=RecipeError)
        first = folder.split("/", 1)[0]
        if first in RESERVED_NAMES or any(fnmatch.fnmatchcase(first, p) for p in _RESERVED_PATTERNS):
            raise where.error(f"{key} folder", f"{show(folder)} would mix audio with the build's own files; rename it")
        source = where.text(table["source"], f"{key} source", limit=80)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}(:[a-z]+)?", source):
            raise where.error(f"{key} source", f"{show(source)}; expected '<source>' or '<source>:<split>'")
        classes = table["classes"]
        if not isinstance(classes, list) or not classes:
            raise where.error(f"{key} classes", f"expected a non-empty list of class ids, got {show(classes)}")
        ids = tuple(where.integer(c, f"{key} classes", 0, MAX_CLASS_ID) for c in classes)
        if len(set(ids)) != len(ids):
            raise where.error(f"{key} classes", f"{list(ids)} names a class twice")
        label_file = check_file_name(table["label_file"], f"{where.origin}: {key} label_file", error=RecipeError)
        codec = where.codec(table["codec"], f"{key} codec") if "codec" in table else None
        prefix = None
        if "prefix" in table:
            prefix = check_prefix(table["prefix"], f"{where.origin}: {key} prefix")
        per_class = (
            where.integer(table["per_class"], f"{key} per_class", 0, MAX_COUNT) if "per_class" in table else None
        )
        subsets.append(SubsetEntry(folder, source, ids, label_file, codec, prefix, per_class))
    return subsets


def check_prefix(value: object, where: str) -> str:
    """A file-name prefix (`C3-1`, or empty for bare utterance ids) that fits `MAX_FILE_PREFIX_BYTES`.

    Raises:
        RecipeError: Not a safe file-name component (see `ncst.paths`) or too long.
    """
    prefix = check_file_name(value, where, error=RecipeError, allow_empty=True)
    if len(prefix.encode("utf-8")) + 1 > MAX_FILE_PREFIX_BYTES:
        raise RecipeError(
            f"{where}: prefix {show(prefix)} is longer than the {MAX_FILE_PREFIX_BYTES - 1} bytes that utterance "
            "ids leave for it (file names must fit 255 bytes)"
        )
    return prefix
