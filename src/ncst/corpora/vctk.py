"""VCTK reader (CSTR VCTK Corpus 0.92 and 0.80), CC BY 4.0.

ST-Codecfake (and Codecfake before it) used VCTK **0.92, microphone 1**, with the `_mic1` suffix removed
from the ids: `p225_001`, not `p225_001_mic1` (`docs/reference_system.md` §5.1). Layouts read here:

* 0.92 (`VCTK-Corpus-0.92.zip`, Edinburgh DataShare 10283/3443)::

      <root>/speaker-info.txt
      <root>/txt/pXXX/pXXX_YYY.txt
      <root>/wav48_silence_trimmed/pXXX/pXXX_YYY_mic1.flac   (and _mic2)

* 0.80 (`VCTK-Corpus.tar.gz`)::

      <root>/speaker-info.txt               ids without the `p` prefix
      <root>/txt/pXXX/pXXX_YYY.txt
      <root>/wav48/pXXX/pXXX_YYY.wav

The root is the folder that holds `speaker-info.txt`; the path given may be that folder or one above it
(zips unpack with or without a top folder). Reading never touches the network.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.base import Utterance
from ncst.corpora.download import FileProgress, Limits, download_and_extract
from ncst.errors import CorpusLayoutError

__all__ = ["VCTK_092_URL", "find_vctk_root", "read_speaker_info", "read_vctk", "download_vctk"]

log = logging.getLogger(__name__)

VCTK_092_URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
_MARKER = "speaker-info.txt"
_UTT_092 = re.compile(r"^(?P<utt>(?P<spk>[ps]\d+)_\d+)_(?P<mic>mic[12])$")
_UTT_080 = re.compile(r"^(?P<utt>(?P<spk>p\d+)_\d+)$")


def find_vctk_root(path: PathLike) -> Path:
    """The folder holding `speaker-info.txt`: `path` itself or a folder up to two levels below it.

    Raises:
        CorpusLayoutError: No `speaker-info.txt` was found, or several were.
    """
    base = Path(path).expanduser().absolute()
    if not base.is_dir():
        raise CorpusLayoutError(f"VCTK folder not found: {base}")
    if (base / _MARKER).is_file():
        return base
    found = sorted(p.parent for pattern in ("*/" + _MARKER, "*/*/" + _MARKER) for p in base.glob(pattern))
    if len(found) == 1:
        return found[0]
    if not found:
        raise CorpusLayoutError(
            f"{base}: no {_MARKER} in it or up to two levels below; expected the unpacked VCTK-Corpus-0.92.zip "
            f"(speaker-info.txt, txt/, wav48_silence_trimmed/) or VCTK-Corpus.tar.gz (speaker-info.txt, wav48/)"
        )
    raise CorpusLayoutError(f"{base}: several VCTK roots found ({', '.join(map(str, found))}); pass one of them")


def read_speaker_info(path: PathLike) -> dict[str, dict[str, str]]:
    """Parses `speaker-info.txt` into `{speaker: {"age", "gender", "accent", "region"}}`.

    Ids are returned with the `p` prefix (0.80 writes `225`, 0.92 writes `p225`).

    Raises:
        CorpusLayoutError: A data line has fewer than three fields (id, age, gender); the message names the line.
    """
    file = Path(path)
    info: dict[str, dict[str, str]] = {}
    for lineno, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].upper() == "ID":
            continue
        if len(fields) < 3:
            raise CorpusLayoutError(
                f"{file}:{lineno}: expected 'ID AGE GENDER [ACCENTS REGION ...]', got {line.strip()!r}"
            )
        speaker = fields[0] if fields[0][0] in "ps" else f"p{fields[0]}"
        info[speaker] = {
            "age": fields[1],
            "gender": fields[2],
            "accent": fields[3] if len(fields) > 3 else "",
            "region": " ".join(fields[4:]),
        }
    return info


def read_vctk(corpus_dir: PathLike, *, mic: str = "mic1", with_text: bool = True) -> Iterator[Utterance]:
    """Yields VCTK utterances in (speaker, utterance) order.

    Args:
        corpus_dir: The VCTK root or a folder up to two levels above it.
        mic: `mic1` (what ST-Codecfake used) or `mic2`; 0.92 only, 0.80 has one microphone.
        with_text: Read `txt/<spk>/<utt>.txt` into `Utterance.text` (None where absent, e.g. p315).

    Yields:
        Utterances with ids `pXXX_YYY` (no mic suffix), speaker `pXXX`, corpus `vctk`, language `en`,
        and `extra` = `version`, `mic`, `gender`, `accent`.

    Raises:
        CorpusLayoutError: No root, no audio folder, or no audio file for the microphone asked for.
    """
    if mic not in ("mic1", "mic2"):
        raise CorpusLayoutError(f"unknown VCTK microphone {mic!r}; choose 'mic1' (ST-Codecfake) or 'mic2'")
    root = find_vctk_root(corpus_dir)
    speakers = read_speaker_info(root / _MARKER)
    if (root / "wav48_silence_trimmed").is_dir():
        version, audio_dir, pattern = "0.92", root / "wav48_silence_trimmed", f"*_{mic}.flac"
    elif (root / "wav48").is_dir():
        version, audio_dir, pattern = "0.80", root / "wav48", "*.wav"
    else:
        raise CorpusLayoutError(
            f"{root}: has {_MARKER} but neither wav48_silence_trimmed/ (VCTK 0.92) nor wav48/ (VCTK 0.80)"
        )
    count = 0
    unknown: set[str] = set()
    for spk_dir in sorted(p for p in audio_dir.iterdir() if p.is_dir()):
        for path in sorted(spk_dir.glob(pattern)):
            match = (_UTT_092 if version == "0.92" else _UTT_080).match(path.stem)
            if match is None:
                log.warning("%s: unexpected VCTK %s file name, skipped", path, version)
                continue
            utt_id, speaker = match.group("utt"), match.group("spk")
            if speaker != spk_dir.name:
                raise CorpusLayoutError(f"{path}: speaker {speaker!r} does not match its folder {spk_dir.name!r}")
            meta = speakers.get(speaker)
            if meta is None:
                unknown.add(speaker)
                meta = {}
            text = None
            if with_text:
                txt = root / "txt" / speaker / f"{utt_id}.txt"
                text = txt.read_text(encoding="utf-8", errors="replace").strip() if txt.is_file() else None
            count += 1
            yield Utterance(
                utt_id=utt_id,
                path=path,
                speaker=speaker,
                corpus="vctk",
                language="en",
                text=text,
                extra={
                    "version": version,
                    "mic": mic if version == "0.92" else "",
                    "gender": meta.get("gender", ""),
                    "accent": meta.get("accent", ""),
                },
            )
    if unknown:
        log.warning("%s: speakers %s have audio but no row in %s", root, sorted(unknown), _MARKER)
    if count == 0:
        raise CorpusLayoutError(f"{audio_dir}: no audio files matching <speaker>/{pattern} (VCTK {version})")
    log.info("VCTK %s (%s): %d utterances from %s", version, mic, count, root)


def download_vctk(
    target_dir: PathLike,
    *,
    force: bool = False,
    url: str = VCTK_092_URL,
    progress: FileProgress | None = None,
    limits: Limits | None = None,
) -> Path:
    """Downloads and unpacks VCTK 0.92 (about 11 GB) into `target_dir`; returns the corpus root.

    The transfer resumes after an interruption (HTTP Range). A `.completed` marker makes a second call
    a no-op unless `force`. `limits` bounds the extraction (`ncst.corpora.archives.Limits`).
    """
    folder = download_and_extract(url, Path(target_dir), force=force, progress=progress, limits=limits)
    return find_vctk_root(folder)
