"""WavTokenizer adapter and port: conformance, cards, lengths, seeds, upstream-format checkpoints, config YAML."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from ncst.codecs import wavtokenizer as wt
from ncst.codecs.base import Codec, Codes
from ncst.codecs.conformance import check_codec
from ncst.codecs.ports.wavtokenizer import (
    FRAME40,
    FRAME75,
    WavTokenizer,
    WavTokenizerConfig,
    config_from_hparams,
    config_to_hparams,
)
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import UntrustedCheckpointError, WeightsError

torch.set_num_threads(1)

#: Same encoder and codebook as the official configs, a much smaller backbone: checkpoint round trips stay fast.
TINY = replace(FRAME75, dim=64, intermediate_dim=96, num_layers=1)


def _clip(duration_s: float = 0.3, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture
def tiny_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(wt._CONFIGS, "small75", TINY)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("wavtokenizer").load("random", seed=0)


@pytest.fixture(scope="module")
def codec40() -> Codec:
    return get_codec("wavtokenizer@small40").load("random", seed=0)


@pytest.mark.parametrize(("fixture", "bitrate_bps"), [("codec", 900.0), ("codec40", 480.0)])
def test_wavtokenizer_conformance_random(fixture: str, bitrate_bps: float, request: pytest.FixtureRequest) -> None:
    report = check_codec(request.getfixturevalue(fixture))
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(bitrate_bps, rel=1e-6)
    assert report.n_quantizers == 1
    assert report.codebook_size == 4096


@pytest.mark.parametrize(
    ("variant", "prefix", "frame_rate_hz", "bitrate_bps", "ckpt"),
    [("small75", "wavtokenizer", 75.0, 900.0, "WavTokenizer_small_320_24k_4096.ckpt"),
     ("small40", "wavtokenizer_small40", 40.0, 480.0, "WavTokenizer_small_600_24k_4096.ckpt")],
)  # fmt: skip
def test_wavtokenizer_variant_cards(
    variant: str, prefix: str, frame_rate_hz: float, bitrate_bps: float, ckpt: str
) -> None:
    card = get_card(f"wavtokenizer@{variant}")
    assert card is wt.VARIANTS[variant]
    assert (card.class_id, card.file_prefix, card.n_quantizers, card.codebook_size) == (7, prefix, 1, 4096)
    assert card.sample_rate_hz == 24000
    assert card.frame_rate_hz == frame_rate_hz
    assert card.effective_bitrate_bps == bitrate_bps == card.nominal_bitrate_bps
    assert card.checkpoint == f"hf://novateur/WavTokenizer/{ckpt}"
    assert card.extra["bandwidth_id"] == 0
    assert "bandwidth_id" in card.notes
    assert "convert_audio" in card.notes


def test_wavtokenizer_spec_strings() -> None:
    assert get_card("wavtokenizer") is wt.VARIANTS["small75"]
    assert get_card("wavtokenizer:small40") is get_card("wavtokenizer@small40") is wt.VARIANTS["small40"]


@pytest.mark.parametrize(("fixture", "hop"), [("codec", 320), ("codec40", 600)])
def test_wavtokenizer_codes_cover_padded_input(fixture: str, hop: int, request: pytest.FixtureRequest) -> None:
    codes = request.getfixturevalue(fixture).encode(torch.zeros(2, 2401))
    frames = -(-2401 // hop)
    assert codes.levels[0].shape == (2, 1, frames)
    assert codes.levels[0].dtype == torch.int64
    assert codes.covered_samples == frames * hop
    assert codes.extra["bandwidth_id"] == 0


@pytest.mark.parametrize("length", [1, 321, 2401])
def test_wavtokenizer_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length, generator=torch.Generator().manual_seed(length)))
    assert y.shape == (2, length)
    assert torch.isfinite(y).all()


def test_wavtokenizer_codes_vary_and_batch_is_independent(codec: Codec) -> None:
    x = _clip()
    codes = codec.encode(x).levels[0]
    assert int(torch.unique(codes).numel()) >= 5
    both = codec.encode(torch.cat([x, 0.5 * x])).levels[0]
    assert torch.equal(both[:1], codes)
    y_pair = codec.resynthesize(torch.cat([x, 0.5 * x]))
    torch.testing.assert_close(y_pair[:1], codec.resynthesize(x), atol=1e-5, rtol=0)


def test_wavtokenizer_decode_rejects_other_shapes(codec: Codec) -> None:
    bad = Codes(
        levels=(torch.zeros(1, 2, 5, dtype=torch.long),), codebook_size=4096, covered_samples=1600, sample_rate_hz=24000
    )
    with pytest.raises(ValueError, match=r"\[B, 1, T'\]"):
        codec.decode(bad)


def test_wavtokenizer_seed_controls_weights(tiny_variant: None) -> None:
    x = _clip(0.2)
    first, same, other = (get_codec("wavtokenizer").load("random", seed=s) for s in (0, 0, 1))
    assert isinstance(same, wt.WavTokenizerCodec)
    assert isinstance(first, wt.WavTokenizerCodec)
    assert same.model is not None
    assert first.model is not None
    for (name, a), (_, b) in zip(first.model.state_dict().items(), same.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(first.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(first.resynthesize(x), other.resynthesize(x))


def test_wavtokenizer_unfilled_codebook_raises() -> None:
    model = WavTokenizer(TINY).eval()
    with pytest.raises(RuntimeError, match="inited=0"):
        model.encode(torch.zeros(1, 640))


# -- configs -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [FRAME75, FRAME40, TINY])
def test_wavtokenizer_config_from_upstream_yaml(config: WavTokenizerConfig) -> None:
    parsed = config_from_hparams(yaml.safe_load(yaml.safe_dump(config_to_hparams(config))))
    assert parsed == config


def test_wavtokenizer_config_rejects_other_architectures() -> None:
    bad_head = config_to_hparams(FRAME75)
    bad_head["model"]["init_args"]["head"]["init_args"]["hop_length"] = 256
    with pytest.raises(ValueError, match="hop"):
        config_from_hparams(bad_head)
    bad_class = config_to_hparams(FRAME75)
    bad_class["model"]["init_args"]["backbone"]["class_path"] = "decoder.models.VocosResNetBackbone"
    with pytest.raises(ValueError, match="VocosBackbone"):
        config_from_hparams(bad_class)
    with pytest.raises(ValueError, match="init_args"):
        config_from_hparams({"data": {}})


# -- upstream-format checkpoints -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A Lightning-style checkpoint of a random TINY model, in a folder with its config YAML."""
    torch.manual_seed(3)
    model = WavTokenizer(TINY)
    cb = model.feature_extractor.quantizer.stages()[0].codebook
    cb.embed.normal_(0, 0.1)
    cb.inited.fill_(1)
    state = model.state_dict()
    folder = tmp_path_factory.mktemp("wavtokenizer_ckpt")
    lightning = {
        "epoch": 3, "global_step": 1000, "pytorch-lightning_version": "1.8.6",
        "state_dict": {**state, "multiperioddisc.discriminators.0.convs.0.weight": torch.zeros(2),
                       "melspec_loss.mel_spec.spectrogram.window": torch.ones(4)},
        "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_path": "/tmp/x.ckpt",
                                                                "kth_value": torch.tensor(0.5)}},
        "hyper_parameters": {"sample_rate": 24000, "mel_loss_coeff": 45},
    }  # fmt: skip
    torch.save(lightning, folder / wt.VARIANTS["small75"].extra["checkpoint_file"])
    (folder / str(wt.VARIANTS["small75"].extra["config_file"])).write_text(yaml.safe_dump(config_to_hparams(TINY)))
    return folder, state


def _same_state(codec: Codec, state: dict[str, torch.Tensor]) -> bool:
    assert isinstance(codec, wt.WavTokenizerCodec)
    assert codec.model is not None
    loaded = codec.model.state_dict()
    return loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)


def test_wavtokenizer_loads_lightning_folder_and_file(
    tiny_ckpt: tuple[Path, dict[str, torch.Tensor]], tiny_variant: None, tmp_path: Path
) -> None:
    folder, state = tiny_ckpt
    from_folder = get_codec("wavtokenizer").load(folder)
    file = folder / wt.VARIANTS["small75"].extra["checkpoint_file"]
    config_file = folder / wt.VARIANTS["small75"].extra["config_file"]
    assert _same_state(from_folder, state)
    assert from_folder.checkpoint_paths == [file, config_file]
    alone = tmp_path / "renamed.ckpt"  # a lone file: no YAML beside it, the built-in config is used
    os.link(file, alone)
    from_file = get_codec("wavtokenizer").load(alone)
    assert _same_state(from_file, state)
    assert from_file.checkpoint_paths == [alone.resolve()]
    x = _clip(0.2)
    assert torch.equal(from_folder.resynthesize(x), from_file.resynthesize(x))


def test_wavtokenizer_checkpoint_objects_need_trust(
    tmp_path: Path, tiny_variant: None, tiny_ckpt: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    _, state = tiny_ckpt
    file = tmp_path / "with_object.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": {"save_dir": Path("/runs")}}, file)  # a pickled object
    with pytest.raises(UntrustedCheckpointError, match="--trust-checkpoint"):
        get_codec("wavtokenizer").load(file)
    assert _same_state(get_codec("wavtokenizer").load(file, trust_checkpoint=True), state)


def test_wavtokenizer_refuses_yaml_of_other_variant(
    tiny_ckpt: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path
) -> None:
    folder, _ = tiny_ckpt
    ckpt_name = str(wt.VARIANTS["small75"].extra["checkpoint_file"])
    os.link(folder / ckpt_name, tmp_path / ckpt_name)
    (tmp_path / str(wt.VARIANTS["small75"].extra["config_file"])).write_text(yaml.safe_dump(config_to_hparams(FRAME40)))
    with pytest.raises(WeightsError, match="40 tokens/s"):
        get_codec("wavtokenizer").load(tmp_path)


def test_wavtokenizer_rejects_bad_checkpoints(tmp_path: Path, tiny_variant: None) -> None:
    with pytest.raises(WeightsError, match=r"\*\.ckpt"):
        get_codec("wavtokenizer").load(tmp_path)  # a folder without a checkpoint
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a torch checkpoint"):
        get_codec("wavtokenizer").load(junk)
    partial = tmp_path / "partial.ckpt"
    torch.save({"state_dict": {"backbone.embed.weight": torch.zeros(1)}}, partial)
    with pytest.raises(WeightsError, match="does not fit"):
        get_codec("wavtokenizer").load(partial)


def test_wavtokenizer_pretrained_uses_hf_hub(
    tiny_ckpt: tuple[Path, dict[str, torch.Tensor]], tiny_variant: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    folder, state = tiny_ckpt
    calls: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        calls.append((repo_id, filename))
        return str(folder / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    loaded = get_codec("wavtokenizer").load("pretrained")
    assert calls == [("novateur/WavTokenizer", "WavTokenizer_small_320_24k_4096.ckpt")]
    assert _same_state(loaded, state)


def test_wavtokenizer_convert_audio_downmixes_and_resamples() -> None:
    stereo = torch.stack([torch.ones(16000), -torch.ones(16000) * 0.5])  # [2, T] at 16 kHz
    y = wt.convert_audio(stereo, 16000)
    assert y.shape == (24000,)
    assert torch.allclose(y[2000:-2000], torch.full((20000,), 0.25), atol=1e-3)
    assert torch.equal(wt.convert_audio(stereo, 24000), stereo.mean(0))
