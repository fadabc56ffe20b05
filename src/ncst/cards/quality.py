"""Per-class quality of a dataset: STOI, wide-band PESQ, SI-SDR and log-spectral distance on a seeded sample.

Each fake file of the sample is compared with its paired real recording (`PairResolver`), both read with
`ncst.audio.read_audio`, downmixed, resampled to 16 kHz with soxr (`ncst.audio.resample`) and cut to the
shorter length. The sample is bounded (`per_class` files per group, drawn with a seed), so the time grows
with the number of classes, not with the dataset; the time taken is logged and recorded in the table.
The measured bitrate is the mean of provenance `extra.measured_bitrate_bps` over every file of the group.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ncst.audio import read_audio, resample
from ncst.cards.dataset import ClassGroup, DatasetView, class_name
from ncst.cards.metrics import (
    METRIC_RATE_HZ,
    log_spectral_distance,
    pesq_available,
    pesq_wb,
    si_sdr,
    stoi,
    stoi_available,
)
from ncst.cards.samples import MAX_AUDIO_BYTES, PairResolver, seeded_sample
from ncst.errors import AudioError
from ncst.io import atomic_write_text

__all__ = [
    "DEFAULT_PER_CLASS",
    "QUALITY_COLUMNS",
    "QualityRow",
    "QualityTable",
    "measure_quality",
    "quality_markdown",
    "write_quality_csv",
]

log = logging.getLogger(__name__)

#: Files measured per class and set unless told otherwise.
DEFAULT_PER_CLASS = 50
#: Columns of `quality.csv`, in order.
QUALITY_COLUMNS = (
    "set", "class_id", "class", "codec_spec", "files", "measured", "stoi", "pesq_wb", "si_sdr_db", "lsd_db",
    "measured_bitrate_bps",
)  # fmt: skip
#: Shortest pair measured (STOI needs about 30 frames of 25.6 ms after silence removal).
_MIN_SAMPLES = METRIC_RATE_HZ // 10


@dataclass(frozen=True, slots=True)
class QualityRow:
    """Mean quality of one group's measured files (None: nothing measured, or the metric is unavailable)."""

    set_name: str
    class_id: int
    codec_spec: str | None
    files: int
    measured: int
    stoi: float | None
    pesq_wb: float | None
    si_sdr_db: float | None
    lsd_db: float | None
    measured_bitrate_bps: float | None

    def values(self) -> tuple[object, ...]:
        """The row's cells in `QUALITY_COLUMNS` order."""
        return (
            self.set_name, self.class_id, class_name(self.class_id), self.codec_spec or "", self.files,
            self.measured, self.stoi, self.pesq_wb, self.si_sdr_db, self.lsd_db, self.measured_bitrate_bps,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class QualityTable:
    """Quality of every fake group, and how it was measured."""

    rows: tuple[QualityRow, ...]
    per_class: int
    seed: int
    seconds: float
    stoi_available: bool
    pesq_available: bool
    skipped: tuple[str, ...] = field(default=())


def measure_quality(
    view: DatasetView, pairs: PairResolver, *, per_class: int = DEFAULT_PER_CLASS, seed: int = 0
) -> QualityTable:
    """Measures every fake group on up to `per_class` seeded files with a real pair; see the module docstring."""
    if per_class < 0:
        raise ValueError(f"per_class must be >= 0, got {per_class}")
    start = time.perf_counter()
    rows: list[QualityRow] = []
    skipped: list[str] = []
    for group in view.groups:
        if group.is_real:
            continue
        rows.append(_measure_group(view, pairs, group, per_class, seed, skipped))
    seconds = time.perf_counter() - start
    measured = sum(r.measured for r in rows)
    log.info("quality: %d files in %d classes measured in %.1f s", measured, len(rows), seconds)
    if not pesq_available():
        log.warning("PESQ left out: the pesq package is not installed (pip install ncst[pesq])")
    return QualityTable(tuple(rows), per_class, seed, seconds, stoi_available(), pesq_available(), tuple(skipped))


def _measure_group(
    view: DatasetView, pairs: PairResolver, group: ClassGroup, per_class: int, seed: int, skipped: list[str]
) -> QualityRow:
    scores: dict[str, list[float]] = {"stoi": [], "pesq": [], "si_sdr": [], "lsd": []}
    measured = 0
    for file in seeded_sample(view, group, per_class, seed):
        real = pairs.real_for(group, file)
        if real is None:
            skipped.append(f"{file.rel}: no real recording of {file.utt_id}")
            continue
        try:
            ref, deg = _read_pair(view.root / real, view.root / file.rel)
        except AudioError as err:
            skipped.append(f"{file.rel}: {err}")
            continue
        measured += 1
        for name, value in (
            ("stoi", stoi(ref, deg)),
            ("pesq", pesq_wb(ref, deg)),
            ("si_sdr", si_sdr(ref, deg)),
            ("lsd", log_spectral_distance(ref, deg)),
        ):
            if value is not None and math.isfinite(value):
                scores[name].append(value)
    bitrates = [
        float(f.row.extra["measured_bitrate_bps"])
        for f in group.files
        if f.row is not None and isinstance(f.row.extra.get("measured_bitrate_bps"), (int, float))
    ]
    return QualityRow(
        set_name=group.set_name,
        class_id=group.class_id,
        codec_spec=group.codec_spec,
        files=len(group.files),
        measured=measured,
        stoi=_mean(scores["stoi"]),
        pesq_wb=_mean(scores["pesq"]),
        si_sdr_db=_mean(scores["si_sdr"]),
        lsd_db=_mean(scores["lsd"]),
        measured_bitrate_bps=_mean(bitrates),
    )


def _read_pair(real: Path, fake: Path) -> tuple[np.ndarray, np.ndarray]:
    """Both files at 16 kHz, mono, cut to the shorter one."""
    signals = []
    for path in (real, fake):
        if path.stat().st_size > MAX_AUDIO_BYTES:
            raise AudioError(f"{path}: larger than {MAX_AUDIO_BYTES} bytes; not measured")
        audio, rate = read_audio(path)
        if not np.isfinite(audio).all():
            raise AudioError(f"{path}: NaN/Inf samples")
        signals.append(resample(audio, rate, METRIC_RATE_HZ))
    n = min(s.size for s in signals)
    if n < _MIN_SAMPLES:
        raise AudioError(f"{fake}: shorter than {_MIN_SAMPLES / METRIC_RATE_HZ:.1f} s at 16 kHz; not measured")
    return signals[0][:n], signals[1][:n]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _cell(value: object, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def write_quality_csv(table: QualityTable, path: Path) -> Path:
    """Writes `quality.csv` (`QUALITY_COLUMNS`; empty cells where a metric is unavailable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(QUALITY_COLUMNS)
    for row in table.rows:
        writer.writerow([_cell(v, 4) for v in row.values()])
    atomic_write_text(path, buffer.getvalue())
    return path


def quality_markdown(table: QualityTable) -> str:
    """The table as Markdown, for `DATASET.md`: one row per fake class and set, then how it was measured."""
    header = ["set", "class", "codec", "measured", "STOI", "PESQ-WB", "SI-SDR (dB)", "LSD (dB)", "bitrate (kbps)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table.rows:
        bitrate = None if r.measured_bitrate_bps is None else r.measured_bitrate_bps / 1000.0
        cells = [r.set_name, f"{r.class_id} {class_name(r.class_id)}", r.codec_spec or "-", f"{r.measured}/{r.files}"]
        cells += [_cell(r.stoi, 3), _cell(r.pesq_wb, 2), _cell(r.si_sdr_db, 1), _cell(r.lsd_db, 2), _cell(bitrate, 2)]
        lines.append("| " + " | ".join(c or "-" for c in cells) + " |")
    lines += ["", quality_note(table)]
    return "\n".join(lines) + "\n"


def quality_note(table: QualityTable) -> str:
    """One sentence on how the table was measured (sample size, seed, time, missing metrics)."""
    missing = [name for name, ok in (("STOI (pystoi)", table.stoi_available), ("PESQ", table.pesq_available)) if not ok]
    note = (
        f"Against the paired real recording at 16 kHz, on up to {table.per_class} seeded files per class "
        f"(seed {table.seed}), measured in {table.seconds:.1f} s."
    )
    if missing:
        note += f" Not installed: {', '.join(missing)} (pip install ncst[pesq])."
    return note
