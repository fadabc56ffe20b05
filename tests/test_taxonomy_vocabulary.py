"""The taxonomy vocabulary (`ncst.taxonomy`) and the `taxonomy.csv` a dataset root holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.errors import TaxonomyError
from ncst.taxonomy import (
    REAL_TAXONOMY,
    ClassTaxonomy,
    Taxonomy,
    axis_values,
    read_taxonomy_csv,
    write_class_taxonomy_csv,
)


def test_taxonomy_value_outside_the_vocabulary_raises() -> None:
    with pytest.raises(TaxonomyError, match="quantizer='rvq'"):
        Taxonomy("rvq", "none", "time")


def test_taxonomy_real_on_one_axis_only_raises() -> None:
    with pytest.raises(TaxonomyError, match="all three axes or none"):
        Taxonomy("real", "none", "time")


def test_taxonomy_default_is_unknown_on_every_axis() -> None:
    assert Taxonomy().values() == ("unknown", "unknown", "unknown")


def test_axis_values_put_real_first() -> None:
    assert axis_values("decoder") == ("real", "time", "frequency")


def test_taxonomy_csv_round_trips(tmp_path: Path) -> None:
    rows = {
        0: ClassTaxonomy(0, "real@16k", REAL_TAXONOMY),
        12: ClassTaxonomy(12, "x@1", Taxonomy("scalar", "none", "frequency")),
    }
    path = write_class_taxonomy_csv(tmp_path / "taxonomy.csv", rows)
    assert {k: v.taxonomy.values() for k, v in read_taxonomy_csv(path).items()} == {
        0: ("real", "real", "real"),
        12: ("scalar", "none", "frequency"),
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("class_id,codec,quantizer,auxiliary,decoder\n1,x,rvq,none,time\n", r"taxonomy.csv:2: taxonomy quantizer"),
        ("class_id,codec,quantizer,auxiliary,decoder\n-1,x,scalar,none,time\n", r"taxonomy.csv:2: class_id '-1'"),
        ("class_id,codec,quantizer,auxiliary,decoder\n1,x,scalar,none\n", r"taxonomy.csv:2: 4 fields"),
        ("class_id,codec,quantizer,auxiliary,decoder\n1,x,scalar,none,time\n1,y,scalar,none,time\n", r":3: class 1"),
        ("id,codec\n", r"taxonomy.csv:1: header"),
        (b"class_id,codec,quantizer,auxiliary,decoder\n1,\xff,scalar,none,time\n", r"taxonomy.csv:2: not UTF-8"),
    ],
)
def test_read_taxonomy_csv_names_file_and_line(tmp_path: Path, body: str | bytes, message: str) -> None:
    path = tmp_path / "taxonomy.csv"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body)
    with pytest.raises(TaxonomyError, match=message):
        read_taxonomy_csv(path)
