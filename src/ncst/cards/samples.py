"""Which files a card plays and measures, and the real utterance each is paired with.

Listening to one utterance through every codec tells more than a different one per codec, so samples
are drawn from the utterances present in the most classes first (`rank_utterances`). The paired real
file of a fake one is the class-0 file of the same utterance in the dataset (the same set first); a
flat build has none, so the source recording named in provenance is decoded and written as a 16-bit
WAV under `DATASET_files/sources/` (a browser plays it, and the card keeps working when the corpus
moves).
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ncst.audio import read_audio, write_audio_atomic
from ncst.cards.dataset import CardFile, ClassGroup, DatasetView
from ncst.cards.order import natural_key
from ncst.errors import AudioError
from ncst.layout import CARD_ASSET_DIR

__all__ = ["ASSET_DIR", "MAX_AUDIO_BYTES", "PairResolver", "pick_files", "rank_utterances", "seeded_sample"]

log = logging.getLogger(__name__)

#: Folder beside DATASET.html holding what the card made (source copies, figures).
ASSET_DIR = CARD_ASSET_DIR
#: Audio files larger than this are not read (an utterance is a few seconds; 64 MiB is 30 min of 16 kHz).
MAX_AUDIO_BYTES = 64 << 20

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def rank_utterances(view: DatasetView) -> list[str]:
    """Utterance ids, those listed in the most groups first, ties in natural order (no file is opened)."""
    coverage: dict[str, int] = {}
    for group in view.groups:
        for utt in {f.utt_id for f in group.files}:
            coverage[utt] = coverage.get(utt, 0) + 1
    return sorted(coverage, key=lambda u: (-coverage[u], natural_key(u)))


def pick_files(view: DatasetView, group: ClassGroup, ranking: Sequence[str], n: int) -> list[CardFile]:
    """The group's first `n` files that exist, in `ranking` order of their utterances."""
    position = {u: i for i, u in enumerate(ranking)}
    candidates = sorted(group.files, key=lambda f: position.get(f.utt_id, len(position)))
    picked: list[CardFile] = []
    for f in candidates:
        if len(picked) >= n:
            break
        if (view.root / f.rel).is_file():
            picked.append(f)
    return picked


def seeded_sample(view: DatasetView, group: ClassGroup, n: int, seed: int) -> list[CardFile]:
    """Up to `n` files of the group that exist, drawn with `random.Random` seeded by `seed` and the group."""
    order = list(group.files)
    random.Random(f"{seed}:{group.key}").shuffle(order)
    picked: list[CardFile] = []
    for f in order:
        if len(picked) >= n:
            break
        if (view.root / f.rel).is_file():
            picked.append(f)
    return picked


@dataclass(slots=True)
class PairResolver:
    """Finds the real file of an utterance, copying the source of a flat build into `ASSET_DIR/sources`.

    Attributes:
        view: The dataset.
        write: Whether to write source copies (False: only pairs already inside the dataset).
    """

    view: DatasetView
    write: bool = True
    _real: dict[str, dict[str, str]] = field(default_factory=dict)
    _copies: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for group in self.view.groups:
            if group.is_real:
                for f in group.files:
                    self._real.setdefault(f.utt_id, {}).setdefault(group.set_name, f.rel)

    def real_for(self, group: ClassGroup, file: CardFile) -> str | None:
        """Path (relative to the root) of the real recording paired with `file`, or None if there is none."""
        if group.is_real:
            return file.rel
        in_sets = self._real.get(file.utt_id, {})
        for rel in ([in_sets[group.set_name]] if group.set_name in in_sets else []) + list(in_sets.values()):
            if (self.view.root / rel).is_file():
                return rel
        return self._copy_source(file)

    def _copy_source(self, file: CardFile) -> str | None:
        if file.row is None:
            return None
        if file.utt_id in self._copies:
            return self._copies[file.utt_id]
        source = Path(file.row.source_path)
        if not source.is_absolute():
            source = self.view.root / source
        digest = hashlib.sha256(file.utt_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        rel = f"{ASSET_DIR}/sources/{_UNSAFE.sub('_', file.utt_id)[:100]}-{digest}.wav"
        result: str | None = rel
        target = self.view.root / rel
        if not target.is_file():
            result = self._write_copy(source, target, rel) if self.write else None
        self._copies[file.utt_id] = result
        return result

    @staticmethod
    def _write_copy(source: Path, target: Path, rel: str) -> str | None:
        try:
            if not source.is_file() or source.stat().st_size > MAX_AUDIO_BYTES:
                log.warning("source %s is missing or larger than %d bytes: no real pair", source, MAX_AUDIO_BYTES)
                return None
            audio, rate = read_audio(source)
        except (AudioError, OSError) as err:
            log.warning("cannot read source %s (%s): no real pair", source, err)
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        write_audio_atomic(target, audio, rate)
        return rel
