"""Quality of a resynthesised file against its source, both mono float `[T]` at 16 kHz.

* SI-SDR (dB): Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019: both signals made zero-mean,
  the reference scaled by the projection `a = <y, x> / <x, x>`, then `10 log10(|a x|^2 / |y - a x|^2)`.
* Log-spectral distance (dB): per frame the root mean square over frequency of the difference of the two
  power spectra in dB, averaged over frames (512-point Hann STFT, hop 128, at 16 kHz).
* STOI (0-1): Taal et al. 2011, via `pystoi` (installed by `pip install ncst[pesq]` and by the `dac` extra);
  None when it is not installed.
* Wide-band PESQ (MOS-LQO, 1.0-4.6): ITU-T P.862.2 via the `pesq` package (`pip install ncst[pesq]`, which
  builds a C extension); None when it is not installed or PESQ finds no utterance in the signal.

Every function returns a plain float; the signals must already have the same rate and length.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import warnings

import numpy as np
from scipy.signal import stft

__all__ = [
    "METRIC_RATE_HZ",
    "log_spectral_distance",
    "pesq_available",
    "pesq_wb",
    "si_sdr",
    "stoi",
    "stoi_available",
]

log = logging.getLogger(__name__)

#: Rate every metric works at (PESQ wide band and STOI's resampling are defined from 16 kHz).
METRIC_RATE_HZ = 16000
_EPS = 1e-10


def _pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(estimate, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"reference and estimate differ in length: {x.size} != {y.size} samples")
    if x.size == 0:
        raise ValueError("empty signals")
    return x, y


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (higher is better; inf when `estimate` is a scaled copy)."""
    x, y = _pair(reference, estimate)
    x = x - x.mean()
    y = y - y.mean()
    energy = float(np.dot(x, x))
    if energy <= 0.0:
        return float("nan")
    target = (float(np.dot(y, x)) / energy) * x
    noise = y - target
    noise_energy = float(np.dot(noise, noise))
    if noise_energy <= 0.0:
        return float("inf")
    return 10.0 * math.log10(float(np.dot(target, target)) / noise_energy)


def log_spectral_distance(reference: np.ndarray, estimate: np.ndarray, *, n_fft: int = 512) -> float:
    """Log-spectral distance in dB (0 for identical signals; `20 log10(g)` when `estimate = g * reference`)."""
    x, y = _pair(reference, estimate)
    if x.size < n_fft:
        x, y = np.pad(x, (0, n_fft - x.size)), np.pad(y, (0, n_fft - y.size))
    _, _, sx = stft(x, nperseg=n_fft, noverlap=n_fft - n_fft // 4, boundary=None, padded=False)
    _, _, sy = stft(y, nperseg=n_fft, noverlap=n_fft - n_fft // 4, boundary=None, padded=False)
    px = 10.0 * np.log10(np.abs(sx) ** 2 + _EPS)
    py = 10.0 * np.log10(np.abs(sy) ** 2 + _EPS)
    return float(np.mean(np.sqrt(np.mean((px - py) ** 2, axis=0))))


def stoi_available() -> bool:
    """Whether `pystoi` can be imported."""
    return importlib.util.find_spec("pystoi") is not None


def stoi(reference: np.ndarray, estimate: np.ndarray, *, sample_rate_hz: int = METRIC_RATE_HZ) -> float | None:
    """Short-time objective intelligibility (0-1, higher is better) via `pystoi`.

    None when `pystoi` is missing, or when the signals hold too little non-silent speech for STOI's
    384 ms analysis segments (pystoi then warns and returns 1e-5, which is no score).
    """
    x, y = _pair(reference, estimate)
    if not stoi_available():
        return None
    from pystoi import stoi as _stoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(x, y, sample_rate_hz, extended=False))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return None
    return value


def pesq_available() -> bool:
    """Whether the `pesq` package can be imported (`pip install ncst[pesq]`; it needs a C compiler)."""
    return importlib.util.find_spec("pesq") is not None


def pesq_wb(reference: np.ndarray, estimate: np.ndarray) -> float | None:
    """Wide-band PESQ at 16 kHz, or None when `pesq` is missing or finds no speech to score."""
    if not pesq_available():
        return None
    from pesq import PesqError
    from pesq import pesq as _pesq

    x, y = _pair(reference, estimate)
    value = _pesq(METRIC_RATE_HZ, x.astype(np.float32), y.astype(np.float32), "wb", on_error=PesqError.RETURN_VALUES)
    if value is None or float(value) < 0:  # the package's error codes are negative
        return None
    return float(value)
