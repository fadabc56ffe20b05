from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ncst.audio import (
    AudioLimits,
    full_scale_of,
    read_audio,
    resample,
    sha256_file,
    to_mono,
    validate_audio,
    write_audio_atomic,
)
from ncst.errors import AudioError


def test_read_audio_downmixes_stereo_flac(tmp_path: Path) -> None:
    stereo = np.stack([np.full(800, 0.2), np.full(800, 0.4)], axis=1).astype(np.float32)
    sf.write(tmp_path / "s.flac", stereo, 8000)
    audio, rate = read_audio(tmp_path / "s.flac")
    assert rate == 8000
    assert audio.shape == (800,)
    assert audio.dtype == np.float32
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
    assert y.shape == (12000,)
    assert y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 24000 / len(y) - 220) < 3
    assert resample(sine_16k, 16000, 16000) is not None
    assert resample(sine_16k, 16000, 16000).shape == sine_16k.shape


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
    assert rate == 16000
    assert data.max() <= 1.0
    assert data.min() >= -1.0
    assert [p.name for p in dest.parent.iterdir()] == ["x.wav"]
    assert len(sha256_file(dest)) == 64


def test_write_audio_atomic_keeps_old_file_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "x.mp9"
    with pytest.raises(AudioError, match="extension"):
        write_audio_atomic(dest, np.zeros(10, np.float32), 16000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_U8", "FLOAT"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_validate_audio_detects_full_scale_clipping_of_each_format(tmp_path: Path, subtype: str, sign: float) -> None:
    x = np.full(1600, 0.2, np.float32)
    x[:400] = sign * 1.0  # 25% of the samples at full scale (16-bit +1.0 is stored as 32767)
    path = tmp_path / "clip.wav"
    sf.write(path, x, 16000, subtype=subtype)
    audio, rate = read_audio(path, mono=False)
    with pytest.raises(AudioError, match=r"clip.wav: clipped \(25.0% of samples at full scale"):
        validate_audio(audio, rate, name=str(path), full_scale=full_scale_of(path))


def test_full_scale_of_integer_formats(tmp_path: Path) -> None:
    expected = {"PCM_16": 32767 / 32768, "PCM_24": 1 - 2**-23, "PCM_U8": 127 / 128, "FLOAT": 1.0}
    for subtype, high in expected.items():
        sf.write(tmp_path / "a.wav", np.zeros(100, np.float32), 16000, subtype=subtype)
        assert full_scale_of(tmp_path / "a.wav") == (-1.0, high)


def test_validate_audio_clipped_channel_is_not_hidden_by_downmix(tmp_path: Path) -> None:
    stereo = np.zeros((1600, 2), np.float32)
    stereo[:, 0] = 0.1
    stereo[:200, 1] = 1.0  # one channel clipped on 6% of the samples
    path = tmp_path / "st.wav"
    sf.write(path, stereo, 16000, subtype="PCM_16")
    audio, rate = read_audio(path, mono=False)
    with pytest.raises(AudioError, match="clipped"):
        validate_audio(audio, rate, name=str(path), full_scale=full_scale_of(path))
    validate_audio(np.full(1600, 0.99, np.float32), 16000, full_scale=full_scale_of(path))  # loud, not clipped


def test_read_audio_directory_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"is a directory, not a file"):
        read_audio(tmp_path)


def _flac_claiming(path: Path, total_frames: int) -> Path:
    """A 1,000-frame FLAC whose STREAMINFO claims `total_frames` (36-bit field at bytes 21.5-25)."""
    sf.write(path, np.full(1000, 0.1, dtype=np.float32), 16000)
    data = bytearray(path.read_bytes())
    word = int.from_bytes(data[18:26], "big") & ~((1 << 36) - 1)
    data[18:26] = (word | total_frames).to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_read_audio_refuses_a_flac_header_claiming_2_36_frames(tmp_path: Path) -> None:
    path = _flac_claiming(tmp_path / "huge.flac", (1 << 36) - 1)
    with pytest.raises(AudioError, match="huge.flac: header claims 68719476735 frames"):
        read_audio(path)


def test_read_audio_flac_of_unknown_length_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="open.flac"):
        read_audio(_flac_claiming(tmp_path / "open.flac", 0))


def test_read_audio_refuses_a_header_claiming_a_huge_channel_count(tmp_path: Path) -> None:
    import struct

    sf.write(tmp_path / "a.wav", np.zeros((1 << 14, 2), dtype=np.float32), 16000, subtype="PCM_16")
    data = bytearray((tmp_path / "a.wav").read_bytes())
    fmt = data.find(b"fmt ")
    data[fmt + 10 : fmt + 12] = struct.pack("<H", 60000)  # channels
    (tmp_path / "many.wav").write_bytes(bytes(data))
    with pytest.raises(AudioError, match="many.wav"):
        read_audio(tmp_path / "many.wav")


def test_read_audio_reads_long_silence_within_the_decode_budget(tmp_path: Path) -> None:
    sf.write(tmp_path / "quiet.flac", np.zeros((16000 * 30, 4), dtype=np.float32), 16000)
    audio, _ = read_audio(tmp_path / "quiet.flac", mono=False)
    assert audio.shape == (4, 16000 * 30)
