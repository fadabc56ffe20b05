"""Audio I/O: read, downmix, resample, validate and write atomically.

File I/O goes through soundfile (libsndfile) and resampling through soxr (the SoX resampler, "HQ"
quality by default). torchaudio is never used for I/O: from 2.9 on its load/save need torchcodec and a
system FFmpeg.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ncst.errors import AudioError
from ncst.io import PathLike, atomic_write_bytes, sha256_file

__all__ = [
    "PathLike",
    "AudioLimits",
    "DEFAULT_LIMITS",
    "read_audio",
    "decode_budget_bytes",
    "MAX_DECODE_RATIO",
    "MIN_DECODE_BUDGET_BYTES",
    "to_mono",
    "resample",
    "validate_audio",
    "full_scale_of",
    "write_audio_atomic",
    "encode_audio",
    "format_for_path",
    "sha256_file",
    "SOXR_QUALITY",
]

log = logging.getLogger(__name__)

#: soxr quality used everywhere; recorded in provenance as part of the resampling chain.
SOXR_QUALITY = "HQ"


@dataclass(frozen=True, slots=True)
class AudioLimits:
    """Bounds that `validate_audio` enforces.

    Attributes:
        min_duration_s: Shorter input is rejected (a codec cannot encode a handful of samples).
        max_duration_s: Longer input is rejected: ST-Codecfake utterances are a few seconds, so an
            hour-long file is almost always a wrong path or a concatenated recording.
        max_clipped_fraction: Fraction of samples at the format's full scale (either sign) above which the
            file counts as clipped.
    """

    min_duration_s: float = 0.01
    max_duration_s: float = 600.0
    max_clipped_fraction: float = 0.01


DEFAULT_LIMITS = AudioLimits()


#: Bytes per stored sample of the uncompressed subtypes: their data can never exceed the file's size.
_PCM_BYTES: dict[str, int] = {
    "PCM_S8": 1, "PCM_U8": 1, "ULAW": 1, "ALAW": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8,
}  # fmt: skip
#: Containers that store those subtypes as they are (FLAC's subtype is PCM_16 too, but compressed).
_UNCOMPRESSED_FORMATS = frozenset({"WAV", "WAVEX", "W64", "RF64", "AIFF", "AU", "RAW", "CAF", "IRCAM", "NIST"})
#: Largest ratio of decoded float32 bytes to file bytes accepted from a compressed file (FLAC, Ogg, ADPCM,
#: ...). Digital silence is the most compressible content: one minute of it, 8 channels, decodes to 3,981x
#: (FLAC 16-bit) and 3,306x (Vorbis) its file size; speech decodes to 4-20x.
MAX_DECODE_RATIO = 8192
#: Decoded size every file may reach whatever its size (one minute of 8-channel silence is 30 MiB).
MIN_DECODE_BUDGET_BYTES = 64 << 20
#: Frames read per block: memory grows with what was really decoded, never with what the header claims.
_BLOCK_FRAMES = 1 << 16


def decode_budget_bytes(file_bytes: int) -> int:
    """Most float32 bytes `read_audio` decodes from a compressed file of `file_bytes` bytes."""
    return max(MIN_DECODE_BUDGET_BYTES, MAX_DECODE_RATIO * file_bytes)


def read_audio(path: PathLike, *, mono: bool = True) -> tuple[np.ndarray, int]:
    """Reads any file libsndfile understands (WAV, FLAC, OGG/Vorbis, ...), in memory bounded by the file's size.

    A header states the frame and channel counts, and a crafted one can claim 2**36 frames in a 100-byte
    file. The claim is checked against the file's real size before anything is allocated: an uncompressed
    file's samples must fit in the file, and a compressed file may decode to at most `MAX_DECODE_RATIO`
    times its size (or `MIN_DECODE_BUDGET_BYTES`). The samples are then read in blocks, so memory follows
    what is really decoded, and decoding stops at the same budget if the header under-states it.

    Args:
        path: Audio file.
        mono: Downmix to one channel by averaging.

    Returns:
        `(audio, sample_rate_hz)`: float32 `[T]` when `mono`, else `[C, T]`.

    Raises:
        AudioError: The file is missing, libsndfile cannot decode it, or its header claims more audio
            than its size allows; the message names the file.
    """
    p = Path(path)
    if p.is_dir():
        raise AudioError(f"audio path {p} is a directory, not a file")
    if not p.is_file():
        raise AudioError(f"audio file not found: {p}")
    try:
        with sf.SoundFile(str(p)) as fh:
            data, sample_rate_hz = _read_bounded(p, fh), fh.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OverflowError) as err:
        raise AudioError(f"cannot decode audio file {p}: {err}") from err
    if sample_rate_hz <= 0:
        raise AudioError(f"{p}: sample rate {sample_rate_hz} Hz is not positive")
    audio = data.T  # [C, T]
    if mono:
        audio = to_mono(audio)
    return np.ascontiguousarray(audio, dtype=np.float32), int(sample_rate_hz)


def _read_bounded(path: Path, fh: sf.SoundFile) -> np.ndarray:
    """All frames of an open file as float32 `[T, C]`, refusing claims the file's size cannot back."""
    file_bytes = path.stat().st_size
    channels, frames = int(fh.channels), int(fh.frames)
    if channels <= 0:
        raise AudioError(f"{path}: header claims {channels} channels")
    width = _PCM_BYTES.get(str(fh.subtype)) if str(fh.format) in _UNCOMPRESSED_FORMATS else None
    if width is not None and frames * channels * width > file_bytes:
        raise AudioError(
            f"{path}: header claims {frames} frames x {channels} channels ({frames * channels * width} bytes of "
            f"{fh.subtype}), but the file has {file_bytes} bytes; the file is damaged or crafted"
        )
    budget = decode_budget_bytes(file_bytes)
    # A length the header leaves open (FLAC total 0) reads as 2**63 - 1 frames, which libsndfile cannot read.
    if frames * channels * 4 > budget:
        raise AudioError(
            f"{path}: header claims {frames} frames x {channels} channels ({frames * channels * 4} bytes decoded), "
            f"more than {MAX_DECODE_RATIO} times the file's {file_bytes} bytes; the file is damaged or crafted"
        )
    blocks, decoded = [], 0
    while True:
        block = fh.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            break
        decoded += block.nbytes
        if decoded > budget:
            raise AudioError(
                f"{path}: decodes to more than {budget} bytes ({MAX_DECODE_RATIO} times its {file_bytes} bytes); "
                "the file is damaged or crafted"
            )
        blocks.append(block)
        if block.shape[0] < _BLOCK_FRAMES:
            break
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32)
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


#: Largest magnitude of each integer subtype as libsndfile reads it to float: the positive full scale of
#: n-bit PCM is (2**(n-1) - 1) / 2**(n-1) (32767/32768 = 0.99997 for 16 bits), the negative one -1.
_FULL_SCALE: dict[str, tuple[float, float]] = {
    **{sub: (-1.0, 1.0 - 2.0 ** (1 - bits)) for sub, bits in (("PCM_S8", 8), ("PCM_U8", 8), ("PCM_16", 16))},
    "PCM_24": (-1.0, 1.0 - 2.0**-23),
    "PCM_32": (-1.0, 1.0),  # 1 - 2**-31 rounds to 1.0 in float32
    "ULAW": (-32124 / 32768, 32124 / 32768),
    "ALAW": (-32256 / 32768, 32256 / 32768),
}


def full_scale_of(path: PathLike) -> tuple[float, float]:
    """The (negative, positive) full-scale sample values of an audio file's format, as `read_audio` returns them.

    Integer formats clip below 1.0 on the positive side (16-bit: -1.0 and 32767/32768); float and lossy
    formats have no hard limit, so (-1.0, 1.0) is used.

    Raises:
        AudioError: libsndfile cannot read the file's header.
    """
    try:
        subtype = sf.info(str(path)).subtype
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise AudioError(f"cannot decode audio file {path}: {err}") from err
    return _FULL_SCALE.get(subtype, (-1.0, 1.0))


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Averages channels: `[C, T]` -> `[T]`; a 1-D array is returned unchanged."""
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise AudioError(f"expected audio of shape [T] or [C, T], got {tuple(audio.shape)}")
    return audio.mean(axis=0, dtype=np.float32)


def resample(audio: np.ndarray, orig_rate_hz: int, target_rate_hz: int, *, quality: str = SOXR_QUALITY) -> np.ndarray:
    """Resamples mono float audio `[T]` with soxr; returns the input unchanged when rates match.

    The output has `floor(T * target / orig + 0.5)` samples (soxr's length rule: halves round up), so a
    clip keeps its duration.
    """
    if orig_rate_hz <= 0 or target_rate_hz <= 0:
        raise AudioError(f"sample rates must be positive, got {orig_rate_hz} -> {target_rate_hz}")
    if orig_rate_hz == target_rate_hz:
        return audio.astype(np.float32, copy=False)
    out = soxr.resample(audio.astype(np.float32, copy=False), orig_rate_hz, target_rate_hz, quality=quality)
    return np.ascontiguousarray(out, dtype=np.float32)


def validate_audio(
    audio: np.ndarray,
    sample_rate_hz: int,
    *,
    limits: AudioLimits = DEFAULT_LIMITS,
    name: str = "audio",
    full_scale: tuple[float, float] = (-1.0, 1.0),
) -> None:
    """Rejects audio no codec should see.

    Args:
        audio: Samples `[T]` or `[C, T]` (check before downmixing: a clipped channel hides in a mean).
        sample_rate_hz: Its rate.
        limits: The bounds to enforce.
        name: Shown in messages, usually the file path.
        full_scale: (negative, positive) full-scale values of the source format (`full_scale_of`); a
            sample at or beyond either counts as clipped.

    Raises:
        AudioError: empty, too short, too long, NaN/Inf, or clipped beyond `limits.max_clipped_fraction`.
            The message names `name` (usually the file path) and the offending value.
    """
    n = int(audio.shape[-1]) if audio.ndim else 0
    if n == 0:
        raise AudioError(f"{name}: empty audio (0 samples)")
    duration_s = n / sample_rate_hz
    if duration_s < limits.min_duration_s:
        raise AudioError(f"{name}: too short ({duration_s:.4f} s < {limits.min_duration_s} s)")
    if duration_s > limits.max_duration_s:
        raise AudioError(
            f"{name}: absurdly long ({duration_s:.1f} s > {limits.max_duration_s} s); "
            "split it or raise AudioLimits.max_duration_s"
        )
    finite = np.isfinite(audio)
    if not finite.all():
        raise AudioError(f"{name}: {int((~finite).sum())} NaN/Inf samples")
    low, high = np.float32(full_scale[0]), np.float32(full_scale[1])
    clipped = float(np.mean((audio <= low) | (audio >= high)))
    if clipped > limits.max_clipped_fraction:
        raise AudioError(
            f"{name}: clipped ({clipped:.1%} of samples at full scale, <= {float(low):.6g} or >= {float(high):.6g}; "
            f"limit {limits.max_clipped_fraction:.1%})"
        )


def write_audio_atomic(path: PathLike, audio: np.ndarray, sample_rate_hz: int, *, subtype: str = "PCM_16") -> Path:
    """Writes `audio` (`[T]` float, clipped to [-1, 1]) to `path` via a temp file in the same folder + rename.

    A reader never sees a half-written file: a process killed mid-write leaves only a temp file
    (`ncst.io.temp_name`), which `ncst.build_dataset` removes on the next run. The file's mode follows
    the umask.
    """
    dest = Path(path)
    atomic_write_bytes(dest, encode_audio(audio, sample_rate_hz, fmt=format_for_path(dest), subtype=subtype))
    return dest


def encode_audio(audio: np.ndarray, sample_rate_hz: int, *, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    """The bytes of an audio file holding `audio` (`[T]` float, clipped to [-1, 1]), built in memory.

    `write_audio_atomic` writes exactly these bytes, so a file made elsewhere (a Ray actor) and written
    here is byte-identical to one written locally.
    """
    buffer = io.BytesIO()
    data = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    sf.write(buffer, data, sample_rate_hz, subtype=subtype, format=fmt)
    return buffer.getvalue()


def format_for_path(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    formats = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG"}
    if ext not in formats:
        raise AudioError(f"cannot write {path}: extension {ext!r} not in {sorted(formats)}")
    return formats[ext]
