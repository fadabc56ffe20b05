"""AudioDec adapter and port: conformance, card, batching vs streaming, upstream-layout loading, (mocked) release."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from ncst.classes import class_by_key
from ncst.codecs.audiodec import (
    AUTOENCODER_DIR,
    CHECKPOINT_NAME,
    RELEASE_URL,
    VARIANTS,
    VOCODER_DIR,
    AudioDecCodec,
)
from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.ports.audiodec import AudioDec, CausalConv1d, CausalConvTranspose1d, recording_context
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import UntrustedCheckpointError, WeightsError


def _clip(duration_s: float = 0.5, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("audiodec").load("random", seed=0)


def _model(codec: Codec) -> AudioDec:
    assert isinstance(codec, AudioDecCodec) and codec.model is not None
    return codec.model


def test_audiodec_conformance_random(codec: Codec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(6400.0, rel=1e-6)
    assert report.n_quantizers == 8 and report.codebook_size == 1024


def test_audiodec_card() -> None:
    card = get_card("audiodec")
    assert card is VARIANTS["libritts_v1"] and card.spec == "audiodec@libritts_v1"
    assert (card.class_id, card.file_prefix, card.sample_rate_hz) == (10, "audiodec", 24000)
    assert (card.frame_rate_hz, card.n_quantizers, card.codebook_size) == (80.0, 8, 1024)
    assert card.effective_bitrate_bps == card.nominal_bitrate_bps == 6400.0
    assert card.checkpoint == RELEASE_URL and "weights_only" in card.notes and "CC BY-NC" in card.licence
    row = class_by_key("audiodec")
    assert (row.class_id, row.file_prefix) == (card.class_id, card.file_prefix)


def test_audiodec_codes_cover_padded_input(codec: Codec) -> None:
    codes = codec.encode(0.1 * torch.randn(2, 2401))
    assert codes.levels[0].shape == (2, 8, 9)  # ceil(2401 / 300)
    assert codes.covered_samples == 9 * 300 and codes.extra["input_samples"] == 2401


def test_audiodec_codes_vary_per_level(codec: Codec) -> None:
    codes = codec.encode(_clip()).levels[0]  # [1, 8, 40]
    assert codes.shape == (1, 8, 40)
    distinct = [int(torch.unique(codes[:, q]).numel()) for q in range(8)]
    assert min(distinct) >= 5, distinct


@pytest.mark.parametrize("length", [1, 301, 2401])
def test_audiodec_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length) and torch.isfinite(y).all()


def test_audiodec_batch_equals_single_items(codec: Codec) -> None:
    x = torch.cat([_clip(0.3, seed=1), _clip(0.3, seed=2)])
    batched = codec.encode(x).levels[0]
    singles = torch.cat([codec.encode(x[i : i + 1]).levels[0] for i in range(2)])
    assert torch.equal(batched, singles)
    y = codec.resynthesize(x)
    y_single = torch.cat([codec.resynthesize(x[i : i + 1]) for i in range(2)])
    assert (y - y_single).abs().max().item() < 1e-5


def test_audiodec_one_pass_equals_chunked_streaming(codec: Codec) -> None:
    """The batched pass after the warm-up equals streaming the same clip chunk by chunk (3 frames a chunk)."""
    model = copy.deepcopy(_model(codec))
    x = _clip(0.3).reshape(1, 1, -1)[..., :7200]
    with torch.no_grad():
        codes = model.encode(x)
        y = model.decode(codes)
        with recording_context(model, from_current=True):
            streamed = torch.cat([model.encode(x[..., i : i + 900]) for i in range(0, 7200, 900)], dim=-1)
            y_streamed = torch.cat([model.decode(streamed[..., i : i + 3]) for i in range(0, 24, 3)], dim=-1)
    assert torch.equal(streamed, codes)
    assert (y_streamed - y).abs().max().item() < 1e-5


def test_audiodec_warm_up_changes_only_the_first_frames(codec: Codec) -> None:
    primed = _model(codec)
    plain = copy.deepcopy(primed).use_forward_padding()
    assert primed.streaming_state and not plain.streaming_state
    x = _clip(0.5).reshape(1, 1, -1)
    with torch.no_grad():
        a, b = primed.encode(x), plain.encode(x)
    assert not torch.equal(a[..., :5], b[..., :5])
    assert torch.equal(a[..., 30:], b[..., 30:])  # past the encoder's 7209-sample receptive field


def test_audiodec_seed_controls_weights(codec: Codec) -> None:
    x = _clip(0.2)
    same = get_codec("audiodec").load("random", seed=0)
    other = get_codec("audiodec").load("random", seed=1)
    for (name, a), (_, b) in zip(_model(codec).state_dict().items(), _model(same).state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


# -- files in upstream's layout ----------------------------------------------------------------------------


def _write_upstream_layout(root: Path, codec: Codec) -> Path:
    """`codec.save_local(root)`, with checkpoints of the full structure upstream's trainer writes."""
    codec.save_local(root)
    model = _model(codec)
    for sub, module in [(AUTOENCODER_DIR, model.autoencoder), (VOCODER_DIR, model.vocoder)]:
        torch.save(_trainer_checkpoint(module), root / "exp" / sub / CHECKPOINT_NAME)
    return root


def _trainer_checkpoint(generator: torch.nn.Module) -> dict[str, Any]:
    """What upstream's `trainer/trainerGAN.py` `save_checkpoint` writes (Adam + StepLR/MultiStepLR states)."""
    probe = torch.nn.Linear(2, 2)  # optimizer/scheduler states of the same kinds, kept small
    optimizer = torch.optim.Adam(probe.parameters(), lr=2e-4, betas=(0.5, 0.9))
    probe(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    step_lr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=200000, gamma=1.0)
    multi_step = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[200000, 400000], gamma=0.5)
    return {
        "optimizer": {"generator": optimizer.state_dict(), "discriminator": optimizer.state_dict()},
        "scheduler": {"generator": step_lr.state_dict(), "discriminator": multi_step.state_dict()},
        "steps": 500000,
        "epochs": 12,
        "model": {"generator": generator.state_dict(), "discriminator": probe.state_dict()},
    }


def test_audiodec_loads_upstream_layout(codec: Codec, tmp_path: Path) -> None:
    root = _write_upstream_layout(tmp_path / "AudioDec", codec)
    x = _clip(0.2)
    reference = codec.resynthesize(x)
    for path in (root, root / "exp"):  # a clone with exp/, or exp/ itself (the HF mirror's layout)
        loaded = get_codec("audiodec").load(path)
        assert torch.equal(loaded.resynthesize(x), reference)
        exp = root / "exp"
        assert loaded.checkpoint_paths == [
            exp / AUTOENCODER_DIR / "config.yml",
            exp / AUTOENCODER_DIR / CHECKPOINT_NAME,
            exp / VOCODER_DIR / "config.yml",
            exp / VOCODER_DIR / CHECKPOINT_NAME,
        ]


def test_audiodec_save_local_writes_upstream_layout(codec: Codec, tmp_path: Path) -> None:
    root = codec.save_local(tmp_path / "saved")
    for sub, model_type in [(AUTOENCODER_DIR, "symAudioDec"), (VOCODER_DIR, "HiFiGAN")]:
        config = yaml.safe_load((root / "exp" / sub / "config.yml").read_text())
        assert (config["model_type"], config["sampling_rate"]) == (model_type, 24000)
        checkpoint = torch.load(root / "exp" / sub / CHECKPOINT_NAME, weights_only=True)
        assert set(checkpoint) == {"model"} and set(checkpoint["model"]) == {"generator"}
    with zipfile.ZipFile(root / "exp.zip") as zf:
        assert sorted(zf.namelist()) == sorted(
            f"exp/{sub}/{name}" for sub in (AUTOENCODER_DIR, VOCODER_DIR) for name in ("config.yml", CHECKPOINT_NAME)
        )


def test_audiodec_rejects_incomplete_folder(codec: Codec, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="symAD_libritts_24000_hop300"):
        get_codec("audiodec").load(tmp_path)
    root = _write_upstream_layout(tmp_path / "up", codec)
    (root / "exp" / VOCODER_DIR / "config.yml").unlink()
    with pytest.raises(WeightsError, match="AudioDec_v1_symAD_libritts_24000_hop300_clean"):
        get_codec("audiodec").load(root)


def test_audiodec_rejects_other_architecture(codec: Codec, tmp_path: Path) -> None:
    root = _write_upstream_layout(tmp_path, codec)
    config_file = root / "exp" / AUTOENCODER_DIR / "config.yml"
    config = yaml.safe_load(config_file.read_text())
    config["generator_params"]["codec"] = "activate_audiodec"
    config_file.write_text(yaml.safe_dump(config))
    with pytest.raises(WeightsError, match="activate_audiodec"):
        get_codec("audiodec").load(root)


class _Payload:  # any non-tensor object: weights_only=True refuses to unpickle it
    pass


def test_audiodec_refuses_checkpoint_that_needs_unpickling(codec: Codec, tmp_path: Path) -> None:
    root = _write_upstream_layout(tmp_path, codec)
    file = root / "exp" / VOCODER_DIR / CHECKPOINT_NAME
    torch.save({"model": {"generator": _model(codec).vocoder.state_dict()}, "extra": _Payload()}, file)
    with pytest.raises(UntrustedCheckpointError, match="--trust-checkpoint"):
        get_codec("audiodec").load(root)
    x = _clip(0.2)
    trusted = get_codec("audiodec").load(root, trust_checkpoint=True)  # the explicit opt-in
    assert torch.equal(trusted.resynthesize(x), codec.resynthesize(x))


def test_audiodec_rejects_mismatched_state_dict(codec: Codec, tmp_path: Path) -> None:
    root = _write_upstream_layout(tmp_path, codec)
    file = root / "exp" / AUTOENCODER_DIR / CHECKPOINT_NAME
    torch.save({"model": {"generator": _model(codec).vocoder.state_dict()}}, file)
    with pytest.raises(WeightsError, match=r"\['model'\]\['generator'\]"):
        get_codec("audiodec").load(root)


def test_audiodec_pretrained_downloads_release_once(
    codec: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    source = _write_upstream_layout(tmp_path / "release", codec)
    calls: list[str] = []

    def fake_download(url: str, dst: str, *args: object, **kwargs: object) -> None:
        calls.append(url)
        with zipfile.ZipFile(dst, "w") as zf:  # the release archive: exp/... plus other models
            for file in sorted((source / "exp").rglob("*")):
                if file.is_file():
                    zf.write(file, file.relative_to(source).as_posix())
            zf.writestr("exp/vocoder/AudioDec_v1_symAD_vctk_48000_hop300_clean/config.yml", "model_type: HiFiGAN\n")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    x = _clip(0.2)
    first = get_codec("audiodec").load("pretrained")
    second = get_codec("audiodec").load("pretrained")
    assert calls == [RELEASE_URL]
    cache = tmp_path / "torch" / "hub" / "audiodec" / "pretrain_models_v02"
    assert first.checkpoint_paths[1] == cache / "exp" / AUTOENCODER_DIR / CHECKPOINT_NAME
    assert not (cache / "exp" / "vocoder" / "AudioDec_v1_symAD_vctk_48000_hop300_clean").exists()
    assert torch.equal(first.resynthesize(x), codec.resynthesize(x))
    assert torch.equal(second.resynthesize(x), codec.resynthesize(x))


def test_weight_norm_causal_convs_equal_torch_weight_norm_hook() -> None:
    """Bit for bit: the vocoder's convs compute the weight as upstream's `torch.nn.utils.weight_norm` does."""
    torch.manual_seed(4)
    x = torch.randn(2, 32, 40)
    conv = CausalConv1d(32, 64, 5, weight_norm=True)
    hooked = torch.nn.utils.weight_norm(torch.nn.Conv1d(32, 64, 5))
    hooked.load_state_dict(conv.conv.state_dict())
    assert torch.equal(conv(x), hooked(torch.nn.functional.pad(x, (4, 0))))
    deconv = CausalConvTranspose1d(32, 16, 8, 4, weight_norm=True)
    hooked_tr = torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(32, 16, 8, 4))
    hooked_tr.load_state_dict(deconv.deconv.state_dict())
    want = hooked_tr(torch.cat((x[:, :, :1], x), dim=-1))[:, :, 4:-4]
    assert torch.equal(deconv(x), want)


def test_weight_norm_causal_conv_keys_keep_their_order() -> None:
    conv = CausalConv1d(4, 6, 3, weight_norm=True)
    assert list(conv.state_dict()) == ["pad_buffer", "conv.weight_g", "conv.weight_v", "conv.bias"]
