"""Vocos on EnCodec tokens (st-codecfake-plus class 12): class 4's tokens, another decoder, a guarded config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("vocos")
pytest.importorskip("encodec")

from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.codecs.vocos import HF_REPO, VocosCodec
from ncst.errors import WeightsError


def _clip(duration_s: float = 0.3, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("vocos").load("random", seed=0)


@pytest.fixture(scope="module")
def encodec() -> Codec:
    return get_codec("encodec@6kbps").load("random", seed=0)


def test_vocos_card_numbers() -> None:
    card = get_card("vocos")
    assert card.spec == "vocos@encodec_6kbps"
    assert card.class_id is None
    assert (card.sample_rate_hz, card.n_quantizers, card.frame_rate_hz, card.codebook_size) == (24000, 8, 75.0, 1024)
    assert card.nominal_bitrate_bps == card.effective_bitrate_bps == 6000.0
    assert (card.checkpoint, card.upstream_package, card.upstream_version) == (f"hf://{HF_REPO}", "vocos", "0.1.0")
    assert card.pip_extra == "vocos"


def test_vocos_conformance_with_random_weights(codec: Codec) -> None:
    report = check_codec(codec, duration_s=0.3)
    assert report.ok, report.to_dict()


def test_vocos_tokens_are_encodec_6kbps_tokens(codec: Codec, encodec: Codec) -> None:
    x = _clip()
    assert torch.equal(codec.encode(x).levels[0], encodec.encode(x).levels[0])


def test_vocos_decoder_is_not_encodec_decoder(codec: Codec, encodec: Codec) -> None:
    x = _clip()
    assert not torch.allclose(codec.resynthesize(x), encodec.resynthesize(x), atol=1e-3)


def test_vocos_decoder_follows_the_bandwidth_embedding(codec: Codec) -> None:
    assert isinstance(codec, VocosCodec)
    assert codec.card.extra["bandwidth_id"] == 2  # 6 kbps in [1.5, 3, 6, 12]
    assert codec.model.backbone.norm.scale.num_embeddings == 4


def test_vocos_local_folder_needs_encodec_file(codec: Codec, tmp_path: Path) -> None:
    folder = codec.save_local(tmp_path / "saved")
    (folder / "encodec_24khz.th").unlink()
    with pytest.raises(WeightsError, match="encodec_24khz"):
        get_codec("vocos").load(folder)


def test_vocos_config_naming_another_class_is_refused(codec: Codec, tmp_path: Path) -> None:
    folder = codec.save_local(tmp_path / "saved")
    config = folder / "config.yaml"
    marker = tmp_path / "ran"
    text = config.read_text().replace("vocos.models.VocosBackbone", "os.system")
    config.write_text(text.replace("input_channels: 128", f"input_channels: 'touch {marker}'"))
    with pytest.raises(WeightsError, match="backbone must be"):
        get_codec("vocos").load(folder)
    assert not marker.exists()


def test_vocos_config_with_unknown_argument_is_refused(codec: Codec, tmp_path: Path) -> None:
    folder = codec.save_local(tmp_path / "saved")
    config = folder / "config.yaml"
    config.write_text(config.read_text().replace("n_fft: 1280", "n_fft: 1280\n    evil: 1"))
    with pytest.raises(WeightsError, match="head.init_args.evil"):
        get_codec("vocos").load(folder)


def test_vocos_weight_files_name_the_hub_files_and_encodec() -> None:
    names = [f.path.name for f in get_codec("vocos").weight_files()]
    assert names == ["config.yaml", "pytorch_model.bin", "encodec_24khz-d7cc33bc.th"]
