"""ASVspoof 2019 LA reader (Edinburgh DataShare 10283/3336, `LA.zip`), ODC-BY 1.0.

ST-Codecfake's unseen-real set `ID_unseen_real/19LA` is the 7,355 bona fide utterances of the LA
evaluation part (`docs/reference_system.md` §5.4); its 63,882 spoofed utterances are half of the open-set
"voc" condition (`OOD_voc/19LA_spoof`). Layout::

    <root>/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    <root>/ASVspoof2019_LA_{train,dev,eval}/flac/LA_{T,D,E}_NNNNNNN.flac

A CM protocol line has five space-separated fields, `SPEAKER UTT - SYSTEM KEY`, e.g.
`LA_0039 LA_E_2834763 - A11 spoof` (KEY is `bonafide` or `spoof`, SYSTEM is `-` for bona fide).
Reading never touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.base import Utterance, find_corpus_root
from ncst.corpora.download import FileProgress, Limits, download_and_extract
from ncst.errors import CorpusLayoutError
from ncst.io import read_text

__all__ = [
    "KEYS",
    "LA_URL",
    "PROTOCOL_FILES",
    "find_asvspoof2019_root",
    "read_asvspoof2019_la",
    "download_asvspoof2019_la",
]

log = logging.getLogger(__name__)

LA_URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3336/LA.zip"
PROTOCOL_DIR = "ASVspoof2019_LA_cm_protocols"
PROTOCOL_FILES = {
    "train": "ASVspoof2019.LA.cm.train.trn.txt",
    "dev": "ASVspoof2019.LA.cm.dev.trl.txt",
    "eval": "ASVspoof2019.LA.cm.eval.trl.txt",
}
#: The protocol KEY column (`ncst.corpora.registry` lists the same for `--keys`).
KEYS = ("bonafide", "spoof")


def find_asvspoof2019_root(path: PathLike) -> Path:
    """The LA folder (holding `ASVspoof2019_LA_cm_protocols/`): `path` or up to two levels below it.

    Raises:
        CorpusLayoutError: No protocol folder was found.
    """
    return find_corpus_root(
        path,
        "ASVspoof 2019",
        lambda folder: (folder / PROTOCOL_DIR).is_dir(),
        f"no {PROTOCOL_DIR}/ in it or up to two levels below; expected the unpacked LA.zip "
        "(LA/ASVspoof2019_LA_cm_protocols/, LA/ASVspoof2019_LA_eval/flac/, ...)",
    )


def read_asvspoof2019_la(
    corpus_dir: PathLike, *, part: str = "eval", keys: tuple[str, ...] = ("bonafide",)
) -> Iterator[Utterance]:
    """Yields the utterances of one LA part whose protocol KEY is in `keys`, in protocol order.

    Args:
        corpus_dir: The LA folder or a folder up to two levels above it.
        part: `train`, `dev` or `eval` (ST-Codecfake: eval).
        keys: `bonafide` and/or `spoof` (the unseen-real set: bonafide; the voc set: spoof).

    Yields:
        Utterances with ids `LA_E_NNNNNNN`, speaker `LA_NNNN`, corpus `asvspoof2019_la`, language `en`, and
        `extra` = `key` (bonafide|spoof), `system` (`-`, A01..A19), `part`.

    Raises:
        CorpusLayoutError: The protocol file is missing, a line does not have 5 fields or has an unknown
            KEY (the message names the file and line), or a listed audio file is missing.
    """
    if part not in PROTOCOL_FILES:
        raise CorpusLayoutError(f"unknown ASVspoof 2019 LA part {part!r}; choose from {list(PROTOCOL_FILES)}")
    bad = [k for k in keys if k not in KEYS]
    if bad:
        raise CorpusLayoutError(f"unknown protocol keys {bad}; choose from {list(KEYS)}")
    root = find_asvspoof2019_root(corpus_dir)
    protocol = root / PROTOCOL_DIR / PROTOCOL_FILES[part]
    if not protocol.is_file():
        raise CorpusLayoutError(f"CM protocol missing: {protocol}")
    audio_dir = root / f"ASVspoof2019_LA_{part}" / "flac"
    count = 0
    for lineno, line in enumerate(read_text(protocol, error=CorpusLayoutError).splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 5 or fields[4] not in KEYS:
            raise CorpusLayoutError(
                f"{protocol}:{lineno}: expected 'SPEAKER UTT - SYSTEM bonafide|spoof', got {line.strip()!r}"
            )
        speaker, utt_id, _, system, key = fields
        if key not in keys:
            continue
        path = audio_dir / f"{utt_id}.flac"
        if not path.is_file():
            raise CorpusLayoutError(f"{protocol}:{lineno}: lists {utt_id}, but {path} does not exist")
        count += 1
        yield Utterance(
            utt_id=utt_id,
            path=path,
            speaker=speaker,
            corpus="asvspoof2019_la",
            language="en",
            extra={"key": key, "system": system, "part": part},
        )
    log.info("ASVspoof 2019 LA %s %s: %d utterances", part, list(keys), count)


def download_asvspoof2019_la(
    target_dir: PathLike,
    *,
    force: bool = False,
    url: str = LA_URL,
    progress: FileProgress | None = None,
    limits: Limits | None = None,
) -> Path:
    """Downloads and unpacks ASVspoof 2019 LA (`LA.zip`, about 7.6 GB) into `target_dir`; returns the LA root.

    The transfer resumes after an interruption; a `.completed` marker makes a second call a no-op;
    `limits` bounds the extraction (`ncst.corpora.archives.Limits`).
    """
    return find_asvspoof2019_root(
        download_and_extract(url, Path(target_dir), force=force, progress=progress, limits=limits)
    )
