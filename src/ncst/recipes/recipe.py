"""Recipes as data: which subsets a dataset has, which corpus split and codec feed each, where files go.

A recipe is a TOML file (the built-in one is `st_codecfake.toml` next to this module) loaded into frozen
dataclasses. A recipe file may be crafted, so it is checked field by field before use: unknown keys, wrong
types, numbers out of range and names that would lead outside the dataset root (`ncst.paths`) are
`RecipeError`s naming the file, the key and the value.

Code never special-cases a subset: config variants (C3-x, C4-x), source variants (NCSSD-mimi, ...) and new
classes are entries. A user recipe may start with `extends = "st-codecfake"` (or a TOML file next to it) and
add `[classes]` and `[[subsets]]` of its own, which is how a new codec joins without editing ncst
(`docs/adding_a_codec.md`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ncst.io import PathLike, read_text
from ncst.paths import check_rel_path, resolve_inside, show
from ncst.recipes.schema import (
    MAX_CLASS_ID,
    MAX_SEED,
    PAIRINGS,
    SETS,
    SPLITS,
    TOP_KEYS,
    ClassEntry,
    Fields,
    RecipeError,
    SourceSpec,
    SubsetEntry,
    check_prefix,
    parse_classes,
    parse_sources,
    parse_subsets,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ClassEntry",
    "MAX_CLASS_ID",
    "MAX_EXTENDS_DEPTH",
    "MAX_SEED",
    "PAIRINGS",
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

#: Built-in recipes: name -> TOML resource in ncst.recipes. `st-codecfake-plus` extends `st-codecfake` with
#: four single-axis OOD classes (docs/st_codecfake_plus.md); any recipe may name either in `extends`.
RECIPES = {"st-codecfake": "st_codecfake.toml", "st-codecfake-plus": "st_codecfake_plus.toml"}
#: How many recipes an `extends` chain may hold (the file itself included).
MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Recipe:
    """A whole dataset recipe.

    `pairing` says how the classes of a drawn subset (train, dev) share their source utterances
    (`ncst.recipes.schema.PAIRINGS`): `paired` (default) gives every class the same draw as class 0.
    """

    name: str
    title: str
    seed: int
    classes: Mapping[int, ClassEntry]
    sources: Mapping[str, SourceSpec]
    subsets: tuple[SubsetEntry, ...]
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    pairing: str = "paired"

    def codec_for(self, entry: SubsetEntry, class_id: int) -> str:
        """Codec spec that makes `class_id` in `entry`."""
        return entry.codec or self.classes[class_id].codec

    def label_folder(self, label_file: str) -> str:
        """The folder whose files a label file lists."""
        for entry in self.subsets:
            if entry.label_file == label_file:
                return entry.folder
        raise RecipeError(f"recipe {self.name!r} has no subset with label file {label_file!r}")


def _validate(recipe: Recipe) -> Recipe:
    """Checks what only the whole (extended) recipe can show: references between classes, sources, subsets."""
    origin = recipe.path or recipe.name
    if recipe.pairing not in PAIRINGS:  # a Recipe may be built in Python without the loader's checks
        raise RecipeError(f"{origin}: pairing {show(recipe.pairing)}; expected one of {list(PAIRINGS)}")
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
        if not grouped and entry.split not in SPLITS:
            raise RecipeError(
                f"{where}: source {entry.source!r}; expected '{source.name}:<split>', split one of {list(SPLITS)}"
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
    """Loads a built-in recipe by name (`RECIPES`: `st-codecfake`, `st-codecfake-plus`) or a recipe TOML file.

    Every file of the chain is checked field by field. A file with `extends = "<recipe>"` starts from that
    recipe: its `[classes]` add to (or replace) the base classes, its `[[subsets]]` are appended, and
    `[corpora]` tables add sources. `extends` names a built-in recipe or a TOML file relative to the extending
    file's own folder (never outside it); a chain holds at most `MAX_EXTENDS_DEPTH` recipes and no cycle.

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
    where = Fields(origin)
    where.table(data, "top level", TOP_KEYS)
    classes = parse_classes(data.get("classes", {}), where)
    sources = parse_sources(data.get("corpora", {}), where)
    subsets = parse_subsets(data.get("subsets", []), where)
    seed = where.integer(data["seed"], "seed", 0, MAX_SEED) if "seed" in data else None
    pairing = where.choice(data["pairing"], "pairing", PAIRINGS) if "pairing" in data else None
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
            pairing=base.pairing if pairing is None else pairing,
        )
    return Recipe(
        name=own_name or Path(name).stem,
        title=title or "",
        seed=0 if seed is None else seed,
        classes=classes,
        sources=sources,
        subsets=tuple(subsets),
        path=origin,
        pairing="paired" if pairing is None else pairing,
    )


def add_class(recipe: Recipe, codec: str, set_name: str, *, class_id: int | None = None) -> Recipe:
    """Adds `codec` as a new class (next free id unless given) with its own folder and label file.

    An `ID` class joins train, dev and eval_id (the subsets that hold the ID classes); an `OOD` class
    gets its own label file `eval_ood<id>.txt` in `eval_ood/`.

    Raises:
        RecipeError: `codec` is not a well-formed spec, `set_name` is not ID/OOD, or `class_id` is taken or
            out of range.
    """
    where = Fields(recipe.path or recipe.name)
    where.codec(codec, f"added class {show(codec)}")
    if set_name not in SETS:
        raise RecipeError(f"set {show(set_name)} for codec {show(codec)}; expected one of {list(SETS)}")
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
