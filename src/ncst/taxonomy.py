"""The codec taxonomy: three axes that say what a codec is made of, from one fixed vocabulary.

CodecFake+ (Chen et al., arXiv 2501.08238) sorts neural codecs by vector quantiser, auxiliary training
objective and decoder domain; a source-tracing model that names these parts can say something about a
codec it never saw, where a class head can only say "OOD". This module owns the vocabulary, the
`Taxonomy` record a codec card carries, and the `taxonomy.csv` a dataset root holds (class id -> codec
spec -> the three axes). It imports neither torch nor the codec registry, so the models and the benchmark
read it too; `ncst.codecs.taxonomy` joins it to the codec cards.

Values:

* quantizer: ``multi-codebook`` (RVQ, GRVQ, multi-scale or factorised VQ: several codebooks per frame),
  ``single-codebook`` (one VQ codebook), ``scalar`` (per-dimension rounding: FSQ, mu-law, ...);
* auxiliary: ``none``, ``semantic-distillation`` (a loss pulling codes toward a speech SSL model),
  ``disentanglement`` (losses that split codes into speaker/content/prosody factors);
* decoder: ``time`` (the network outputs samples), ``frequency`` (it outputs a spectrum, then an iSTFT).

Every axis also has ``real`` (the bona fide class: no codec) and ``unknown`` (a plug-in that does not
say; never a training target).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ncst.errors import TaxonomyError
from ncst.io import PathLike, atomic_write_text, read_text

__all__ = [
    "AXES",
    "REAL",
    "REAL_TAXONOMY",
    "TAXONOMY_FILE",
    "UNKNOWN",
    "UNKNOWN_TAXONOMY",
    "VOCABULARY",
    "ClassTaxonomy",
    "Taxonomy",
    "axis_values",
    "read_taxonomy_csv",
    "write_class_taxonomy_csv",
]

log = logging.getLogger(__name__)

#: The three axes, in report order.
AXES: tuple[str, ...] = ("quantizer", "auxiliary", "decoder")
#: The codec values of each axis (without `REAL` and `UNKNOWN`).
VOCABULARY: Mapping[str, tuple[str, ...]] = {
    "quantizer": ("multi-codebook", "single-codebook", "scalar"),
    "auxiliary": ("none", "semantic-distillation", "disentanglement"),
    "decoder": ("time", "frequency"),
}
#: The value of every axis for real (bona fide) speech.
REAL = "real"
#: The value a card leaves when it does not state an axis (plug-ins); never a training target.
UNKNOWN = "unknown"
#: File name of the class table a dataset root holds.
TAXONOMY_FILE = "taxonomy.csv"
_CSV_COLUMNS = ("class_id", "codec", *AXES)
_MAX_CSV_BYTES = 1 << 20  # a class table; anything larger is not one


def axis_values(axis: str) -> tuple[str, ...]:
    """The outputs of one axis head, in logit order: `REAL` first, then the codec values."""
    if axis not in VOCABULARY:
        raise TaxonomyError(f"unknown taxonomy axis {axis!r}; choose one of {list(AXES)}")
    return (REAL, *VOCABULARY[axis])


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Where one codec sits on the three axes, plus the finer text of the auxiliary objective.

    The finer text of the other two axes is the card's `quantizer` and `decoder_type` free text.

    Attributes:
        quantizer: One of `VOCABULARY["quantizer"]`, `REAL` or `UNKNOWN`.
        auxiliary: One of `VOCABULARY["auxiliary"]`, `REAL` or `UNKNOWN`.
        decoder: One of `VOCABULARY["decoder"]`, `REAL` or `UNKNOWN`.
        auxiliary_detail: Which loss, toward what (``"RVQ-1 distilled from HuBERT layer 9"``).
    """

    quantizer: str = UNKNOWN
    auxiliary: str = UNKNOWN
    decoder: str = UNKNOWN
    auxiliary_detail: str = ""

    def __post_init__(self) -> None:
        for axis in AXES:
            value = getattr(self, axis)
            allowed = (*VOCABULARY[axis], REAL, UNKNOWN)
            if value not in allowed:
                raise TaxonomyError(f"taxonomy {axis}={value!r} is not one of {list(allowed)}")
        if REAL in self.values() and set(self.values()) != {REAL}:
            raise TaxonomyError(f"taxonomy {self.values()}: 'real' is all three axes or none of them")

    def value(self, axis: str) -> str:
        """The value on `axis` (one of `AXES`)."""
        if axis not in VOCABULARY:
            raise TaxonomyError(f"unknown taxonomy axis {axis!r}; choose one of {list(AXES)}")
        return str(getattr(self, axis))

    def values(self) -> tuple[str, str, str]:
        """`(quantizer, auxiliary, decoder)`."""
        return (self.quantizer, self.auxiliary, self.decoder)

    def to_dict(self) -> dict[str, str]:
        return {
            "quantizer": self.quantizer,
            "auxiliary": self.auxiliary,
            "decoder": self.decoder,
            "auxiliary_detail": self.auxiliary_detail,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Taxonomy":
        return cls(**{k: str(d.get(k, UNKNOWN)) for k in AXES}, auxiliary_detail=str(d.get("auxiliary_detail", "")))


#: Real speech on every axis.
REAL_TAXONOMY = Taxonomy(REAL, REAL, REAL, "no codec")
#: What a card that states nothing carries.
UNKNOWN_TAXONOMY = Taxonomy()


@dataclass(frozen=True, slots=True)
class ClassTaxonomy:
    """One row of a dataset root's `taxonomy.csv`: a class, the codec spec that makes it, its axes."""

    class_id: int
    codec: str
    taxonomy: Taxonomy

    def to_dict(self) -> dict[str, Any]:
        return {"class_id": self.class_id, "codec": self.codec, **{a: self.taxonomy.value(a) for a in AXES}}


def write_class_taxonomy_csv(path: PathLike, rows: Mapping[int, ClassTaxonomy]) -> Path:
    """Writes `rows` (class id -> row) as a CSV with columns class_id, codec, quantizer, auxiliary, decoder."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for class_id in sorted(rows):
        row = rows[class_id]
        writer.writerow([row.class_id, row.codec, *row.taxonomy.values()])
    path = Path(path)
    atomic_write_text(path, buf.getvalue())
    log.debug("Wrote %d classes to %s", len(rows), path)
    return path


def read_taxonomy_csv(path: PathLike) -> dict[int, ClassTaxonomy]:
    """Reads a `taxonomy.csv`; every bad row raises `TaxonomyError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise TaxonomyError(f"{path}: no such file; rebuild the dataset or run `ncst build-recipe` again")
    if path.stat().st_size > _MAX_CSV_BYTES:
        raise TaxonomyError(f"{path}: {path.stat().st_size} bytes is too large for a class table")
    lines = read_text(path, error=TaxonomyError).splitlines()
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != _CSV_COLUMNS:
        raise TaxonomyError(f"{path}:1: header must be {','.join(_CSV_COLUMNS)}, got {header}")
    rows: dict[int, ClassTaxonomy] = {}
    for line_no, fields in enumerate(reader, start=2):
        if not fields:
            continue
        if len(fields) != len(_CSV_COLUMNS):
            raise TaxonomyError(f"{path}:{line_no}: {len(fields)} fields, expected {len(_CSV_COLUMNS)}")
        text_id, codec, *values = (f.strip() for f in fields)
        if not text_id.isdigit() or len(text_id) > 6:
            raise TaxonomyError(f"{path}:{line_no}: class_id {text_id!r} is not a class id (0, 1, ...)")
        class_id = int(text_id)
        if class_id in rows:
            raise TaxonomyError(f"{path}:{line_no}: class {class_id} appears twice")
        try:
            taxonomy = Taxonomy(*values)
        except TaxonomyError as err:
            raise TaxonomyError(f"{path}:{line_no}: {err}") from err
        rows[class_id] = ClassTaxonomy(class_id, codec, taxonomy)
    return rows
