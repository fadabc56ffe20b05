"""Recipes as data: which subsets a dataset has, which corpus split and codec feed each, where files go.

A recipe is a TOML file (the built-in one is `st_codecfake.toml` next to this module) loaded into frozen
dataclasses. Code never special-cases a subset: config variants (C3-x, C4-x), source variants (NCSSD-mimi,
...) and new classes are entries. A user recipe may start with `extends = "st-codecfake"` and add
`[classes]` and `[[subsets]]` of its own, which is how a new codec joins without editing ncst
(`docs/adding_a_codec.md`).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ncst.audio import PathLike
from ncst.classes import CLASSES
from ncst.errors import NcstError
from ncst.io import read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ClassEntry", "SourceSpec", "SubsetEntry", "Recipe", "RecipeError", "RECIPES", "load_recipe", "add_class"]

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


def _parse(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    def fail(msg: str) -> RecipeError:
        return RecipeError(f"{origin}: {msg}")

    classes: dict[int, ClassEntry] = {}
    for key, value in (data.get("classes") or {}).items():
        try:
            class_id = int(key)
        except ValueError as err:
            raise fail(f"[classes] key {key!r} is not an integer class id") from err
        table = value if isinstance(value, Mapping) else {"codec": value}
        if not isinstance(table.get("codec"), str):
            raise fail(f'[classes] {key} must be a codec spec ("encodec@6kbps") or a table with codec = "spec"')
        known = CLASSES[class_id] if 0 <= class_id < len(CLASSES) else None
        set_name = str(table.get("set", known.split if known else ""))
        if set_name not in _SETS:
            raise fail(f'[classes] {key}: set {set_name!r}; a class outside the class table needs set = "ID" or "OOD"')
        family = str(table.get("family", known.family if known else table["codec"]))
        classes[class_id] = ClassEntry(class_id, str(table["codec"]), family, set_name)
    sources: dict[str, SourceSpec] = {}
    for name, value in (data.get("corpora") or {}).items():
        if not isinstance(value, Mapping) or not value.get("readers"):
            raise fail(f'[corpora.{name}] needs readers = ["vctk", ...]')
        sizes = {
            k: (dict(v) if isinstance(v, Mapping) else {"all": int(v)}) for k, v in value.items() if k != "readers"
        }
        sources[name] = SourceSpec(name, tuple(value["readers"]), sizes)
    subsets: list[SubsetEntry] = []
    for i, value in enumerate(data.get("subsets") or []):
        missing = [k for k in ("folder", "source", "classes", "label_file") if k not in value]
        if missing:
            raise fail(f"[[subsets]] #{i + 1} lacks {missing}; has {sorted(value)}")
        subsets.append(
            SubsetEntry(
                folder=str(value["folder"]).strip("/"),
                source=str(value["source"]),
                classes=tuple(int(c) for c in value["classes"]),
                label_file=str(value["label_file"]),
                codec=value.get("codec"),
                prefix=value.get("prefix"),
                per_class=int(value["per_class"]) if value.get("per_class") is not None else None,
            )
        )
    return {"classes": classes, "sources": sources, "subsets": subsets}


def _validate(recipe: Recipe) -> Recipe:
    for entry in recipe.subsets:
        where = f"{recipe.path or recipe.name}: subset {entry.folder!r}"
        unknown = [c for c in entry.classes if c not in recipe.classes]
        if unknown:
            raise RecipeError(f"{where}: classes {unknown} are not in [classes] ({sorted(recipe.classes)})")
        if entry.source_name not in recipe.sources:
            raise RecipeError(f"{where}: source {entry.source!r} is not in [corpora] ({sorted(recipe.sources)})")
        if entry.codec and len(entry.classes) != 1:
            raise RecipeError(f"{where}: a codec override needs exactly one class, got {list(entry.classes)}")
        if ".." in Path(entry.folder).parts or Path(entry.folder).is_absolute():
            raise RecipeError(f"{where}: folder must be relative and stay inside the dataset root")
    return recipe


def load_recipe(name_or_path: PathLike) -> Recipe:
    """Loads a built-in recipe by name (`st-codecfake`) or a recipe TOML file.

    A file with `extends = "<recipe>"` starts from that recipe: its `[classes]` add to (or replace) the
    base classes, its `[[subsets]]` are appended, and `[corpora]` tables add sources.

    Raises:
        RecipeError: Unknown name, unreadable TOML, or an entry that does not fit the schema (the message
            names the file and entry).
    """
    text_name = str(name_or_path)
    if text_name in RECIPES:
        origin = f"recipe {text_name}"
        text = resources.files("ncst.recipes").joinpath(RECIPES[text_name]).read_text(encoding="utf-8")
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise RecipeError(f"unknown recipe {text_name!r}; built-in: {sorted(RECIPES)}, or the path of a .toml file")
        origin = str(path)
        text = read_text(path, error=RecipeError)
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as err:
        raise RecipeError(f"{origin}: not valid TOML ({str(err)[:200]})") from err
    parsed = _parse(data, origin)
    base_name = data.get("extends")
    if base_name:
        base = load_recipe(base_name)
        recipe = Recipe(
            name=str(data.get("name", f"{base.name}+")),
            title=str(data.get("title", base.title)),
            seed=int(data.get("seed", base.seed)),
            classes={**base.classes, **parsed["classes"]},
            sources={**base.sources, **parsed["sources"]},
            subsets=(*base.subsets, *parsed["subsets"]),
            path=origin,
        )
    else:
        recipe = Recipe(
            name=str(data.get("name", Path(text_name).stem)),
            title=str(data.get("title", "")),
            seed=int(data.get("seed", 0)),
            classes=parsed["classes"],
            sources=parsed["sources"],
            subsets=tuple(parsed["subsets"]),
            path=origin,
        )
    return _validate(recipe)


def add_class(recipe: Recipe, codec: str, set_name: str, *, class_id: int | None = None) -> Recipe:
    """Adds `codec` as a new class (next free id unless given) with its own folder and label file.

    An `ID` class joins train, dev and eval_id (the subsets that hold the ID classes); an `OOD` class
    gets its own label file `eval_ood<id>.txt` in `eval_ood/`.

    Raises:
        RecipeError: `set_name` is not ID/OOD, or `class_id` is taken.
    """
    if set_name not in _SETS:
        raise RecipeError(f"set {set_name!r} for codec {codec!r}; expected one of {list(_SETS)}")
    new_id = class_id if class_id is not None else max(recipe.classes) + 1
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
