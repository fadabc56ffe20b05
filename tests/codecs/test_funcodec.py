"""FunCodec adapter: cards and variants, conformance, loudness, the CPU patch, local and hub loading.

The nq32ds640 model (57.8 M parameters) is built once per module with random weights (seed 0); variant
tests build their own. No test needs the network.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("funcodec")


from ncst.codecs.conformance import check_codec
from ncst.codecs.funcodec import ARCHITECTURES, FunCodecCodec, save_checkpoint
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import MissingDependencyError, WeightsError
from ncst.testing import make_sine

pytestmark = pytest.mark.filterwarnings("ignore:distutils Version classes are deprecated:DeprecationWarning")

EN_DS640 = "alibaba-damo/audio_codec-encodec-en-libritts-16k-nq32ds640-pytorch"


@pytest.fixture(scope="module")
def codec() -> FunCodecCodec:
    return FunCodecCodec().load("random", seed=0)


@pytest.fixture(scope="module")
def varying() -> torch.Tensor:
    """0.5 s + 13 samples (off-hop): a 220 Hz sine then a 1 kHz sine, `[1, 8013]`."""
    a = torch.from_numpy(make_sine(16000, 0.25, 220.0, seed=1))
    b = torch.from_numpy(make_sine(16000, 0.25, 1000.0, seed=2))
    return torch.cat([a, b, a[:13]]).unsqueeze(0)


@pytest.mark.parametrize(
    ("spec", "prefix", "bit_width", "n_q", "effective_bps"),
    [
        ("funcodec", "funcodec", 16000, 32, 8000),
        ("funcodec@3kbps", "C3-1", 3000, 12, 3000),
        ("funcodec@6kbps", "C3-2", 6000, 24, 6000),
        ("funcodec@12kbps", "C3-3", 12000, 32, 8000),
        ("funcodec@24kbps", "C3-4", 24000, 32, 8000),
    ],
)
def test_cards_follow_bit_width_cap(spec: str, prefix: str, bit_width: int, n_q: int, effective_bps: int) -> None:
    card = get_card(spec)
    assert (card.class_id, card.file_prefix, card.sample_rate_hz, card.frame_rate_hz) == (
        3,
        prefix,
        16000,
        25.0,
    )
    assert (card.n_quantizers, card.extra["bit_width"], card.nominal_bitrate_bps) == (
        n_q,
        bit_width,
        bit_width,
    )
    assert card.effective_bitrate_bps == effective_bps == card.frame_rate_hz * n_q * math.log2(card.codebook_size)
    assert card.checkpoint == f"hf://{EN_DS640}/model.pth"
    assert card.extra["hf_repo_id"] == EN_DS640
    assert (card.upstream_package, card.pip_extra) == ("ms-funcodec", "funcodec")


def test_ds640_architecture_has_readme_size(codec: FunCodecCodec) -> None:
    generator = codec.model.encoder, codec.model.quantizer, codec.model.decoder
    n_params = sum(p.numel() for part in generator for p in part.parameters())
    n_params += sum(p.numel() for p in codec.model.discriminator.parameters())
    assert ARCHITECTURES["ds640"].hop_length == 640
    assert round(n_params / 1e6, 2) == 57.83  # FunCodec README, nq32ds640 rows


def test_conformance_random_ok(codec: FunCodecCodec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.n_quantizers == 32
    assert abs(report.measured_bitrate_bps - 8000) <= 80


def test_variants_quantizers_bitrates_and_capped_identity(codec: FunCodecCodec, varying: torch.Tensor) -> None:
    main = codec.resynthesize(varying)
    for variant, n_q, bps in (
        ("3kbps", 12, 3000),
        ("6kbps", 24, 6000),
        ("12kbps", 32, 8000),
        ("24kbps", 32, 8000),
    ):
        other = get_codec(f"funcodec@{variant}").load("random", seed=0)
        codes = other.encode(varying)
        assert codes.n_quantizers == n_q, variant
        assert abs(codes.bitrate_bps() - bps) <= 0.01 * bps, variant
        if variant == "3kbps":  # the full check once for a dropped-quantizer setting
            report = check_codec(other)
            assert report.ok, report.to_dict()
            assert report.n_quantizers == 12, report.to_dict()
        if n_q == 32:  # C3-3 = C3-4 = main set, as in the official data
            assert torch.equal(other.resynthesize(varying), main), variant


def test_codes_non_degenerate_per_level(codec: FunCodecCodec, varying: torch.Tensor) -> None:
    codes = codec.encode(varying)
    level = codes.levels[0]
    assert level.shape == (1, 32, math.ceil(varying.shape[-1] / 640))
    assert codes.covered_samples == level.shape[-1] * 640
    for q in range(level.shape[1]):
        assert torch.unique(level[0, q]).numel() >= 3, f"level {q} is degenerate: {level[0, q].tolist()}"


def test_loudness_scale_is_carried_and_reapplied(codec: FunCodecCodec, varying: torch.Tensor) -> None:
    loud, quiet = codec.encode(varying), codec.encode(0.1 * varying)
    assert torch.equal(loud.levels[0], quiet.levels[0])  # codes see RMS-normalised audio
    rms = varying.pow(2).mean().sqrt()
    assert torch.allclose(loud.extra["scale"], rms.reshape(1), rtol=1e-5)
    y_loud, y_quiet = codec.resynthesize(varying), codec.resynthesize(0.1 * varying)
    assert torch.allclose(y_quiet, 0.1 * y_loud, rtol=1e-4, atol=1e-6)
    unit = codec.decode(type(loud)(loud.levels, loud.codebook_size, loud.covered_samples, 16000, {}))
    assert torch.allclose(codec.decode(loud), unit * rms, rtol=1e-4, atol=1e-6)


def test_decode_matches_upstream_encode_with_recon(codec: FunCodecCodec, varying: torch.Tensor) -> None:
    with torch.inference_mode():
        recon = codec.model.inference_encoding(varying.unsqueeze(1), need_recon=True, bit_width=16000)
    assert torch.allclose(codec.resynthesize(varying), recon["recon_speech"][:, 0], atol=1e-6)


def test_odd_length_batch_roundtrip(codec: FunCodecCodec) -> None:
    x = torch.stack([torch.from_numpy(make_sine(16000, 0.2, f)) for f in (150.0, 600.0)])[:, :3201]
    y = codec.resynthesize(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


def test_same_seed_same_model_other_seed_differs(codec: FunCodecCodec, varying: torch.Tensor) -> None:
    y0 = codec.resynthesize(varying)
    assert not torch.equal(FunCodecCodec().load("random", seed=1).resynthesize(varying), y0)
    assert torch.equal(FunCodecCodec().load("random", seed=0).resynthesize(varying), y0)


def test_cpu_patch_is_scoped_to_the_build(codec: FunCodecCodec) -> None:
    from funcodec.models import codec_basic

    assert codec_basic.Audio2Mel.__name__ == "Audio2Mel"  # upstream class back in place
    patched = type(codec.model.mel_spec_transforms[0])
    assert patched.__name__ == "CpuAudio2Mel"
    assert issubclass(patched, codec_basic.Audio2Mel)
    assert codec.model.mel_spec_transforms[0].mel_basis.device.type == "cpu"


def test_local_path_loading_matches(codec: FunCodecCodec, varying: torch.Tensor, tmp_path: Path) -> None:
    config_path, weights_path = save_checkpoint(codec.model, codec.config, tmp_path / "ckpt")
    expected = codec.resynthesize(varying)
    for where in (tmp_path / "ckpt", weights_path):
        loaded = get_codec("funcodec").load(where)
        assert loaded.checkpoint_paths == [config_path.resolve(), weights_path.resolve()]
        assert torch.equal(loaded.resynthesize(varying), expected)


def test_pretrained_downloads_official_files(
    codec: FunCodecCodec, varying: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    save_checkpoint(codec.model, codec.config, tmp_path)
    requested: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        requested.append((repo_id, filename))
        return str(tmp_path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    loaded = get_codec("funcodec@3kbps").load("pretrained")
    assert requested == [(EN_DS640, "config.yaml"), (EN_DS640, "model.pth")]
    assert loaded.encode(varying).n_quantizers == 12


def test_wrong_architecture_checkpoint_is_refused(codec: FunCodecCodec, tmp_path: Path) -> None:
    save_checkpoint(codec.model, codec.config, tmp_path)  # a ds640 checkpoint
    with pytest.raises(WeightsError, match="hop"):
        get_codec("funcodec@ds320_16kbps").load(tmp_path)


def test_path_without_config_raises(tmp_path: Path) -> None:
    (tmp_path / "model.pth").write_bytes(b"")
    with pytest.raises(WeightsError, match="config.yaml"):
        FunCodecCodec().load(tmp_path / "model.pth")


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("funcodec", "funcodec.models", "funcodec.models.codec_basic"):  # as if never installed
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"ncst\[funcodec\]"):
        FunCodecCodec().load("random")
