"""Build planning: which (utterance, codec) jobs exist, their output names, and how shards split them.

A job's identity is its output file name (`<prefix>_<utt>.wav`), so planning is a pure function of the
corpus and the codec cards. Sharding hashes that name, which keeps shard membership stable when the
corpus order changes or utterances are added.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from ncst.codecs.base import CodecCard
from ncst.corpora import Utterance
from ncst.corpora.base import MAX_FILE_PREFIX_BYTES
from ncst.errors import NcstError

__all__ = ["Shard", "Job", "parse_shard", "output_name", "plan_jobs", "WAV_DIR"]

#: Sub-folder of the build folder that holds generated audio.
WAV_DIR = "wav"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0-based: `0/4` ... `3/4`)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise NcstError(f"invalid shard {self.index}/{self.count}: need 0 <= I < N (0-based), e.g. 0/4 .. 3/4")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """File-name suffix of this shard's logs ('' when not sharded)."""
        return "" if self.count == 1 else f".shard-{self.index}-of-{self.count}"

    def owns(self, key: str) -> bool:
        if self.count == 1:
            return True
        digest = hashlib.sha1(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index


def parse_shard(text: str) -> Shard:
    """Parses `I/N` (0-based), e.g. `0/4`; Slurm users pass `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise NcstError(f"invalid --shard {text!r}: expected I/N with 0 <= I < N, e.g. 0/4")
    return Shard(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True, slots=True)
class Job:
    """One file to generate: an utterance through one codec variant, into `folder` of the build.

    `label_class` and `prefix` override the card's class id and file prefix (a recipe that adds a codec
    as a new class, or renames its files).
    """

    utterance: Utterance
    card: CodecCard
    folder: str = WAV_DIR
    label_class: int | None = None
    prefix: str | None = None

    @property
    def class_id(self) -> int | None:
        """Class id written to provenance and labels."""
        return self.card.class_id if self.label_class is None else self.label_class

    @property
    def file_name(self) -> str:
        prefix = self.card.file_prefix if self.prefix is None else self.prefix
        return f"{prefix}_{self.utterance.utt_id}.wav" if prefix else f"{self.utterance.utt_id}.wav"

    @property
    def rel_path(self) -> str:
        """Path relative to the build folder, as recorded in provenance."""
        return f"{self.folder}/{self.file_name}"


def output_name(card: CodecCard, utt_id: str) -> str:
    """Official naming: `<prefix>_<utt>.wav`, e.g. `encodec_p225_001.wav`, `C4-1_p225_001.wav`.

    A card with an empty prefix (the real class) keeps the bare utterance id: `p225_001.wav`.
    """
    return f"{card.file_prefix}_{utt_id}.wav" if card.file_prefix else f"{utt_id}.wav"


def plan_jobs(
    utterances: Sequence[Utterance],
    cards: Iterable[CodecCard],
    *,
    shard: Shard = Shard(),
    limit: int | None = None,
) -> list[Job]:
    """All jobs of this shard, codec-major, in corpus order.

    Args:
        utterances: The corpus.
        cards: Codec variants to run.
        shard: Keep only the jobs this shard owns.
        limit: Use only the first `limit` utterances of the corpus (before sharding).

    Raises:
        NcstError: Two codec variants share a file prefix (their outputs would overwrite each other), or a
            prefix is too long for the file-name budget (`ncst.corpora.base.MAX_FILE_PREFIX_BYTES`).
    """
    cards = list({c.spec: c for c in cards}.values())  # the same variant named twice runs once
    prefixes: dict[str, str] = {}
    for card in cards:
        if len(card.file_prefix.encode("utf-8")) + 1 > MAX_FILE_PREFIX_BYTES:
            raise NcstError(
                f"codec {card.spec}: file prefix {card.file_prefix!r} is longer than the "
                f"{MAX_FILE_PREFIX_BYTES - 1} bytes that utterance ids leave for it (file names must fit 255 bytes)"
            )
        other = prefixes.setdefault(card.file_prefix, card.spec)
        if other != card.spec:
            raise NcstError(
                f"codecs {other} and {card.spec} both write '{card.file_prefix}_*.wav'; "
                "build them into separate --out folders"
            )
    utts = list(utterances)[:limit] if limit is not None else list(utterances)
    jobs = [Job(u, c) for c in cards for u in utts]
    return [j for j in jobs if shard.owns(j.file_name)]
