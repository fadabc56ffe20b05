"""SoundStream adapter and port: conformance, valid-padding geometry, local and (mocked) pretrained loading."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ncst.codecs.base import Codec
from ncst.codecs.batching import BatchLimits, resynthesize_many
from ncst.codecs.conformance import check_codec
from ncst.codecs.ports.soundstream import (
    ALIGNMENT_DELAY,
    SoundStream,
    decoder_output_samples,
    encoder_frames,
    encoder_input_samples,
    plan_padding,
)
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.codecs.soundstream import CHECKPOINT_NAME, CHECKPOINT_URL, SoundStreamCodec
from ncst.errors import UntrustedCheckpointError, WeightsError

torch.set_num_threads(1)


def _clip(duration_s: float = 0.5, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(16000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("soundstream").load("random", seed=0)


def _model(codec: Codec) -> SoundStream:
    assert isinstance(codec, SoundStreamCodec)
    assert codec.model is not None
    return codec.model


def _upstream_format(codec: Codec, path: Path) -> Path:
    """Writes a checkpoint laid out like the v1.0 release: a Lightning dict with discriminators and hparams."""
    state = dict(_model(codec).state_dict())
    state["stft_discriminator.layers.0.weight"] = torch.zeros(32, 1, 7, 7)
    state["wave_discriminators.0.layers.0.bias"] = torch.zeros(4)
    torch.save(
        {
            "epoch": 3,
            "global_step": 1000,
            "pytorch-lightning_version": "2.0.1",
            "state_dict": state,
            "hyper_parameters": {"n_channels": 32, "padding": "same", "sample_rate": 16000},
        },
        path,
    )
    return path


def test_soundstream_conformance_random(codec: Codec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(4000.0, rel=1e-6)
    assert report.n_quantizers == 8
    assert report.distinct_codes > 50


def test_soundstream_card() -> None:
    card = get_card("soundstream")
    assert card.spec == "soundstream@16khz"
    assert (card.class_id, card.file_prefix, card.family) == (11, "soundstream", "SoundStream")
    assert (card.sample_rate_hz, card.frame_rate_hz, card.n_quantizers, card.codebook_size) == (16000, 50.0, 8, 1024)
    assert card.effective_bitrate_bps == card.nominal_bitrate_bps == 4000.0
    assert card.checkpoint == CHECKPOINT_URL
    assert "valid" in card.notes


def test_soundstream_port_keys_match_upstream_layout() -> None:
    model = SoundStream()
    state = model.state_dict()
    assert len(state) == 123
    assert tuple(state["quantizer.weight"].shape) == (8, 1024, 512)
    assert tuple(state["quantizer.code_count"].shape) == (8, 1024)
    assert tuple(state["encoder.layers.2.layers.3.weight"].shape) == (64, 32, 4)  # stride-2 down-conv
    assert tuple(state["decoder.layers.2.layers.0.weight"].shape) == (512, 256, 16)  # stride-8 up-conv
    assert tuple(state["decoder.layers.6.weight"].shape) == (1, 32, 7)
    assert sum(p.numel() for p in model.parameters()) == 11_805_185  # codebooks are buffers


def test_soundstream_geometry_matches_modules() -> None:
    model = SoundStream().eval()
    with torch.no_grad():
        for n in (5314, 6000, 8007):
            assert model.encoder(torch.zeros(1, 1, n)).shape[-1] == encoder_frames(n)
        for f in (18, 25):
            assert model.decoder(torch.zeros(1, 512, f)).shape[-1] == decoder_output_samples(f)
    assert encoder_frames(5313) == 0
    assert encoder_frames(64000) == 184
    assert decoder_output_samples(184) == 53346
    assert encoder_input_samples(184) == 63874
    assert encoder_frames(63874) == 184
    assert encoder_frames(63873) == 183
    assert ALIGNMENT_DELAY == 5264


@pytest.mark.parametrize("n_samples", [1, 320, 8007, 16000])
def test_soundstream_padding_covers_input(n_samples: int) -> None:
    plan = plan_padding(n_samples)
    assert plan.left == ALIGNMENT_DELAY
    assert plan.n_frames == math.ceil((n_samples + 5534) / 320)
    assert encoder_frames(plan.left + n_samples + plan.right) == plan.n_frames
    assert decoder_output_samples(plan.n_frames) >= n_samples > decoder_output_samples(plan.n_frames - 1)


def test_soundstream_codes_shape(codec: Codec) -> None:
    codes = codec.encode(torch.zeros(2, 8007))
    assert codes.levels[0].shape == (2, 8, 43)  # ceil((8007 + 5534) / 320)
    assert codes.covered_samples == 43 * 320
    assert codes.extra["pad_left"] == 5264


@pytest.mark.parametrize("length", [1, 321, 8007])
def test_soundstream_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length)
    assert torch.isfinite(y).all()


def test_soundstream_seed_controls_weights(codec: Codec) -> None:
    x = _clip(0.2)
    same = get_codec("soundstream").load("random", seed=0)
    other = get_codec("soundstream").load("random", seed=1)
    for (name, a), (_, b) in zip(_model(codec).state_dict().items(), _model(same).state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


def test_soundstream_loads_upstream_format_file_and_folder(codec: Codec, tmp_path: Path) -> None:
    file = _upstream_format(codec, tmp_path / CHECKPOINT_NAME)
    x = _clip(0.2)
    expected = codec.resynthesize(x)
    from_file = get_codec("soundstream").load(file, seed=5)
    from_folder = get_codec("soundstream").load(tmp_path, seed=5)
    assert torch.equal(from_file.resynthesize(x), expected)
    assert torch.equal(from_folder.resynthesize(x), expected)
    assert from_file.checkpoint_paths == [file.resolve()] == from_folder.checkpoint_paths


def test_soundstream_rejects_bad_checkpoints(codec: Codec, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=CHECKPOINT_NAME):
        get_codec("soundstream").load(tmp_path)  # folder without the checkpoint
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a torch checkpoint"):
        get_codec("soundstream").load(junk)
    wrong = tmp_path / "wrong.ckpt"
    state = dict(_model(codec).state_dict())
    state["quantizer.weight"] = torch.zeros(4, 1024, 512)
    torch.save({"state_dict": state}, wrong)
    with pytest.raises(WeightsError, match="architecture"):
        get_codec("soundstream").load(wrong)


class _Opaque:
    """Not a tensor container: `weights_only=True` refuses to unpickle it."""


def test_soundstream_never_unpickles_objects(tmp_path: Path) -> None:
    file = tmp_path / "pickled.ckpt"
    torch.save({"state_dict": {}, "callback": _Opaque()}, file)
    with pytest.raises(UntrustedCheckpointError, match="trust-checkpoint"):
        get_codec("soundstream").load(file)
    with pytest.raises(WeightsError, match="no encoder"):  # opted in: unpickled, then found empty
        get_codec("soundstream").load(file, trust_checkpoint=True)


def test_soundstream_pretrained_uses_torch_hub_cache(
    codec: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    source = _upstream_format(codec, tmp_path / "release.ckpt")
    urls: list[str] = []

    def fake_download(url: str, dst: str, **kwargs: object) -> None:
        urls.append(url)
        Path(dst).write_bytes(source.read_bytes())

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    loaded = get_codec("soundstream").load("pretrained")
    cached = tmp_path / "torch" / "hub" / "checkpoints" / CHECKPOINT_NAME
    assert urls == [CHECKPOINT_URL]
    assert loaded.checkpoint_paths == [cached]
    again = get_codec("soundstream").load("pretrained")  # cached: no second download
    assert urls == [CHECKPOINT_URL]
    assert again.checkpoint_paths == [cached]
    x = _clip(0.2)
    assert torch.equal(loaded.resynthesize(x), codec.resynthesize(x))


def test_soundstream_is_batch_safe(codec: Codec) -> None:
    assert codec.batch_safe
    g = torch.Generator().manual_seed(3)
    clips = [0.2 * torch.randn(n, generator=g) for n in (4007, 5123, 7200)]
    batched = resynthesize_many(codec, clips, BatchLimits(max_items=8, max_pad_ratio=2.0))
    for got, clip in zip(batched, clips):
        want = codec.resynthesize(clip[None])[0]
        assert got.shape == want.shape
        assert (got - want).abs().max().item() < 1e-4
