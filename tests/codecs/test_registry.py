from __future__ import annotations

import pytest
import torch

from ncst.codecs import (
    Codec,
    CodecCard,
    Codes,
    available_codecs,
    fit_length,
    get_card,
    get_codec,
    parse_spec,
    register_codec,
)
from ncst.codecs.base import parse_weights
from ncst.errors import NotFittedError, UnknownCodecError, WeightsError


def test_parse_spec_accepts_at_and_colon() -> None:
    assert (parse_spec("encodec@3kbps").name, parse_spec("encodec@3kbps").variant) == ("encodec", "3kbps")
    assert parse_spec("WavTokenizer:small40").variant == "small40"
    assert parse_spec("snac").variant is None


@pytest.mark.parametrize("bad", ["", "@x", "encodec@"])
def test_parse_spec_rejects_malformed(bad: str) -> None:
    with pytest.raises(UnknownCodecError):
        parse_spec(bad)


def test_builtins_are_listed_without_importing_upstream() -> None:
    assert {"mimi", "speechtokenizer", "funcodec", "encodec", "snac", "dac"} <= set(available_codecs())


def test_unknown_codec_lists_choices() -> None:
    with pytest.raises(UnknownCodecError, match="unknown codec 'nope'; available: .*encodec"):
        get_card("nope")


def test_parse_weights_modes(tmp_path) -> None:  # noqa: ANN001
    assert parse_weights("random").is_random
    assert parse_weights("pretrained").mode == "pretrained"
    ckpt = tmp_path / "w.pt"
    ckpt.write_bytes(b"x")
    assert parse_weights(str(ckpt)).path == ckpt.resolve()
    with pytest.raises(WeightsError, match="neither 'pretrained', 'random'"):
        parse_weights("/no/such/file.pt")


def test_fit_length_crops_and_pads() -> None:
    x = torch.arange(6.0).reshape(1, 6)
    assert fit_length(x, 4).tolist() == [[0, 1, 2, 3]]
    assert fit_length(x, 8).tolist() == [[0, 1, 2, 3, 4, 5, 0, 0]]


CARD = CodecCard(
    name="toy",
    variant="v",
    family="Toy",
    class_id=None,
    file_prefix="toy",
    sample_rate_hz=8000,
    n_quantizers=2,
    frame_rate_hz=100.0,
    codebook_size=16,
    nominal_bitrate_bps=800,
    effective_bitrate_bps=800,
    checkpoint="-",
    upstream_package="torch",
    pip_extra="",
    licence="MIT",
    quantizer="RVQ",
    decoder_type="time",
)


@register_codec("toy")
class ToyCodec(Codec):
    """Frames of 80 samples; 2 codes per frame; decoder adds seeded noise and returns a padded signal."""

    VARIANTS = {"v": CARD}
    DEFAULT_VARIANT = "v"

    def _build(self, weights, seed):  # noqa: ANN001
        self.scale = torch.rand(())

    def _encode(self, wav: torch.Tensor) -> Codes:
        frames = -(-wav.shape[-1] // 80)
        x = torch.nn.functional.pad(wav, (0, frames * 80 - wav.shape[-1])).reshape(wav.shape[0], frames, 80)
        level = torch.stack([(x.mean(-1) * 8 + 8).long().clamp(0, 15), (x.std(-1) * 16).long().clamp(0, 15)], 1)
        return Codes(levels=(level,), codebook_size=16, covered_samples=frames * 80, sample_rate_hz=8000)

    def _decode(self, codes: Codes) -> torch.Tensor:
        level = codes.levels[0].float()
        y = (level[:, :1] - 8) / 8 + self.scale * torch.randn(level.shape[0], 1, level.shape[-1])
        return y.repeat_interleave(80, dim=-1)


def test_codec_contract_length_determinism_bitrate() -> None:
    codec = get_codec("toy").load("random", seed=3)
    x = torch.randn(2, 1001) * 0.1
    y = codec.resynthesize(x)
    assert y.shape == (2, 1001)
    assert torch.equal(y, codec.resynthesize(x))
    codes = codec.encode(x)
    assert codes.n_quantizers == 2
    assert codes.bitrate_bps() == pytest.approx(800)
    assert not torch.equal(y, get_codec("toy").load("random", seed=4).resynthesize(x))


def test_codec_does_not_touch_global_rng() -> None:
    codec = get_codec("toy").load("random")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    codec.resynthesize(torch.zeros(1, 160))
    assert torch.equal(torch.rand(3), expected)


def test_codec_before_load_raises() -> None:
    with pytest.raises(NotFittedError, match="call .load"):
        get_codec("toy").encode(torch.zeros(1, 80))


def test_unknown_variant_lists_variants() -> None:
    with pytest.raises(UnknownCodecError, match=r"no variant 'x'.*\['v'\]"):
        get_codec("toy@x")


def test_conformance_on_toy_codec() -> None:
    from ncst.codecs.conformance import check_codec

    report = check_codec("toy", weights="random", duration_s=0.3)
    assert report.ok
    assert report.length_ok
    assert report.deterministic
    assert report.measured_bitrate_bps == pytest.approx(800)
