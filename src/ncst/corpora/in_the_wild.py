"""In-the-Wild reader (`release_in_the_wild.zip`, Mueller et al. 2022; HF mirror `mueller91/In-The-Wild`).

ST-Codecfake's unseen-real set `ID_unseen_real/ITW` is the 19,963 `bona-fide` clips; its 11,816 `spoof`
clips are half of the open-set "voc" condition (`OOD_voc/ITW_spoof`) (`docs/reference_system.md` §5.5). Layout::

    <root>/meta.csv      header `file,speaker,label`; rows `0.wav,Alec Guinness,spoof`
    <root>/0.wav ... 31778.wav

`meta.csv` is parsed as CSV (speaker names may contain commas inside quotes). Reading never touches the
network.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.base import Utterance, find_corpus_root
from ncst.errors import CorpusLayoutError
from ncst.io import read_text

__all__ = ["KEYS", "find_in_the_wild_root", "read_in_the_wild"]

log = logging.getLogger(__name__)

#: The label keys of `meta.csv` (`ncst.corpora.registry` lists the same for `--keys`).
KEYS = ("bona-fide", "spoof")
_COLUMNS = ("file", "speaker", "label")


def find_in_the_wild_root(path: PathLike) -> Path:
    """The folder holding `meta.csv`: `path` or up to two levels below it.

    Raises:
        CorpusLayoutError: No `meta.csv` was found.
    """
    return find_corpus_root(
        path,
        "In-the-Wild",
        lambda folder: (folder / "meta.csv").is_file(),
        "no meta.csv in it or up to two levels below; expected the unpacked release_in_the_wild.zip "
        "(meta.csv, 0.wav ... 31778.wav)",
    )


def read_in_the_wild(corpus_dir: PathLike, *, keys: tuple[str, ...] = ("bona-fide",)) -> Iterator[Utterance]:
    """Yields the clips whose `meta.csv` label is in `keys`, in `meta.csv` order.

    Args:
        corpus_dir: The folder holding `meta.csv`, or a folder up to two levels above it.
        keys: `bona-fide` and/or `spoof` (the unseen-real set: bona-fide; the voc set: spoof). The
            keyword is `keys`, as for the ASVspoof 2019 reader, so `ncst ingest --keys` reaches both.

    Yields:
        Utterances with ids `<stem>` (`0` .. `31778`, the official file names),
        the speaker name, corpus `in_the_wild`, language `en`, and `extra` = `label`, `file`.

    Raises:
        CorpusLayoutError: `meta.csv` lacks a column, a row has an unknown label or names a missing file
            (the message names the line).
    """
    bad = [k for k in keys if k not in KEYS]
    if bad:
        raise CorpusLayoutError(f"unknown In-the-Wild keys {bad}; choose from {list(KEYS)}")
    root = find_in_the_wild_root(corpus_dir)
    meta = root / "meta.csv"
    count = 0
    with io.StringIO(read_text(meta, error=CorpusLayoutError), newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusLayoutError(f"{meta}: line 1: missing column(s) {missing}; found {reader.fieldnames}")
        for row in reader:
            line = reader.line_num
            label = (row["label"] or "").strip()
            if label not in KEYS:
                raise CorpusLayoutError(f"{meta}:{line}: label {label!r}; expected one of {list(KEYS)}")
            if label not in keys:
                continue
            name = (row["file"] or "").strip()
            path = root / name
            if not name or not path.is_file():
                raise CorpusLayoutError(f"{meta}:{line}: lists {name!r}, but {path} does not exist")
            count += 1
            yield Utterance(
                utt_id=Path(name).stem,
                path=path,
                speaker=(row["speaker"] or "").strip() or None,
                corpus="in_the_wild",
                language="en",
                extra={"label": label, "file": name},
            )
    log.info("In-the-Wild %s: %d clips", list(keys), count)
