from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.audio import AudioLimits, read_audio, resample, sha256_file, to_mono, validate_audio, write_audio_atomic
from ncst.errors import AudioError


def test_read_audio_downmixes_stereo_flac(tmp_path: Path) -> None:
    stereo = np.stack([np.full(800, 0.2), np.full(800, 0.4)], axis=1).astype(np.float32)
    sf.write(tmp_path / "s.flac", stereo, 8000)
    audio, rate = read_audio(tmp_path / "s.flac")
    assert rate == 8000 and audio.shape == (800,) and audio.dtype == np.float32
    assert np.allclose(audio, 0.3, atol=1e-3)
    both, _ = read_audio(tmp_path / "s.flac", mono=False)
    assert both.shape == (2, 800)


def test_read_audio_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found.*nope.wav"):
        read_audio(tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000garbage")
    with pytest.raises(AudioError, match="cannot decode.*bad.wav"):
        read_audio(tmp_path / "bad.wav")


def test_resample_keeps_duration_and_frequency(sine_16k: np.ndarray) -> None:
    y = resample(sine_16k, 16000, 24000)
    assert y.shape == (12000,) and y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 24000 / len(y) - 220) < 3
    assert resample(sine_16k, 16000, 16000) is not None and resample(sine_16k, 16000, 16000).shape == sine_16k.shape


@pytest.mark.parametrize(
    "audio,match",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.zeros(10, np.float32), "too short"),
        (np.array([0.1, np.nan] * 400, np.float32), "NaN"),
        (np.ones(1600, np.float32), "clipped"),
    ],
)
def test_validate_audio_rejects_bad_audio(audio: np.ndarray, match: str) -> None:
    with pytest.raises(AudioError, match=match):
        validate_audio(audio, 16000, name="x.wav")


def test_validate_audio_rejects_absurd_length() -> None:
    with pytest.raises(AudioError, match="absurdly long"):
        validate_audio(np.zeros(16000 * 3, np.float32), 16000, limits=AudioLimits(max_duration_s=2.0))


def test_validate_audio_accepts_normal_speech(sine_16k: np.ndarray) -> None:
    validate_audio(sine_16k, 16000)


def test_to_mono_rejects_3d() -> None:
    with pytest.raises(AudioError):
        to_mono(np.zeros((1, 2, 3), np.float32))


def test_write_audio_atomic_leaves_no_temp_and_clips(tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "x.wav"
    write_audio_atomic(dest, np.array([0.5, 2.0, -3.0], np.float32), 16000)
    data, rate = sf.read(dest, dtype="float32")
    assert rate == 16000 and data.max() <= 1.0 and data.min() >= -1.0
    assert [p.name for p in dest.parent.iterdir()] == ["x.wav"]
    assert len(sha256_file(dest)) == 64


def test_write_audio_atomic_keeps_old_file_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "x.mp9"
    with pytest.raises(AudioError, match="extension"):
        write_audio_atomic(dest, np.zeros(10, np.float32), 16000)
    assert list(tmp_path.iterdir()) == []
