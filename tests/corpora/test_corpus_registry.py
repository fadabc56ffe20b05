"""The corpus table: every named function exists, lookups name the known corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.corpora.fakes import write_vctk_092
from ncst.corpora.registry import CORPORA, corpus_entry, corpus_names
from ncst.errors import CorpusLayoutError


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpus_entry_names_existing_functions(name: str) -> None:
    entry = CORPORA[name]
    for attr in (entry.reader, entry.finder, entry.downloader):
        if attr is not None:
            assert callable(entry._function(attr)), f"{entry.module}.{attr}"


def test_corpus_entry_unknown_name_lists_known_ones() -> None:
    with pytest.raises(CorpusLayoutError, match="vctk"):
        corpus_entry("timit")


def test_corpus_names_are_sorted() -> None:
    assert corpus_names() == sorted(CORPORA)


def test_corpus_entry_reads_through_its_reader(tmp_path: Path) -> None:
    write_vctk_092(tmp_path, {"p225": 2, "p226": 1})
    entry = corpus_entry("vctk")
    utterances = list(entry.read(entry.find_root(tmp_path)))
    assert len(utterances) == 3
