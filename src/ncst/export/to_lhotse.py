"""Lhotse manifests: a `RecordingSet` and a `SupervisionSet` per set, written by lhotse itself.

lhotse (Apache-2.0, https://github.com/lhotse-speech/lhotse) is imported only here and only when this
format is asked for; without it `MissingDependencyError` names `pip install ncst[lhotse]`. Files are
named as lhotse's own recipes name theirs, `<prefix>_recordings_<set>.jsonl.gz` and
`<prefix>_supervisions_<set>.jsonl.gz`, with `/` in a set name written as `-`. Each recording points
at the audio file where it lies (absolute path); one supervision covers the whole recording and carries
the labels in `custom`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ncst.errors import MissingDependencyError
from ncst.export.entries import ExportEntry
from ncst.export.paths import ExportError, check_set_names, safe_target, set_file_name
from ncst.io import temp_name

__all__ = ["write_lhotse", "LHOTSE_PREFIX", "import_lhotse"]

log = logging.getLogger(__name__)

LHOTSE_PREFIX = "ncst"


def import_lhotse() -> Any:
    """The lhotse module, or `MissingDependencyError` naming the extra to install."""
    try:
        import lhotse
    except ImportError as err:
        raise MissingDependencyError(
            f"the lhotse export needs the lhotse package ({err}); install it with: pip install ncst[lhotse]"
        ) from err
    return lhotse


def recording_id(entry: ExportEntry) -> str:
    """`<set>/<file name without extension>` with `/` as `-`: unique across sets, so CutSets can be joined."""
    return set_file_name(entry.split) + "-" + Path(entry.file).stem


def write_lhotse(entries: Sequence[ExportEntry], out: Path) -> list[Path]:
    """Writes the two manifests of every set into `out`; returns the files written.

    Raises:
        MissingDependencyError: lhotse is not installed.
        ExportError: Two sets would share a manifest name, or two files a recording id (`x.wav`, `x.flac`).
    """
    lhotse = import_lhotse()
    by_set: dict[str, list[ExportEntry]] = {}
    ids: dict[str, str] = {}
    for entry in entries:
        by_set.setdefault(entry.split, []).append(entry)
        other = ids.setdefault(recording_id(entry), entry.file)
        if other != entry.file:
            raise ExportError(f"{other} and {entry.file} would share the lhotse recording id {recording_id(entry)!r}")
    check_set_names(list(by_set))
    written: list[Path] = []
    for split, group in by_set.items():
        part = set_file_name(split)
        recordings = [_recording(lhotse, e) for e in group]
        supervisions = [_supervision(lhotse, e, r) for e, r in zip(group, recordings)]
        for kind, items, cls in (
            ("recordings", recordings, lhotse.RecordingSet),
            ("supervisions", supervisions, lhotse.SupervisionSet),
        ):
            target = safe_target(out, f"{LHOTSE_PREFIX}_{kind}_{part}.jsonl.gz")
            tmp = target.with_name(temp_name(target) + ".jsonl.gz")  # lhotse picks the format by suffix
            try:
                with cls.open_writer(tmp) as writer:
                    for item in items:
                        writer.write(item)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(target)
        log.info("lhotse: %s: %d recordings", split, len(recordings))
    return written


def _recording(lhotse: Any, entry: ExportEntry) -> Any:
    channels = list(range(entry.channels))
    return lhotse.Recording(
        id=recording_id(entry),
        sources=[lhotse.AudioSource(type="file", channels=channels, source=str(entry.path))],
        sampling_rate=entry.sample_rate_hz,
        num_samples=entry.num_samples,
        duration=entry.duration_s,
        channel_ids=channels,
    )


def _supervision(lhotse: Any, entry: ExportEntry, recording: Any) -> Any:
    custom: dict[str, Any] = {
        "class_id": entry.class_id,
        "codec_spec": entry.codec_spec,
        "label": entry.label,
        "split": entry.split,
        "file": entry.file,
    }
    for key in ("utt_id", "corpus"):
        value = getattr(entry, key)
        if value is not None:
            custom[key] = value
    return lhotse.SupervisionSegment(
        id=recording.id,
        recording_id=recording.id,
        start=0.0,
        duration=recording.duration,
        channel=0 if entry.channels == 1 else list(range(entry.channels)),
        language=entry.language,
        speaker=entry.speaker,
        custom=custom,
    )
