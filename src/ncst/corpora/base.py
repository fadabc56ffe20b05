"""The `Utterance` record that every corpus reader returns, the rule for safe utterance ids, and how a
reader finds its corpus root inside an unpacked download."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ncst.errors import CorpusLayoutError
from ncst.io import PathLike

__all__ = ["MAX_FILE_PREFIX_BYTES", "MAX_UTT_ID_BYTES", "Utterance", "find_corpus_root", "validate_utt_id"]

log = logging.getLogger(__name__)

_UNSAFE_CHARS = re.compile(r"[/\\\s\x00]")

#: UTF-8 bytes reserved for the codec file prefix and its `_` in `<prefix>_<utt_id>.wav` (the longest
#: built-in prefix, `speechtokenizer`, takes 15); the build refuses a codec whose prefix is longer.
MAX_FILE_PREFIX_BYTES = 32
#: Bytes a temp file name adds to a file name: `.<name>.<pid>-<8 hex>.tmp` with a 7-digit pid.
_TEMP_NAME_OVERHEAD_BYTES = 22
#: Longest utterance id in UTF-8 bytes, so that the temp name of `<prefix>_<utt_id>.wav` fits the
#: 255-byte file-name limit of Linux, macOS and Windows file systems: 255 - 32 - 4 - 22 = 197.
MAX_UTT_ID_BYTES = 255 - MAX_FILE_PREFIX_BYTES - len(".wav") - _TEMP_NAME_OVERHEAD_BYTES


def validate_utt_id(utt_id: object) -> str:
    """Checks that `utt_id` can be used as a file-name stem (`<prefix>_<utt_id>.wav`) and returns it.

    A safe id is a non-empty string of at most `MAX_UTT_ID_BYTES` UTF-8 bytes with no `/`, `\\`,
    whitespace or control character (ESC, BEL, NUL, ...), that does not start with `.`.

    Raises:
        CorpusLayoutError: The id is not a string, is empty or is unsafe; the message shows it with repr().
    """
    if not isinstance(utt_id, str):
        raise CorpusLayoutError(f"utterance id must be a string, got {type(utt_id).__name__} {utt_id!r}")
    if not utt_id:
        raise CorpusLayoutError("utterance id is empty; every utterance needs a unique id such as 'p225_001'")
    bad = _UNSAFE_CHARS.search(utt_id)
    if bad is not None:
        raise CorpusLayoutError(
            f"unsafe utterance id {utt_id!r}: contains {bad.group()!r}; ids become file names, so use no "
            "'/', '\\\\' or whitespace (e.g. 'p225_001')"
        )
    control = next((ch for ch in utt_id if unicodedata.category(ch) in ("Cc", "Cs")), None)
    if control is not None:
        raise CorpusLayoutError(
            f"unsafe utterance id {utt_id!r}: contains the control character U+{ord(control):04X}; ids become "
            "file names and log lines, so use printable characters only"
        )
    n_bytes = len(utt_id.encode("utf-8"))
    if n_bytes > MAX_UTT_ID_BYTES:
        raise CorpusLayoutError(
            f"utterance id {utt_id[:40]!r}... is {n_bytes} bytes long (UTF-8); ids become file names "
            f"'<prefix>_<id>.wav', which must fit 255 bytes, so use at most {MAX_UTT_ID_BYTES} bytes"
        )
    if utt_id.startswith("."):
        raise CorpusLayoutError(f"unsafe utterance id {utt_id!r}: starts with '.', which makes a hidden file name")
    return utt_id


@dataclass(frozen=True, slots=True)
class Utterance:
    """One source recording of a corpus.

    Attributes:
        utt_id: Canonical id, unique within a corpus and used in output file names (`<prefix>_<utt_id>.wav`),
            e.g. `p225_001` (VCTK), `SSB00050001` (AISHELL-3), `demo_en_001` (bundled demo).
        path: Absolute path of the audio file.
        speaker: Speaker id, e.g. `p225`, or None when unknown.
        corpus: Corpus name, e.g. `vctk`, `aishell3`, `demo`.
        language: Language code (`en`, `zh`) or None when unknown.
        text: Transcript, or None when unknown.
        extra: Any other per-utterance fields (e.g. `pinyin`, `source`, `licence`). Compared by `==` but
            left out of `hash()`, so utterances can go in sets and dict keys.
    """

    utt_id: str
    path: Path
    speaker: str | None = None
    corpus: str = ""
    language: str | None = None
    text: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        validate_utt_id(self.utt_id)
        if not isinstance(self.path, Path):
            object.__setattr__(self, "path", Path(self.path))
        if not self.path.is_absolute():
            raise CorpusLayoutError(
                f"utterance {self.utt_id!r}: path {str(self.path)!r} is relative; corpus readers must resolve it "
                "(e.g. against the manifest's folder) before building an Utterance"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/CSV: `path` as a string, `extra` copied into a new dict."""
        return {
            "utt_id": self.utt_id,
            "path": str(self.path),
            "speaker": self.speaker,
            "corpus": self.corpus,
            "language": self.language,
            "text": self.text,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Utterance:
        """Inverse of `to_dict`.

        Raises:
            CorpusLayoutError: `utt_id` or `path` is missing, or a field is unknown.
        """
        missing = [key for key in ("utt_id", "path") if key not in data]
        if missing:
            raise CorpusLayoutError(f"utterance dict lacks {missing}; it has {sorted(data)}")
        known = {"utt_id", "path", "speaker", "corpus", "language", "text", "extra"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CorpusLayoutError(f"utterance dict has unknown fields {unknown}; put them under 'extra'")
        return cls(
            utt_id=data["utt_id"],
            path=Path(data["path"]),
            speaker=data.get("speaker"),
            corpus=data.get("corpus") or "",
            language=data.get("language"),
            text=data.get("text"),
            extra=dict(data.get("extra") or {}),
        )


def find_corpus_root(path: PathLike, corpus: str, is_root: Callable[[Path], bool], missing: str) -> Path:
    """The first folder `is_root` accepts: `path` itself, else a folder one, then two levels below it.

    Archives unpack with one or two top folders of their own (`LA/`, `data_aishell3/`), so a reader
    accepts the folder the user unpacked into as well as the corpus root itself.

    Raises:
        CorpusLayoutError: `path` is not a folder ("<corpus> folder not found: <path>"), or no folder
            qualifies ("<path>: <missing>").
    """
    base = Path(path).expanduser().absolute()
    if not base.is_dir():
        raise CorpusLayoutError(f"{corpus} folder not found: {base}")
    for candidate in (base, *sorted(base.glob("*/")), *sorted(base.glob("*/*/"))):
        if is_root(candidate):
            return candidate
    raise CorpusLayoutError(f"{base}: {missing}")
