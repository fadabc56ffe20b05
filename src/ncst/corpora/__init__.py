"""Source corpora: the `Utterance` record, manifest CSVs, the bundled demo corpus and `load_corpus`.

Readers for real corpora follow the pattern `download_<corpus>(target_dir, *, force=False) -> Path` and
`read_<corpus>(corpus_dir) -> Iterator[Utterance]` in `ncst.corpora.<corpus>` (reading never touches the
network); `load_corpus` is the single entry point that the dataset builder and the CLI call.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ncst.corpora.base import Utterance, validate_utt_id
from ncst.corpora.demo import DEMO_CORPUS, demo_data_dir, demo_manifest_path, read_demo
from ncst.corpora.manifest import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_manifest, write_manifest
from ncst.errors import CorpusLayoutError
from ncst.io import PathLike

__all__ = [
    "DEMO_CORPUS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Utterance",
    "demo_data_dir",
    "demo_manifest_path",
    "load_corpus",
    "read_demo",
    "read_manifest",
    "validate_utt_id",
    "write_manifest",
]

log = logging.getLogger(__name__)


def load_corpus(corpus: PathLike) -> list[Utterance]:
    """Loads the utterances of a corpus.

    Args:
        corpus: `"demo"` for the bundled demo corpus, or the path of a manifest `.csv`
            (columns `utt_id,path[,speaker,corpus,language,text,...]`).

    Returns:
        The utterances in manifest order.

    Raises:
        CorpusLayoutError: `corpus` is neither `"demo"` nor an existing `.csv` file, or the manifest is
            malformed.
    """
    if isinstance(corpus, str) and corpus == DEMO_CORPUS:
        return read_demo()
    path = Path(corpus).expanduser()
    if path.suffix.lower() == ".csv":
        return read_manifest(path)
    hint = " (a folder: pass its manifest .csv instead)" if path.is_dir() else ""
    raise CorpusLayoutError(
        f"unknown corpus {str(corpus)!r}{hint}; accepted: {DEMO_CORPUS!r} (the bundled demo corpus) or the "
        f"path of a manifest .csv with columns {list(REQUIRED_COLUMNS)} (optional {list(OPTIONAL_COLUMNS)})"
    )
