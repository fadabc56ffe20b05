"""FACodec adapter (24 kHz FAcodec, both configurations): conformance, cards, codes, local and hub loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.facodec import (
    CHECKPOINT_NAME,
    CONFIG_NAME,
    HF_REPO,
    NS3_FILES,
    NS3_HF_REPO,
    VARIANTS,
    FacodecCodec,
)
from ncst.codecs.facodec_ns3 import FacodecNs3Codec
from ncst.codecs.ports.facodec import FAcodec, FAcodecConfig, NS3FACodec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import WeightsError
from ncst.testing import check_crafted_checkpoint_refused, check_local_round_trip, check_mocked_pretrained

torch.set_num_threads(1)

#: A small network in the upstream config format (same hop, codebooks and quantiser; thin conv stacks).
TINY_DAC = {
    "encoder_dim": 4,
    "encoder_rates": [2, 5, 5, 6],
    "decoder_dim": 16,
    "decoder_rates": [6, 5, 5, 2],
    "sr": 24000,
}


def _clip(duration_s: float = 0.2, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("facodec").load("random", seed=0)


@pytest.fixture(scope="module")
def codec_tn() -> Codec:
    return get_codec("facodec@timbre_norm").load("random", seed=0)


@pytest.fixture(scope="module")
def codec_ns3() -> Codec:
    return get_codec("facodec@ns3").load("random", seed=0)


@pytest.mark.parametrize(
    ("spec", "bitrate_bps"), [("facodec", 6400.0), ("facodec@timbre_norm", 4800.0), ("facodec@ns3", 4800.0)]
)
def test_facodec_conformance_random(
    spec: str, bitrate_bps: float, codec: Codec, codec_tn: Codec, codec_ns3: Codec
) -> None:
    report = check_codec({"facodec": codec, "facodec@timbre_norm": codec_tn, "facodec@ns3": codec_ns3}[spec])
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(bitrate_bps, rel=1e-9)


@pytest.mark.parametrize(
    ("variant", "n_q", "bitrate_bps", "rate_hz"),
    [("24k", 8, 6400.0, 24000), ("timbre_norm", 6, 4800.0, 24000), ("ns3", 6, 4800.0, 16000)],
)
def test_facodec_variant_cards(variant: str, n_q: int, bitrate_bps: float, rate_hz: int) -> None:
    card = get_card(f"facodec@{variant}")
    assert card is VARIANTS[variant]
    assert (card.class_id, card.file_prefix, card.n_quantizers) == (5, "facodec", n_q)
    assert (card.sample_rate_hz, card.frame_rate_hz, card.codebook_size) == (rate_hz, 80.0, 1024)
    assert card.effective_bitrate_bps == bitrate_bps == card.nominal_bitrate_bps
    assert "never name" in card.notes
    assert (card.source, bool(card.checkpoint)) == ("port", variant != "24k")  # no public 8-codebook weights
    assert get_card("facodec").spec == "facodec@24k"


@pytest.mark.parametrize("variant", ["24k", "timbre_norm", "ns3"])
def test_facodec_card_notes_are_one_line(variant: str) -> None:
    notes = get_card(f"facodec@{variant}").notes
    assert len(notes) < 300  # the evidence lives in docs/codecs.md
    assert "docs/codecs.md" in notes


def test_facodec_ns3_spec_builds_its_own_adapter() -> None:
    codec = get_codec("facodec@ns3")
    assert type(codec) is FacodecNs3Codec
    assert codec.card is VARIANTS["ns3"]
    assert type(get_codec("facodec@timbre_norm")) is FacodecCodec


def test_facodec_codes_layout_and_padding(codec: Codec, codec_tn: Codec) -> None:
    codes = codec.encode(torch.zeros(2, 2401))
    assert codes.levels[0].shape == (2, 8, 9)  # ceil(2401 / 300)
    assert codes.covered_samples == 9 * 300 and "timbre" not in codes.extra
    short = codec_tn.encode(torch.zeros(1, 1))
    assert short.levels[0].shape == (1, 6, 4)  # padded to the 1200-sample minimum of the mel front end
    assert short.extra["timbre"].shape == (1, 1024)


@pytest.mark.parametrize("length", [1, 301, 2401])
def test_facodec_output_length_equals_input(codec_tn: Codec, length: int) -> None:
    y = codec_tn.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length) and torch.isfinite(y).all()


def test_facodec_codes_vary_per_codebook(codec: Codec) -> None:
    codes = codec.encode(_clip(0.5)).levels[0]  # [1, 8, 40]
    distinct = [int(torch.unique(codes[:, q]).numel()) for q in range(codes.shape[1])]
    assert min(distinct) >= 5, distinct


def test_facodec_timbre_is_side_information(codec_tn: Codec) -> None:
    codes = codec_tn.encode(_clip())
    assert codes.n_quantizers == 6 and codes.bitrate_bps() == pytest.approx(4800.0)
    other = codec_tn.encode(0.5 * torch.randn(1, 4800, generator=torch.Generator().manual_seed(3)))
    assert not torch.allclose(codes.extra["timbre"], other.extra["timbre"])
    swapped = type(codes)(
        codes.levels,
        codes.codebook_size,
        codes.covered_samples,
        codes.sample_rate_hz,
        {"timbre": other.extra["timbre"]},
    )
    assert not torch.equal(codec_tn.decode(codes), codec_tn.decode(swapped))  # the timbre vector is used
    bare = type(codes)(codes.levels, codes.codebook_size, codes.covered_samples, codes.sample_rate_hz, {})
    with pytest.raises(ValueError, match="timbre"):
        codec_tn.decode(bare)


def test_facodec_seed_controls_weights(codec: Codec) -> None:
    x = _clip()
    same = get_codec("facodec").load("random", seed=0)
    other = get_codec("facodec").load("random", seed=1)
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


# -- checkpoints in the upstream format --------------------------------------------------------------------
def _write_upstream(folder: Path, *, timbre_norm: bool, nested: bool = True, with_config: bool = True) -> Path:
    """Writes a tiny FAcodec checkpoint as upstream trainers do (`net`, DataParallel prefixes) + config.yml."""
    torch.manual_seed(11)
    params: dict[str, Any] = {
        "causal": True,
        "lstm": 0,
        "n_c_codebooks": 2,
        "timbre_norm": timbre_norm,
        "separate_prosody_encoder": True,
        "DAC": TINY_DAC,
    }
    model = FAcodec(FAcodecConfig.from_model_params(params))
    net = {
        name: {f"module.{k}": v for k, v in getattr(model, name).state_dict().items()}
        for name in ("encoder", "quantizer", "decoder")
    }
    net["fa_predictors"] = {"module.heads.0.weight": torch.zeros(2, 2)}  # training-only part, ignored
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / CHECKPOINT_NAME
    torch.save({"net": net, "epoch": 3} if nested else net, file)
    if with_config:
        (folder / CONFIG_NAME).write_text(yaml.safe_dump({"model_params": params}))
    return file


def _reference(timbre_norm: bool) -> FAcodec:
    torch.manual_seed(11)
    params = {"lstm": 0, "timbre_norm": timbre_norm, "DAC": TINY_DAC}
    return FAcodec(FAcodecConfig.from_model_params(params)).eval()


@pytest.mark.parametrize("timbre_norm", [False, True])
def test_facodec_loads_upstream_checkpoint_folder(tmp_path: Path, timbre_norm: bool) -> None:
    file = _write_upstream(tmp_path / "ckpt", timbre_norm=timbre_norm)
    spec = "facodec@timbre_norm" if timbre_norm else "facodec"
    loaded = get_codec(spec).load(tmp_path / "ckpt")
    assert loaded.checkpoint_paths == [file.resolve(), (tmp_path / "ckpt" / CONFIG_NAME).resolve()]
    x = _clip()
    codes = loaded.encode(x)
    assert ("timbre" in codes.extra) is timbre_norm
    with torch.inference_mode():
        want_codes, want_timbre = _reference(timbre_norm).encode(x.unsqueeze(1))  # 4800 = 16 hops
    assert torch.equal(codes.levels[0], want_codes)
    assert loaded.resynthesize(x).shape == x.shape


def test_facodec_reads_amphion_json_config(tmp_path: Path) -> None:
    file = _write_upstream(tmp_path, timbre_norm=False, with_config=False)
    params = {"causal": True, "lstm": 0, "timbre_norm": False, "DAC": TINY_DAC}
    text = json.dumps({"exp_name": "facodec", "model_params": params}, indent=1)
    (tmp_path / "facodec.json").write_text(text.replace("\n}", ",\n}"))  # json5-style trailing commas
    loaded = get_codec("facodec").load(file)
    assert loaded.checkpoint_paths == [file.resolve(), (tmp_path / "facodec.json").resolve()]


def test_facodec_loads_flat_file_without_config(tmp_path: Path) -> None:
    file = _write_upstream(tmp_path, timbre_norm=True, nested=False, with_config=False)
    with pytest.raises(WeightsError, match="does not fit"):  # no config: the released (full-size) params
        get_codec("facodec@timbre_norm").load(file)


def test_facodec_refuses_other_configuration(tmp_path: Path) -> None:
    _write_upstream(tmp_path / "tn", timbre_norm=True)
    with pytest.raises(WeightsError, match="facodec@timbre_norm"):
        get_codec("facodec").load(tmp_path / "tn")
    _write_upstream(tmp_path / "8q", timbre_norm=False)
    with pytest.raises(WeightsError, match="facodec@24k"):
        get_codec("facodec@timbre_norm").load(tmp_path / "8q" / CHECKPOINT_NAME)
    config = tmp_path / "8q" / CONFIG_NAME
    config.write_text(config.read_text().replace("timbre_norm: false", "timbre_norm: true"))
    with pytest.raises(WeightsError, match="says timbre_norm: True"):
        get_codec("facodec").load(tmp_path / "8q")


def test_facodec_rejects_bad_path(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=CHECKPOINT_NAME):
        get_codec("facodec").load(tmp_path)  # empty folder
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a torch checkpoint"):
        get_codec("facodec").load(junk)
    other = tmp_path / "other.pth"
    torch.save({"net": {"generator": {"w": torch.zeros(1)}}}, other)
    with pytest.raises(WeightsError, match="quantizer"):
        get_codec("facodec").load(other)


def test_facodec_pretrained_uses_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    _write_upstream(tmp_path, timbre_norm=True)
    calls: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        calls.append((repo_id, filename))
        return str(tmp_path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    loaded = get_codec("facodec@timbre_norm").load("pretrained")
    assert calls == [(HF_REPO, CHECKPOINT_NAME), (HF_REPO, CONFIG_NAME)]
    assert isinstance(loaded, FacodecCodec) and loaded.model is not None
    with pytest.raises(WeightsError, match="no public checkpoint"):
        get_codec("facodec").load("pretrained")


# -- NS3 FACodec (16 kHz) ----------------------------------------------------------------------------------
def test_facodec_ns3_codes_layout(codec_ns3: Codec) -> None:
    codes = codec_ns3.encode(torch.zeros(2, 401))
    assert codes.levels[0].shape == (2, 6, 3)  # ceil(401 / 200)
    assert codes.covered_samples == 600 and codes.sample_rate_hz == 16000
    assert codes.extra["speaker"].shape == (2, 256)
    assert codec_ns3.encode(torch.zeros(1, 1)).levels[0].shape == (1, 6, 1)
    y = codec_ns3.resynthesize(0.1 * torch.randn(1, 401))
    assert y.shape == (1, 401) and torch.isfinite(y).all()


def test_facodec_ns3_batch_does_not_change_items(codec_ns3: Codec) -> None:
    g = torch.Generator().manual_seed(5)
    x = 0.3 * torch.randn(2, 1600, generator=g)
    both = codec_ns3.encode(x)
    second = codec_ns3.encode(x[1:])
    assert torch.equal(both.levels[0][1:], second.levels[0])
    assert torch.allclose(both.extra["speaker"][1:], second.extra["speaker"], atol=1e-6)
    assert torch.allclose(codec_ns3.resynthesize(x)[1:], codec_ns3.resynthesize(x[1:]), atol=1e-5)


@pytest.fixture(scope="module")
def ns3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two official files of a random NS3 FACodec, decoder with a (tiny) training-only predictor entry."""
    folder = tmp_path_factory.mktemp("ns3")
    torch.manual_seed(21)
    model = NS3FACodec()
    torch.save(model.encoder.state_dict(), folder / NS3_FILES[0])
    decoder = dict(model.decoder.state_dict())
    decoder["x_timbre_predictor.1.heads.0.weight"] = torch.zeros(3, 256)
    torch.save(decoder, folder / NS3_FILES[1])
    return folder


def test_facodec_ns3_loads_official_files(ns3_folder: Path, codec_ns3: Codec) -> None:
    loaded = get_codec("facodec@ns3").load(ns3_folder / NS3_FILES[1])  # either file names the folder
    assert loaded.checkpoint_paths == [ns3_folder / name for name in NS3_FILES]
    torch.manual_seed(21)
    reference = NS3FACodec().eval()
    x = 0.3 * torch.randn(1, 1600, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        want_codes, want_speaker = reference.encode(x.unsqueeze(1))
        want = reference.decode(want_codes, want_speaker)[:, 0]
    codes = loaded.encode(x)
    assert torch.equal(codes.levels[0], want_codes)
    assert torch.equal(loaded.decode(codes), want)
    assert not torch.equal(codes.levels[0], codec_ns3.encode(x).levels[0])  # other weights than seed 0
    with pytest.raises(WeightsError, match="facodec@ns3"):
        get_codec("facodec@timbre_norm").load(ns3_folder)


def test_facodec_ns3_pretrained_uses_hub(ns3_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub

    calls: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        calls.append((repo_id, filename))
        return str(ns3_folder / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    get_codec("facodec@ns3").load("pretrained")
    assert calls == [(NS3_HF_REPO, name) for name in NS3_FILES]
    with pytest.raises(WeightsError, match=NS3_FILES[0]):
        get_codec("facodec@ns3").load(tmp_path)


def test_facodec_ns3_common_checkpoint_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter-contract checks (run there on the default variant only) on the NS3 variant."""
    check_local_round_trip("facodec@ns3", tmp_path / "local")
    check_crafted_checkpoint_refused("facodec@ns3", tmp_path / "crafted")
    check_mocked_pretrained("facodec@ns3", tmp_path / "hub", monkeypatch)
