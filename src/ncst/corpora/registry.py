"""The corpora ncst reads, in one table: name -> root finder, reader, downloader and label keys.

The recipe planner (`ncst.recipes.plan`) and `ncst ingest` both look corpora up here, so a corpus is
added in one place. Readers and finders are imported when first asked for, so listing the corpora does
not import every reader module.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError

__all__ = ["CORPORA", "CorpusEntry", "corpus_entry", "corpus_names"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    """One corpus: where its functions live and which label keys its metadata can select.

    Attributes:
        name: The name recipes and `ncst ingest --corpus` use (`vctk`, `asvspoof2019`, ...).
        module: The `ncst.corpora` module holding the functions below.
        reader: `read_<corpus>(corpus_dir, ...) -> Iterator[Utterance]`; never touches the network.
        finder: `find_<corpus>_root(path) -> Path`, or None where the reader finds the root itself.
        downloader: `download_<corpus>(target_dir, *, force=False, ...) -> Path`, or None (no public URL).
        keys: Label keys the corpus's own metadata distinguishes; the first is the default
            (`bonafide` real speech; `spoof` where the corpus also ships spoofed audio).
    """

    name: str
    module: str
    reader: str
    finder: str | None
    downloader: str | None
    keys: tuple[str, ...] = ("bonafide",)

    def _function(self, attr: str) -> Callable[..., Any]:
        return getattr(importlib.import_module(self.module), attr)  # type: ignore[no-any-return]

    def read(self, corpus_dir: Path, **kwargs: Any) -> Iterator[Utterance]:
        """The reader's utterances (`kwargs` go to the reader)."""
        reader: Callable[..., Iterator[Utterance]] = self._function(self.reader)
        return reader(corpus_dir, **kwargs)

    def find_root(self, path: Path) -> Path:
        """The corpus root at or below `path` (or `path` itself for corpora without a finder)."""
        return Path(self._function(self.finder)(path)) if self.finder else Path(path)

    def download(self, target_dir: Path, **kwargs: Any) -> Path:
        """Downloads the corpus; `CorpusLayoutError` for corpora without a public download."""
        if self.downloader is None:
            raise CorpusLayoutError(f"ncst cannot download {self.name}: no public URL; place it by hand")
        return Path(self._function(self.downloader)(target_dir, **kwargs))


#: Every corpus ncst reads, by name.
CORPORA: dict[str, CorpusEntry] = {
    entry.name: entry
    for entry in (
        CorpusEntry("vctk", "ncst.corpora.vctk", "read_vctk", "find_vctk_root", "download_vctk"),
        CorpusEntry("aishell3", "ncst.corpora.aishell3", "read_aishell3", "find_aishell3_root", "download_aishell3"),
        CorpusEntry("ncssd", "ncst.corpora.ncssd", "read_ncssd", None, "download_ncssd"),
        CorpusEntry(
            "asvspoof2019",
            "ncst.corpora.asvspoof2019",
            "read_asvspoof2019_la",
            "find_asvspoof2019_root",
            "download_asvspoof2019_la",
            keys=("bonafide", "spoof"),
        ),
        CorpusEntry(
            "in_the_wild",
            "ncst.corpora.in_the_wild",
            "read_in_the_wild",
            "find_in_the_wild_root",
            None,
            keys=("bona-fide", "spoof"),
        ),
    )
}


def corpus_names() -> list[str]:
    """The registered corpus names, sorted."""
    return sorted(CORPORA)


def corpus_entry(name: str) -> CorpusEntry:
    """The entry of corpus `name`; `CorpusLayoutError` naming the known corpora otherwise."""
    try:
        return CORPORA[name]
    except KeyError:
        raise CorpusLayoutError(f"unknown corpus {name!r}; known corpora: {corpus_names()}") from None
