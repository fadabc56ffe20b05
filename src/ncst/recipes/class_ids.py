"""Stable class ids: a class id keeps its codec for the life of a dataset root.

`--add-codec SPEC=OOD` takes the next free id and `--add-codec SPEC=12:OOD` names it. Either way the id
is recorded in the root's `recipe.json` ("classes": {id: {codec, family, set}}), and every later build
into that root must agree with it: the same spec gets the same id whatever the order of the
`--add-codec` options, an id never passes to another codec, a codec never moves to another id, and an
added class the root records is never dropped silently (its label file and audio would be left behind
under a number that no longer means it). A disagreement is refused before anything is written, with
one line naming `recipe.json` and the way out (another `--out`).

Specs compare in their canonical form (`mycodec` and `mycodec:v1` are `mycodec@v1` when v1 is the
default variant), so spelling a spec another way is not a new codec.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ncst.codecs import get_card
from ncst.errors import CorpusLayoutError, UnknownCodecError
from ncst.io import read_json
from ncst.layout import RECIPE_FILE
from ncst.paths import show
from ncst.recipes.recipe import MAX_CLASS_ID, Recipe, RecipeError, add_class

__all__ = ["AddedCodec", "RecordedClass", "add_codecs_stably", "canonical_spec", "read_recorded_classes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AddedCodec:
    """One `--add-codec`: a registered codec spec, its set (`ID`/`OOD`) and the id asked for (None: any)."""

    spec: str
    set_name: str = "OOD"
    class_id: int | None = None

    def describe(self) -> str:
        """The option as a user writes it (`mycodec=12:OOD`)."""
        wanted = "" if self.class_id is None else f"{self.class_id}:"
        return f"--add-codec {self.spec}={wanted}{self.set_name}"


@dataclass(frozen=True, slots=True)
class RecordedClass:
    """A class as a dataset root's `recipe.json` records it."""

    class_id: int
    codec: str
    set_name: str


def canonical_spec(spec: str) -> str:
    """`spec` as its card spells it (`name@variant`), or `spec` itself when no registered codec has it."""
    try:
        return get_card(spec).spec
    except (UnknownCodecError, ImportError):
        return spec


def read_recorded_classes(out_dir: Path) -> tuple[Path, dict[int, RecordedClass]]:
    """The classes `out_dir/recipe.json` records (empty when there is no such file yet).

    A `recipe.json` that is not a JSON object records nothing readable; the build warns and rewrites it,
    as it always did.

    Raises:
        RecipeError: Its "classes" are malformed (a crafted or damaged record of ids is not built over).
    """
    path = Path(out_dir) / RECIPE_FILE
    if not path.is_file():
        return path, {}
    try:
        meta = read_json(path, error=CorpusLayoutError)
    except CorpusLayoutError as err:
        log.warning("%s; its class ids cannot be read", err)
        return path, {}
    if not isinstance(meta, dict):
        return path, {}
    classes = meta.get("classes", {})
    if not isinstance(classes, dict):
        raise RecipeError(f"{path}: 'classes' must map class ids to classes; fix it or use another --out")
    recorded: dict[int, RecordedClass] = {}
    for key, entry in classes.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) <= 6 and isinstance(entry, Mapping)):
            raise RecipeError(f"{path}: class {show(key)} is not an id with {{codec, set}}; use another --out")
        codec, set_name = entry.get("codec"), entry.get("set")
        if not isinstance(codec, str) or not isinstance(set_name, str):
            raise RecipeError(f"{path}: class {key} has no codec or set; use another --out")
        recorded[int(key)] = RecordedClass(int(key), codec, set_name)
    return path, recorded


def add_codecs_stably(
    recipe: Recipe, added: Sequence[AddedCodec], recorded: Mapping[int, RecordedClass], meta_path: Path | None = None
) -> Recipe:
    """Adds `added` to `recipe` with the ids `recorded` gives them, then checks every class against `recorded`.

    Order: codecs with an explicit id first, then codecs the root already records (their recorded id),
    then new codecs in sorted spec order (next free id above every id the recipe or the root holds), so
    the same options in any order give the same ids.

    Raises:
        RecipeError: A spec given twice, an id given to two codecs, an id the recipe or the root holds for
            another codec, a codec the root records under another id or set, or a class the root records
            that this build does not have. One line, naming `recipe.json` and how to start a new root.
    """
    where = str(meta_path) if meta_path is not None else RECIPE_FILE
    fix = "start a new dataset root with another --out"
    by_spec = {canonical_spec(r.codec): r for r in recorded.values()}
    seen: dict[str, AddedCodec] = {}
    for item in added:
        spec = canonical_spec(item.spec)
        if spec in seen:
            raise RecipeError(f"{item.describe()}: {spec} is already added by {seen[spec].describe()}")
        seen[spec] = item
    chosen: dict[str, int] = {}
    for spec, item in seen.items():
        old = by_spec.get(spec)
        if item.class_id is not None:
            if old is not None and old.class_id != item.class_id:
                raise RecipeError(
                    f"{item.describe()}: {where} records {spec} as class {old.class_id}; a codec keeps its id "
                    f"in a dataset root: write {spec}={old.class_id}:{old.set_name}, or {fix}"
                )
            chosen[spec] = item.class_id
        elif old is not None and old.class_id not in recipe.classes:
            chosen[spec] = old.class_id
    taken = set(recipe.classes) | set(recorded)
    for spec, class_id in chosen.items():
        other = next((s for s, c in chosen.items() if c == class_id and s != spec), None)
        if other is not None:
            raise RecipeError(f"{seen[spec].describe()}: class {class_id} is also asked for {other}; one id per codec")
    next_id = max(taken | set(chosen.values()), default=0) + 1
    for spec in sorted(s for s in seen if s not in chosen):
        if next_id > MAX_CLASS_ID:
            raise RecipeError(f"{seen[spec].describe()}: no free class id left (ids go up to {MAX_CLASS_ID})")
        chosen[spec] = next_id
        next_id += 1
    for spec, class_id in sorted(chosen.items(), key=lambda kv: kv[1]):
        item = seen[spec]
        old = recorded.get(class_id)
        if old is not None and canonical_spec(old.codec) != spec:
            raise RecipeError(
                f"{item.describe()}: {where} records class {class_id} as {old.codec}; a class id keeps its codec "
                f"in a dataset root: keep --add-codec {old.codec}={class_id}:{old.set_name} and give {spec} another "
                f"id, or {fix}"
            )
        if class_id in recipe.classes:
            raise RecipeError(
                f"{item.describe()}: class {class_id} is {recipe.classes[class_id].codec} in recipe "
                f"{recipe.name!r}; give {spec} a free id (or none)"
            )
        recipe = add_class(recipe, spec, item.set_name, class_id=class_id)
    check_recorded_classes(recipe, recorded, where)
    return recipe


def check_recorded_classes(recipe: Recipe, recorded: Mapping[int, RecordedClass], where: str = RECIPE_FILE) -> None:
    """Refuses a recipe whose classes disagree with the ones the root records (read only).

    Raises:
        RecipeError: An id with another codec or set, or a recorded class the recipe does not have.
    """
    fix = "start a new dataset root with another --out"
    for class_id, old in sorted(recorded.items()):
        entry = recipe.classes.get(class_id)
        if entry is None:
            raise RecipeError(
                f"{where} records class {class_id} = {old.codec} ({old.set_name}), which this build does not "
                f"have; pass --add-codec {old.codec}={class_id}:{old.set_name} (or the same --recipe) again, or {fix}"
            )
        if canonical_spec(entry.codec) != canonical_spec(old.codec):
            raise RecipeError(
                f"{where} records class {class_id} as {old.codec}, this build makes it {entry.codec}; "
                f"a class id keeps its codec in a dataset root: {fix}"
            )
        if entry.set != old.set_name:
            raise RecipeError(
                f"{where} records class {class_id} ({old.codec}) as {old.set_name}, this build asks {entry.set}; "
                f"a class keeps its set in a dataset root: write {old.codec}={class_id}:{old.set_name}, or {fix}"
            )
