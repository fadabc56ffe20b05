"""Codec cards joined to the taxonomy: the axes of a class, a dataset root's `taxonomy.csv`, finer text.

The vocabulary lives in `ncst.taxonomy` (torch-free, read by models and the benchmark); each codec card
states its own `CodecCard.taxonomy` next to its `quantizer` and `decoder_type` text, in the adapter that
defines the card. This module only reads the cards: it resolves a class's codec spec to its card and
writes or reads the class table a dataset root carries, so training and scoring know the axis values of
every class without importing a codec.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from ncst.classes import CLASSES
from ncst.codecs.card import CodecCard
from ncst.errors import NcstError, TaxonomyError, UnknownCodecError
from ncst.io import PathLike, read_json
from ncst.taxonomy import (
    AXES,
    TAXONOMY_FILE,
    UNKNOWN_TAXONOMY,
    ClassTaxonomy,
    read_taxonomy_csv,
    write_class_taxonomy_csv,
)

__all__ = [
    "builtin_class_specs",
    "class_taxonomy",
    "class_taxonomy_for_root",
    "class_taxonomy_json",
    "describe_axes",
    "write_taxonomy_csv",
]

log = logging.getLogger(__name__)

_RECIPE_FILE = "recipe.json"  # ncst.layout.RECIPE_FILE; codecs sit below layout


def describe_axes(card: CodecCard) -> dict[str, str]:
    """`{axis: "value: finer text"}`, e.g. `{"quantizer": "multi-codebook: RVQ (EMA k-means codebooks)"}`."""
    detail = {
        "quantizer": card.quantizer,
        "auxiliary": card.taxonomy.auxiliary_detail,
        "decoder": card.decoder_type,
    }
    return {a: f"{card.taxonomy.value(a)}: {detail[a]}" if detail[a] else card.taxonomy.value(a) for a in AXES}


def builtin_class_specs() -> dict[int, str]:
    """Class id -> codec registry key of the built-in class table (classes 0-11, default variants)."""
    return {c.class_id: c.key for c in CLASSES}


def class_taxonomy(specs: Mapping[int, str]) -> dict[int, ClassTaxonomy]:
    """The taxonomy of each class from its codec spec's card; a codec not registered here is unknown."""
    from ncst.codecs.registry import get_card

    rows: dict[int, ClassTaxonomy] = {}
    for class_id, spec in specs.items():
        try:
            taxonomy = get_card(spec).taxonomy
        except UnknownCodecError as err:
            log.warning("class %d: %s; its taxonomy is 'unknown'", class_id, err)
            taxonomy = UNKNOWN_TAXONOMY
        rows[int(class_id)] = ClassTaxonomy(int(class_id), spec, taxonomy)
    return rows


def write_taxonomy_csv(root: PathLike, specs: Mapping[int, str]) -> Path:
    """Writes `<root>/taxonomy.csv`: class id, codec spec and the three axes of every class in `specs`."""
    return write_class_taxonomy_csv(Path(root) / TAXONOMY_FILE, class_taxonomy(specs))


def _recipe_specs(path: Path) -> dict[int, str]:
    meta = read_json(path, error=TaxonomyError)
    classes = meta.get("classes") if isinstance(meta, dict) else None
    if not isinstance(classes, dict) or not classes:
        raise TaxonomyError(f"{path}: no 'classes' mapping of class ids to codec specs")
    specs: dict[int, str] = {}
    for key, entry in classes.items():
        codec = entry.get("codec") if isinstance(entry, dict) else None
        if not (isinstance(key, str) and key.isdigit() and len(key) <= 6 and isinstance(codec, str)):
            raise TaxonomyError(f"{path}: classes[{key!r}] must be a class id with a 'codec' spec")
        specs[int(key)] = codec
    return specs


def class_taxonomy_for_root(root: PathLike | None) -> dict[int, ClassTaxonomy]:
    """The class table of a dataset root: its `taxonomy.csv`, else its `recipe.json` classes, else built-in.

    A root built before taxonomy.csv existed, or an official download, still gets the built-in class
    table (classes 0-11) joined to the registered cards.
    """
    if root is not None:
        csv_path = Path(root) / TAXONOMY_FILE
        if csv_path.is_file():
            return read_taxonomy_csv(csv_path)
        recipe_path = Path(root) / _RECIPE_FILE
        if recipe_path.is_file():
            try:
                specs = _recipe_specs(recipe_path)
            except NcstError as err:
                log.warning("%s; using the built-in class table", err)
            else:
                log.info("%s has no %s: axes from its recipe.json classes", root, TAXONOMY_FILE)
                return class_taxonomy(specs)
    log.warning("no %s%s: using the built-in class table (classes 0-11)", TAXONOMY_FILE, f" in {root}" if root else "")
    return class_taxonomy(builtin_class_specs())


def class_taxonomy_json(root: PathLike | None) -> dict[str, list[str]]:
    """`class_taxonomy_for_root` as `{class id: [quantizer, auxiliary, decoder]}`, for `TrainConfig.class_taxonomy`."""
    return {str(k): list(r.taxonomy.values()) for k, r in sorted(class_taxonomy_for_root(root).items())}
