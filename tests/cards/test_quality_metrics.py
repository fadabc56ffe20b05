"""Quality metrics against values fixed by their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ncst.cards.metrics import log_spectral_distance, pesq_available, pesq_wb, si_sdr, stoi
from ncst.testing import make_sine


def _speechlike(seconds: float = 3.0, rate: int = 16000) -> np.ndarray:
    """Amplitude-modulated harmonics with pauses, so STOI and PESQ find speech-like frames."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((150, 300, 450, 900, 1800), 1))
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None)
    return (0.3 * voice * envelope).astype(np.float64)


def _zero_mean_orthogonal_noise(x: np.ndarray, seed: int) -> np.ndarray:
    n = np.random.default_rng(seed).standard_normal(x.size)
    n -= n.mean()
    xc = x - x.mean()
    return n - (np.dot(n, xc) / np.dot(xc, xc)) * xc


def test_si_sdr_of_scaled_signal_plus_orthogonal_noise_is_the_closed_form() -> None:
    # SI-SDR(x, a*x + n) with n orthogonal to x (zero-mean) is 10 log10(|a x|^2 / |n|^2) exactly.
    x = make_sine(16000, 1.0).astype(np.float64)
    x -= x.mean()
    n = 0.1 * _zero_mean_orthogonal_noise(x, seed=1)
    expected = 10 * math.log10(np.dot(2.0 * x, 2.0 * x) / np.dot(n, n))
    assert si_sdr(x, 2.0 * x + n) == pytest.approx(expected, abs=1e-9)


def test_si_sdr_does_not_change_with_the_estimate_gain() -> None:
    x = make_sine(16000, 1.0)
    y = x + 0.05 * np.random.default_rng(2).standard_normal(x.size)
    assert si_sdr(x, 5.0 * y) == pytest.approx(si_sdr(x, y), abs=1e-9)


def test_lsd_of_identical_signals_is_zero() -> None:
    x = make_sine(16000, 1.0)
    assert log_spectral_distance(x, x) == 0.0


def test_lsd_of_a_doubled_signal_is_twenty_log10_two() -> None:
    # Every power bin rises by |2|^2, i.e. 20 log10(2) dB, so the RMS over bins is that too.
    x = make_sine(16000, 1.0)
    assert log_spectral_distance(x, 2.0 * x) == pytest.approx(20 * math.log10(2.0), abs=1e-3)


def test_stoi_of_identical_signals_is_one() -> None:
    x = _speechlike()
    assert stoi(x, x) == pytest.approx(1.0, abs=1e-6)


def test_stoi_falls_with_noise() -> None:
    x = _speechlike()
    noisy = x + 0.3 * np.random.default_rng(3).standard_normal(x.size)
    assert stoi(x, noisy) < 0.9


@pytest.mark.skipif(not pesq_available(), reason="pesq is not installed (pip install ncst[pesq])")
def test_pesq_wb_of_identical_signals_is_the_scale_maximum() -> None:
    # P.862.2 maps the best raw score to MOS-LQO 4.644 (the pesq package's own example gives 4.64 for x vs x).
    x = _speechlike()
    assert pesq_wb(x, x) == pytest.approx(4.644, abs=0.01)


def test_metrics_refuse_signals_of_different_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        si_sdr(np.zeros(10), np.zeros(11))


def test_stoi_of_a_clip_too_short_to_score_is_none() -> None:
    x = _speechlike(seconds=0.25)
    assert stoi(x, x) is None
