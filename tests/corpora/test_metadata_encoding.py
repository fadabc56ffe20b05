"""Corpus metadata files in another encoding (or damaged) give an error naming file and line, not a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from ncst.corpora import fakes
from ncst.corpora.aishell3 import read_aishell3
from ncst.corpora.asvspoof2019 import read_asvspoof2019_la
from ncst.corpora.in_the_wild import read_in_the_wild
from ncst.errors import CorpusLayoutError

CASES: dict[str, tuple[Callable[[Path], Path], Callable[[Path], Iterable], str]] = {
    "aishell3-content": (fakes.write_aishell3, read_aishell3, "train/content.txt"),
    "aishell3-spk-info": (fakes.write_aishell3, read_aishell3, "spk-info.txt"),
    "asvspoof2019-protocol": (
        fakes.write_asvspoof2019_la,
        read_asvspoof2019_la,
        "ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.eval.trl.txt",
    ),
    "in-the-wild-meta": (fakes.write_in_the_wild, read_in_the_wild, "meta.csv"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_latin1_metadata_is_a_corpus_error_naming_file_and_line(tmp_path: Path, case: str) -> None:
    write, read, relative = CASES[case]
    root = write(tmp_path / "corpus")
    target = root / relative
    lines = target.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].rstrip(b"\n") + b" caf\xe9\n"  # one Latin-1 byte on the last line
    target.write_bytes(b"".join(lines))
    with pytest.raises(CorpusLayoutError, match=rf"{target.name}:{len(lines)}: not UTF-8 text \(byte 0xe9"):
        list(read(root))
