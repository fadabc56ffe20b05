"""Recipes as data: which subsets a dataset has, which corpus split and codec feed each, where files go.

A recipe is a TOML file (the built-in one is `st_codecfake.toml` next to this module) loaded into frozen
dataclasses. Code never special-cases a subset: config variants (C3-x, C4-x), source variants (NCSSD-mimi,
...) and new classes are entries. A user recipe may start with `extends = "st-codecfake"` and add
`[classes]` and `[[subsets]]` of its own, which is how a new codec joins without editing ncst
(`docs/adding_a_codec.md`).
"""

from __future__ import annotations

import fnmatch
import logging
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ncst.classes import CLASSES
from ncst.codecs.registry import parse_spec
from ncst.corpora.base import MAX_FILE_PREFIX_BYTES
from ncst.errors import NcstError, UnknownCodecError
from ncst.io import PathLike, read_text
from ncst.recipes.paths import check_file_name, check_rel_path, resolve_inside, show

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ClassEntry",
    "MAX_CLASS_ID",
    "MAX_EXTENDS_DEPTH",
    "MAX_SEED",
    "RECIPES",
    "Recipe",
    "RecipeError",
    "SourceSpec",
    "SubsetEntry",
    "add_class",
    "check_prefix",
    "load_recipe",
]

log = logging.getLogger(__name__)

#: Built-in recipes: name -> TOML resource in ncst.recipes.
RECIPES = {"st-codecfake": "st_codecfake.toml"}
_SETS = ("ID", "OOD")


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


@dataclass(frozen=True, slots=True)
class Recipe:
    """A whole dataset recipe."""

    name: str
    title: str
    seed: int
    classes: Mapping[int, ClassEntry]
    sources: Mapping[str, SourceSpec]
    subsets: tuple[SubsetEntry, ...]
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def codec_for(self, entry: SubsetEntry, class_id: int) -> str:
        """Codec spec that makes `class_id` in `entry`."""
        return entry.codec or self.classes[class_id].codec

    def label_folder(self, label_file: str) -> str:
        """The folder whose files a label file lists."""
        for entry in self.subsets:
            if entry.label_file == label_file:
                return entry.folder
        raise RecipeError(f"recipe {self.name!r} has no subset with label file {label_file!r}")


#: Keys of a recipe file, of a class table and of a `[[subsets]]` table; any other key is an error.
_TOP_KEYS = ("name", "title", "seed", "extends", "classes", "corpora", "subsets")
_CLASS_KEYS = ("codec", "set", "family")
_SUBSET_KEYS = ("folder", "source", "classes", "label_file", "codec", "prefix", "per_class")
_SPLITS = ("train", "dev", "eval")
#: Largest class id (label files, models and protocols index classes by id; 999 leaves room for any recipe).
MAX_CLASS_ID = 999
#: Largest seed (numpy takes any non-negative integer; TOML integers are signed 64-bit).
MAX_SEED = 2**63 - 1
#: Largest count in a recipe (pool sizes, `per_class`): far above any corpus, far below memory trouble.
MAX_COUNT = 10**9
#: How many recipes an `extends` chain may hold (the file itself included).
MAX_EXTENDS_DEPTH = 8
#: First folder components a subset may not use: they hold the build's own files.
RESERVED_NAMES = (
    "label", "recipe.json", "build.json", "manifest.csv", "DATASET.md", "DATASET_spectrograms.png",
)  # fmt: skip
_RESERVED_PATTERNS = ("provenance*.jsonl", "failures*.csv", "build*.lock")


class _Where:
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


def _parse_classes(data: object, where: _Where) -> dict[int, ClassEntry]:
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
        if set_name not in _SETS:
            raise where.error(f"{name} set", f"{show(set_name)}; expected one of {list(_SETS)}")
        family = where.text(table.get("family", known.family if known else codec), f"{name} family", limit=100)
        classes[class_id] = ClassEntry(class_id, codec, family, set_name)
    return classes


def _parse_sources(data: object, where: _Where) -> dict[str, SourceSpec]:
    from ncst.recipes.plan import CORPUS_READERS  # plan imports this module

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
            if not isinstance(reader, str) or reader not in CORPUS_READERS:
                raise where.error(f"{key} readers", f"unknown reader {show(reader)}; known: {sorted(CORPUS_READERS)}")
        if len(set(readers)) != len(readers):
            raise where.error(f"{key} readers", f"{readers} names a reader twice")
        sizes: dict[str, dict[str, int]] = {}
        for group, size in table.items():
            if group == "readers":
                continue
            if isinstance(size, Mapping):
                where.table(size, f"{key} {group}", _SPLITS)
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


def _parse_subsets(data: object, where: _Where) -> list[SubsetEntry]:
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
        RecipeError: Not a safe file-name component (see `ncst.recipes.paths`) or too long.
    """
    prefix = check_file_name(value, where, error=RecipeError, allow_empty=True)
    if len(prefix.encode("utf-8")) + 1 > MAX_FILE_PREFIX_BYTES:
        raise RecipeError(
            f"{where}: prefix {show(prefix)} is longer than the {MAX_FILE_PREFIX_BYTES - 1} bytes that utterance "
            "ids leave for it (file names must fit 255 bytes)"
        )
    return prefix


def _validate(recipe: Recipe) -> Recipe:
    """Checks what only the whole (extended) recipe can show: references between classes, sources, subsets."""
    origin = recipe.path or recipe.name
    if not recipe.classes:
        raise RecipeError(f"{origin}: [classes] is empty; a recipe needs at least one class")
    if not recipe.subsets:
        raise RecipeError(f"{origin}: no [[subsets]]; a recipe needs at least one")
    label_folders: dict[str, str] = {}
    for i, entry in enumerate(recipe.subsets, 1):
        where = f"{origin}: subset #{i} {entry.folder!r}"
        unknown = [c for c in entry.classes if c not in recipe.classes]
        if unknown:
            raise RecipeError(f"{where}: classes {unknown} are not in [classes] ({sorted(recipe.classes)})")
        source = recipe.sources.get(entry.source_name)
        if source is None:
            raise RecipeError(f"{where}: source {entry.source!r} is not in [corpora] ({sorted(recipe.sources)})")
        grouped = all(set(v) == {"all"} for v in source.sizes.values())
        if grouped and entry.split is not None:
            raise RecipeError(f"{where}: source {source.name!r} has no splits; write source = {source.name!r}")
        if not grouped and entry.split not in _SPLITS:
            raise RecipeError(
                f"{where}: source {entry.source!r}; expected '{source.name}:<split>', split one of {list(_SPLITS)}"
            )
        if entry.codec and len(entry.classes) != 1:
            raise RecipeError(f"{where}: a codec override needs exactly one class, got {list(entry.classes)}")
        other = label_folders.setdefault(entry.label_file, entry.folder)
        if other != entry.folder:
            raise RecipeError(
                f"{where}: label file {entry.label_file!r} already lists folder {other!r}; one folder per label file"
            )
    return recipe


def load_recipe(name_or_path: PathLike) -> Recipe:
    """Loads a built-in recipe by name (`st-codecfake`) or a recipe TOML file, checked field by field.

    A file with `extends = "<recipe>"` starts from that recipe: its `[classes]` add to (or replace) the
    base classes, its `[[subsets]]` are appended, and `[corpora]` tables add sources. `extends` names a
    built-in recipe or a TOML file relative to the extending file's own folder (never outside it); a chain
    holds at most `MAX_EXTENDS_DEPTH` recipes and no cycle.

    Raises:
        RecipeError: Unknown name, unreadable TOML, an unknown key, a value of the wrong type or out of
            range, a name that would lead outside the dataset root, a cycle in `extends` (the message names
            the file, the key and the value).
    """
    return _validate(_load(str(name_or_path), None, ()))


def _load(name: str, base_dir: Path | None, chain: tuple[str, ...]) -> Recipe:
    """Loads one recipe of an `extends` chain; `base_dir` is the extending file's folder (None: top level)."""
    if name in RECIPES:
        key = origin = f"recipe {name}"
        text = resources.files("ncst.recipes").joinpath(RECIPES[name]).read_text(encoding="utf-8")
        here: Path | None = None
    else:
        if base_dir is None:
            path = Path(name).expanduser()
        else:
            path = resolve_inside(base_dir, name, f"{chain[-1]}: extends", error=RecipeError)
        if not path.is_file():
            context = f"{chain[-1]}: extends " if chain else ""
            raise RecipeError(
                f"{context}unknown recipe {show(name)}; built-in: {sorted(RECIPES)}, or the path of a .toml file"
            )
        key = str(path.resolve())
        origin = str(path)
        text = read_text(path, error=RecipeError)
        here = path.parent
    if key in chain:
        raise RecipeError(f"{origin}: extends cycle {' -> '.join((*chain, key))}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise RecipeError(f"{origin}: extends chain longer than {MAX_EXTENDS_DEPTH} recipes ({' -> '.join(chain)})")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as err:
        raise RecipeError(f"{origin}: not valid TOML ({str(err)[:200]})") from err
    where = _Where(origin)
    where.table(data, "top level", _TOP_KEYS)
    classes = _parse_classes(data.get("classes", {}), where)
    sources = _parse_sources(data.get("corpora", {}), where)
    subsets = _parse_subsets(data.get("subsets", []), where)
    seed = where.integer(data["seed"], "seed", 0, MAX_SEED) if "seed" in data else None
    own_name = where.text(data["name"], "name", limit=100) if "name" in data else None
    title = where.text(data["title"], "title") if "title" in data else None
    if "extends" in data:
        base_name = where.text(data["extends"], "extends", limit=1000)
        if base_name not in RECIPES:
            if here is None:
                raise where.error("extends", f"a built-in recipe extends built-in recipes only, not {show(base_name)}")
            check_rel_path(base_name, f"{origin}: extends", error=RecipeError)
        base = _load(base_name, here, (*chain, key))
        return Recipe(
            name=own_name or f"{base.name}+",
            title=base.title if title is None else title,
            seed=base.seed if seed is None else seed,
            classes={**base.classes, **classes},
            sources={**base.sources, **sources},
            subsets=(*base.subsets, *subsets),
            path=origin,
        )
    return Recipe(
        name=own_name or Path(name).stem,
        title=title or "",
        seed=0 if seed is None else seed,
        classes=classes,
        sources=sources,
        subsets=tuple(subsets),
        path=origin,
    )


def add_class(recipe: Recipe, codec: str, set_name: str, *, class_id: int | None = None) -> Recipe:
    """Adds `codec` as a new class (next free id unless given) with its own folder and label file.

    An `ID` class joins train, dev and eval_id (the subsets that hold the ID classes); an `OOD` class
    gets its own label file `eval_ood<id>.txt` in `eval_ood/`.

    Raises:
        RecipeError: `codec` is not a well-formed spec, `set_name` is not ID/OOD, or `class_id` is taken or
            out of range.
    """
    where = _Where(recipe.path or recipe.name)
    where.codec(codec, f"added class {show(codec)}")
    if set_name not in _SETS:
        raise RecipeError(f"set {show(set_name)} for codec {show(codec)}; expected one of {list(_SETS)}")
    new_id = class_id if class_id is not None else max(recipe.classes, default=0) + 1
    where.integer(new_id, f"added class {show(codec)} id", 0, MAX_CLASS_ID)
    if new_id in recipe.classes:
        raise RecipeError(f"class id {new_id} is taken by {recipe.classes[new_id].codec}; pick a free id")
    classes = {**recipe.classes, new_id: ClassEntry(new_id, codec, codec, set_name)}
    subsets = list(recipe.subsets)
    if set_name == "ID":
        id_classes = {c for c, e in recipe.classes.items() if e.set == "ID"}
        subsets = [
            replace(s, classes=(*s.classes, new_id)) if s.codec is None and set(s.classes) == id_classes else s
            for s in subsets
        ]
    else:
        subsets.append(SubsetEntry("eval_ood", "main:eval", (new_id,), f"eval_ood{new_id}.txt"))
    return _validate(replace(recipe, classes=classes, subsets=tuple(subsets)))
