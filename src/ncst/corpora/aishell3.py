"""AISHELL-3 reader (OpenSLR 93, `data_aishell3.tgz`), Apache-2.0.

ST-Codecfake uses all 88,035 utterances of both official parts (train 63,262 + test 24,773) and ignores
the official speaker split (`docs/reference_system.md` §5.2, §4). Layout::

    <root>/spk-info.txt                 '#' comments, then `spk<TAB>age group<TAB>gender<TAB>accent`
    <root>/train/content.txt            `SSB00050001.wav<TAB>广 guang3 州 zhou1 ...`
    <root>/train/wav/SSB0005/SSB00050001.wav
    <root>/test/content.txt, <root>/test/wav/SSBxxxx/...

The speaker id is the first 7 characters of the utterance id. The documented rate is 44.1 kHz, but
mirrors differ, so each file's real rate is read from its header (`extra["sample_rate_hz"]`) rather
than assumed. Reading never touches the network.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import soundfile as sf

from ncst.audio import PathLike
from ncst.corpora.base import Utterance, find_corpus_root
from ncst.corpora.download import FileProgress, Limits, download_and_extract
from ncst.errors import CorpusLayoutError
from ncst.io import read_text

__all__ = ["AISHELL3_URL", "PARTS", "find_aishell3_root", "read_aishell3", "read_content", "download_aishell3"]

log = logging.getLogger(__name__)

AISHELL3_URL = "https://www.openslr.org/resources/93/data_aishell3.tgz"
PARTS = ("train", "test")
_UTT = re.compile(r"^(?P<spk>SSB\d{4})\d{4}$")
_DOCUMENTED_RATE_HZ = 44100


def find_aishell3_root(path: PathLike) -> Path:
    """The folder that holds `train/wav` and/or `test/wav`: `path` or a folder up to two levels below.

    Raises:
        CorpusLayoutError: No such folder was found.
    """
    return find_corpus_root(
        path,
        "AISHELL-3",
        lambda folder: any((folder / part / "wav").is_dir() for part in PARTS),
        "no train/wav/ or test/wav/ folder in it or up to two levels below; expected the unpacked "
        "data_aishell3.tgz (spk-info.txt, train/content.txt, train/wav/SSBxxxx/*.wav, test/...)",
    )


def read_content(path: PathLike) -> dict[str, str]:
    """Parses a `content.txt` into `{utt_id: hanzi}` (the pinyin tokens are dropped).

    Raises:
        CorpusLayoutError: A line has no TAB after the file name; the message names the line.
    """
    file = Path(path)
    texts: dict[str, str] = {}
    for lineno, line in enumerate(read_text(file, error=CorpusLayoutError).splitlines(), 1):
        if not line.strip():
            continue
        name, sep, rest = line.partition("\t")
        if not sep or not name.endswith(".wav"):
            raise CorpusLayoutError(
                f"{file}:{lineno}: expected '<SSBxxxxxxxx>.wav<TAB><hanzi pinyin ...>', got {line[:60]!r}"
            )
        tokens = rest.split()
        texts[name[: -len(".wav")]] = "".join(tokens[0::2])
    return texts


def _speaker_info(root: Path) -> dict[str, dict[str, str]]:
    path = root / "spk-info.txt"
    if not path.is_file():
        log.warning("%s missing; speakers get no gender/accent", path)
        return {}
    info: dict[str, dict[str, str]] = {}
    for lineno, line in enumerate(read_text(path, error=CorpusLayoutError).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 4:
            raise CorpusLayoutError(
                f"{path}:{lineno}: expected 'speaker<TAB>age group<TAB>gender<TAB>accent', got {line.strip()!r}"
            )
        info[fields[0]] = {"age_group": fields[1], "gender": fields[2], "accent": fields[3]}
    return info


def read_aishell3(
    corpus_dir: PathLike, *, parts: tuple[str, ...] = PARTS, with_text: bool = True
) -> Iterator[Utterance]:
    """Yields AISHELL-3 utterances, part by part, in (speaker, utterance) order.

    Args:
        corpus_dir: The AISHELL-3 root or a folder up to two levels above it.
        parts: Official parts to read; ST-Codecfake uses both.
        with_text: Read each part's `content.txt` into `Utterance.text` (hanzi only).

    Yields:
        Utterances with ids `SSBssssuuuu`, speaker `SSBssss`, corpus `aishell3`, language `zh`, and
        `extra` = `part`, `sample_rate_hz` (from the file header), `gender`, `accent`.

    Raises:
        CorpusLayoutError: A part asked for is missing, a file name is not `SSB` + 8 digits, a file sits in
            another speaker's folder, or a file's header cannot be read.
    """
    unknown_parts = [p for p in parts if p not in PARTS]
    if unknown_parts:
        raise CorpusLayoutError(f"unknown AISHELL-3 parts {unknown_parts}; choose from {list(PARTS)}")
    root = find_aishell3_root(corpus_dir)
    speakers = _speaker_info(root)
    count = 0
    rates: dict[int, int] = {}
    for part in parts:
        wav_dir = root / part / "wav"
        if not wav_dir.is_dir():
            raise CorpusLayoutError(f"{root}: AISHELL-3 part {part!r} missing (expected {wav_dir})")
        content = root / part / "content.txt"
        texts = read_content(content) if with_text and content.is_file() else {}
        if with_text and not content.is_file():
            log.warning("%s missing; %s utterances get no text", content, part)
        for spk_dir in sorted(p for p in wav_dir.iterdir() if p.is_dir()):
            for path in sorted(spk_dir.glob("*.wav")):
                match = _UTT.match(path.stem)
                if match is None:
                    raise CorpusLayoutError(
                        f"{path}: expected an AISHELL-3 name 'SSB' + 8 digits, e.g. SSB00050001.wav"
                    )
                speaker = match.group("spk")
                if speaker != spk_dir.name:
                    raise CorpusLayoutError(f"{path}: speaker {speaker} does not match its folder {spk_dir.name}")
                try:
                    rate = int(sf.info(str(path)).samplerate)
                except (sf.LibsndfileError, RuntimeError) as err:
                    raise CorpusLayoutError(f"{path}: unreadable audio header ({err})") from err
                rates[rate] = rates.get(rate, 0) + 1
                meta = speakers.get(speaker, {})
                count += 1
                yield Utterance(
                    utt_id=path.stem,
                    path=path,
                    speaker=speaker,
                    corpus="aishell3",
                    language="zh",
                    text=texts.get(path.stem),
                    extra={
                        "part": part,
                        "sample_rate_hz": rate,
                        "gender": meta.get("gender", ""),
                        "accent": meta.get("accent", ""),
                    },
                )
    if count == 0:
        raise CorpusLayoutError(f"{root}: no <part>/wav/SSBxxxx/*.wav files in parts {list(parts)}")
    if set(rates) != {_DOCUMENTED_RATE_HZ}:
        log.warning(
            "AISHELL-3 sample rates found %s (documented: %d Hz); the builder resamples each file",
            rates,
            _DOCUMENTED_RATE_HZ,
        )
    log.info("AISHELL-3: %d utterances from %s", count, root)


def download_aishell3(
    target_dir: PathLike,
    *,
    force: bool = False,
    url: str = AISHELL3_URL,
    progress: FileProgress | None = None,
    limits: Limits | None = None,
) -> Path:
    """Downloads and unpacks AISHELL-3 (about 19 GB) into `target_dir`; returns the corpus root.

    The transfer resumes after an interruption (HTTP Range); a `.completed` marker makes a second call a
    no-op unless `force`. `limits` bounds the extraction (`ncst.corpora.archives.Limits`).
    """
    folder = download_and_extract(url, Path(target_dir), force=force, progress=progress, limits=limits)
    return find_aishell3_root(folder)
