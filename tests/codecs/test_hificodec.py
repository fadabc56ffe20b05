"""HiFi-Codec adapter and port: conformance, level handling, weight norm, local and (mocked) pretrained loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ncst.codecs.base import Codec, Codes
from ncst.codecs.conformance import check_codec
from ncst.codecs.hificodec import CHECKPOINT_FILE, CONFIG_FILE, HF_REPO_ID, HiFiCodecCodec
from ncst.codecs.ports.hificodec import HiFiCodec, HiFiCodecConfig, WNConv1d, WNConvTranspose1d
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import UntrustedCheckpointError, WeightsError

torch.set_num_threads(1)


def _clip(duration_s: float = 0.4, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("hificodec").load("random", seed=0)


def _model(codec: Codec) -> HiFiCodec:
    assert isinstance(codec, HiFiCodecCodec) and codec.model is not None
    return codec.model


def _upstream_format(codec: Codec, path: Path) -> Path:
    """Writes a checkpoint laid out like the released `HiFi-Codec-24k-320d` (one state dict per part)."""
    torch.save(_model(codec).parts_state_dict(), path)
    return path


def test_hificodec_conformance_random(codec: Codec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(3000.0, rel=1e-6)
    assert report.n_quantizers == 4 and report.distinct_codes > 20


def test_hificodec_card() -> None:
    card = get_card("hificodec")
    assert card.spec == "hificodec@24k_320d"
    assert (card.class_id, card.file_prefix) == (8, "hificodec")
    assert (card.sample_rate_hz, card.frame_rate_hz, card.n_quantizers, card.codebook_size) == (24000, 75.0, 4, 1024)
    assert card.effective_bitrate_bps == card.nominal_bitrate_bps == 3000.0
    assert card.checkpoint == f"hf://{HF_REPO_ID}/{CHECKPOINT_FILE}"
    assert "0.95" in card.notes and card.extra["restore_level"] is True


def test_hificodec_port_matches_checkpoint_layout(codec: Codec) -> None:
    parts = _model(codec).parts_state_dict()
    assert sorted(parts) == ["encoder", "generator", "quantizer"]
    shapes = {f"{p}.{k}": tuple(v.shape) for p, sd in parts.items() for k, v in sd.items()}
    assert shapes["encoder.conv_pre.weight_g"] == (32, 1, 1)
    assert shapes["encoder.ups.3.weight_v"] == (512, 256, 16)
    assert shapes["encoder.normalize.11.weight"] == (512,)
    assert shapes["encoder.conv_post.weight"] == (512, 512, 3)
    assert shapes["quantizer.quantizer_modules2.1.embedding.weight"] == (1024, 256)
    assert shapes["generator.ups.0.weight_v"] == (512, 256, 16)
    assert shapes["generator.resblocks.11.convs1.2.weight_g"] == (32, 1, 1)
    assert shapes["generator.conv_post.weight_g"] == (1, 1, 1)
    assert list(parts["encoder"])[:4] == [
        "conv_pre.bias",
        "conv_pre.weight_g",
        "conv_pre.weight_v",
        "normalize.0.weight",
    ]
    assert sum(p.numel() for p in _model(codec).parameters()) == 63_630_882


def test_weight_norm_convs_load_torch_weight_norm_state() -> None:
    conv = torch.nn.utils.weight_norm(torch.nn.Conv1d(4, 6, 5, stride=2, padding=2, dilation=1))
    ours = WNConv1d(4, 6, 5, 2, padding=2)
    ours.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, 33)
    assert torch.equal(ours(x), conv(x))
    up = torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(6, 3, 8, 4, padding=2))
    ours_up = WNConvTranspose1d(6, 3, 8, 4, padding=2)
    ours_up.load_state_dict(up.state_dict())
    assert torch.equal(ours_up(x.repeat(1, 2, 1)[:, :6]), up(x.repeat(1, 2, 1)[:, :6]))


def test_hificodec_config_reads_upstream_json(tmp_path: Path) -> None:
    raw = {
        "resblock": "1",
        "num_gpus": 8,
        "upsample_rates": [8, 5, 4, 2],
        "upsample_kernel_sizes": [16, 11, 8, 4],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "sampling_rate": 24000,
        "n_code_groups": 2,
    }
    file = tmp_path / CONFIG_FILE
    file.write_text(json.dumps(raw))
    assert HiFiCodecConfig.from_json(file) == HiFiCodecConfig()
    assert HiFiCodecConfig().hop_samples == 320
    with pytest.raises(ValueError, match="resblock"):
        HiFiCodecConfig(resblock="2")


def test_hificodec_codes_shape(codec: Codec) -> None:
    codes = codec.encode(0.1 * torch.randn(2, 9607))
    assert codes.levels[0].shape == (2, 4, 31)  # ceil(9607 / 320)
    assert codes.covered_samples == 31 * 320


def test_hificodec_encodes_the_whole_clip_unpadded(codec: Codec) -> None:
    """Upstream's codes on an off-hop length: the model runs on the clip as it is (T // 320 frames)."""
    x = _clip(30_123 / 24000, seed=3)[:, :30_123]
    with torch.no_grad():
        upstream_way = _model(codec).encode(x / x.abs().max() * 0.95).transpose(1, 2)  # [1, 4, 94]
    codes = codec.encode(x).levels[0]
    assert upstream_way.shape == (1, 4, 94)
    assert torch.equal(codes[..., :94], upstream_way)


def test_hificodec_holds_the_last_frame_off_the_hop(codec: Codec) -> None:
    codes = codec.encode(_clip(30_123 / 24000, seed=3)[:, :30_123])
    assert codes.extra["held_frame"] is True
    assert torch.equal(codes.levels[0][..., -1], codes.levels[0][..., -2])


def test_hificodec_tail_is_codec_audio_not_zeros(codec: Codec) -> None:
    """The last T mod 320 samples carry decoded audio at the clip's level, not a run of exact zeros."""
    x = _clip(30_123 / 24000, seed=3)[:, :30_123]
    y = codec.resynthesize(x)
    tail = y[0, 30_080:]
    assert int((tail == 0).sum()) == 0
    assert float(tail.pow(2).mean().sqrt()) > 0.1 * float(y.pow(2).mean().sqrt())


def test_hificodec_keeps_upstream_audio_before_the_last_frame(codec: Codec) -> None:
    """Decoding the held frame changes nothing before upstream's last frame (it only fades into the tail)."""
    x = _clip(30_123 / 24000, seed=3)[:, :30_123]
    codes = codec.encode(x)
    with torch.no_grad():
        upstream_way = _model(codec).decode(codes.levels[0][..., :94].transpose(1, 2))[:, 0]
    upstream_way = upstream_way * (x.abs().max() / 0.95)
    y = codec.decode(codes, length=30_123)
    torch.testing.assert_close(y[:, : 93 * 320], upstream_way[:, : 93 * 320], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("length", [1, 321, 9607])
def test_hificodec_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length) and torch.isfinite(y).all()


def test_hificodec_keeps_input_level(codec: Codec) -> None:
    x = _clip(0.2)
    loud, quiet = codec.encode(x), codec.encode(0.25 * x)
    assert torch.equal(loud.levels[0], quiet.levels[0])  # peak normalisation: same codes at any level
    y_loud, y_quiet = codec.resynthesize(x), codec.resynthesize(0.25 * x)
    torch.testing.assert_close(y_quiet, 0.25 * y_loud, rtol=1e-4, atol=1e-6)
    bare = Codes(loud.levels, loud.codebook_size, loud.covered_samples, loud.sample_rate_hz)  # no peak: model level
    torch.testing.assert_close(codec.decode(bare, length=x.shape[-1]) * (x.abs().max() / 0.95), y_loud)
    silence = codec.resynthesize(torch.zeros(1, 4000))
    assert torch.isfinite(silence).all()


def test_hificodec_seed_controls_weights(codec: Codec) -> None:
    x = _clip(0.1)
    same = get_codec("hificodec").load("random", seed=0)
    other = get_codec("hificodec").load("random", seed=1)
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


def test_hificodec_loads_upstream_format_file_and_folder(codec: Codec, tmp_path: Path) -> None:
    file = _upstream_format(codec, tmp_path / CHECKPOINT_FILE)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"upsample_rates": [8, 5, 4, 2], "n_code_groups": 2}))
    x = _clip(0.1)
    expected = codec.resynthesize(x)
    from_file = get_codec("hificodec").load(file, seed=3)
    assert torch.equal(from_file.resynthesize(x), expected)
    assert from_file.checkpoint_paths == [file.resolve()]
    from_folder = get_codec("hificodec").load(tmp_path, seed=3)
    assert torch.equal(from_folder.resynthesize(x), expected)


def test_hificodec_rejects_bad_checkpoints(codec: Codec, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=CHECKPOINT_FILE):
        get_codec("hificodec").load(tmp_path)
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a torch checkpoint"):
        get_codec("hificodec").load(junk)
    parts = _model(codec).parts_state_dict()
    partial = tmp_path / "partial"
    torch.save({"encoder": parts["encoder"], "generator": parts["generator"]}, partial)
    with pytest.raises(WeightsError, match="quantizer"):
        get_codec("hificodec").load(partial)
    wrong = tmp_path / "wrong"
    torch.save({**parts, "generator": {**parts["generator"], "conv_post.bias": torch.zeros(2)}}, wrong)
    with pytest.raises(WeightsError, match="architecture"):
        get_codec("hificodec").load(wrong)
    folder = tmp_path / "other_config"
    folder.mkdir()
    _upstream_format(codec, folder / CHECKPOINT_FILE)
    (folder / CONFIG_FILE).write_text(json.dumps({"upsample_rates": [8, 5, 3, 2], "n_code_groups": 2}))
    with pytest.raises(WeightsError, match="describes"):
        get_codec("hificodec").load(folder)


class _Opaque:
    """Not a tensor container: `weights_only=True` refuses to unpickle it."""


def test_hificodec_never_unpickles_objects(tmp_path: Path) -> None:
    file = tmp_path / "pickled"
    torch.save({"encoder": {}, "quantizer": {}, "generator": {}, "h": _Opaque()}, file)
    with pytest.raises(UntrustedCheckpointError, match="trust-checkpoint"):
        get_codec("hificodec").load(file)


def test_hificodec_pretrained_uses_hf_hub(codec: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    file = _upstream_format(codec, tmp_path / CHECKPOINT_FILE)
    calls: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        calls.append((repo_id, filename))
        return str(file)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    loaded = get_codec("hificodec").load("pretrained")
    assert calls == [(HF_REPO_ID, CHECKPOINT_FILE)] and loaded.checkpoint_paths == [file]
    x = _clip(0.1)
    assert torch.equal(loaded.resynthesize(x), codec.resynthesize(x))


def test_hificodec_is_not_batch_safe(codec: Codec) -> None:
    """GroupNorm over time: right padding changes the codes, so batches may only hold equal lengths."""
    assert not codec.batch_safe
    x = _clip(0.1)[:, :2240]  # 7 frames
    alone = codec.encode(x).levels[0]
    in_padded_batch = codec.encode(torch.nn.functional.pad(x, (0, 3200))).levels[0][..., :7]
    assert alone.shape == in_padded_batch.shape == (1, 4, 7)
    assert not torch.equal(alone, in_padded_batch)
