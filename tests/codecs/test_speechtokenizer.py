"""SpeechTokenizer adapter: conformance, non-degenerate random codes, seeding, local and hub loading.

The 104 M-parameter model is built once per module (random weights, seed 0); no test needs the network.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("speechtokenizer")


from ncst.codecs.conformance import check_codec
from ncst.codecs.registry import get_card, get_codec
from ncst.codecs.speechtokenizer import (
    HF_REPO_ID,
    HUBERT_AVG_CONFIG,
    SpeechTokenizerCodec,
    save_checkpoint,
)
from ncst.errors import MissingDependencyError, WeightsError
from ncst.testing import make_sine


@pytest.fixture(scope="module")
def codec() -> SpeechTokenizerCodec:
    return SpeechTokenizerCodec().load("random", seed=0)


@pytest.fixture(scope="module")
def varying() -> torch.Tensor:
    """0.5 s + 13 samples (off-hop) of a chirp-like signal: a 220 Hz sine then a 1 kHz sine."""
    a = torch.from_numpy(make_sine(16000, 0.25, 220.0, seed=1))
    b = torch.from_numpy(make_sine(16000, 0.25, 1000.0, seed=2))
    return torch.cat([a, b, a[:13]]).unsqueeze(0)


def test_card_matches_table2() -> None:
    card = get_card("speechtokenizer")
    assert card.spec == "speechtokenizer@hubert_avg"
    assert (card.class_id, card.file_prefix, card.sample_rate_hz) == (2, "speechtokenizer", 16000)
    assert card.effective_bitrate_bps == card.frame_rate_hz * card.n_quantizers * math.log2(card.codebook_size) == 4000
    assert card.checkpoint == f"hf://{HF_REPO_ID}/speechtokenizer_hubert_avg/SpeechTokenizer.pt"


def test_conformance_random_ok(codec: SpeechTokenizerCodec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert abs(report.measured_bitrate_bps - 4000) <= 40


def test_codes_non_degenerate_per_level(codec: SpeechTokenizerCodec, varying: torch.Tensor) -> None:
    codes = codec.encode(varying)
    level = codes.levels[0]
    assert level.shape == (1, 8, math.ceil(varying.shape[-1] / 320))
    assert codes.covered_samples == level.shape[-1] * 320
    for q in range(level.shape[1]):
        assert torch.unique(level[0, q]).numel() >= 3, f"level {q} is degenerate: {level[0, q].tolist()}"


def test_odd_length_batch_roundtrip(codec: SpeechTokenizerCodec) -> None:
    x = torch.stack([torch.from_numpy(make_sine(16000, 0.2, f)) for f in (150.0, 600.0)])[:, :3201]
    y = codec.resynthesize(x)
    assert y.shape == x.shape
    assert y.dtype == torch.float32
    assert torch.isfinite(y).all()


def test_same_seed_same_model_other_seed_differs(codec: SpeechTokenizerCodec, varying: torch.Tensor) -> None:
    y0 = codec.resynthesize(varying)
    other = SpeechTokenizerCodec().load("random", seed=1)
    assert not torch.equal(other.resynthesize(varying), y0)
    del other
    again = SpeechTokenizerCodec().load("random", seed=0)
    assert torch.equal(again.resynthesize(varying), y0)


def test_local_path_loading_matches(codec: SpeechTokenizerCodec, varying: torch.Tensor, tmp_path: Path) -> None:
    assert codec.model is not None
    config_path, weights_path = save_checkpoint(codec.model, HUBERT_AVG_CONFIG, tmp_path / "ckpt")
    expected = codec.resynthesize(varying)
    for where in (tmp_path / "ckpt", weights_path):
        loaded = get_codec("speechtokenizer").load(where)
        assert loaded.checkpoint_paths == [config_path.resolve(), weights_path.resolve()]
        assert torch.equal(loaded.resynthesize(varying), expected)


def test_pretrained_downloads_official_files(
    codec: SpeechTokenizerCodec, varying: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    assert codec.model is not None
    folder = tmp_path / "speechtokenizer_hubert_avg"
    save_checkpoint(codec.model, HUBERT_AVG_CONFIG, folder)
    requested: list[tuple[str, str]] = []

    def fake_download(repo_id: str, filename: str, **kwargs: object) -> str:
        requested.append((repo_id, filename))
        return str(tmp_path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    loaded = SpeechTokenizerCodec().load("pretrained")
    assert requested == [
        ("fnlp/SpeechTokenizer", "speechtokenizer_hubert_avg/config.json"),
        ("fnlp/SpeechTokenizer", "speechtokenizer_hubert_avg/SpeechTokenizer.pt"),
    ]
    assert torch.equal(loaded.resynthesize(varying), codec.resynthesize(varying))


def test_path_without_config_raises(tmp_path: Path) -> None:
    weights = tmp_path / "SpeechTokenizer.pt"
    weights.write_bytes(b"")
    with pytest.raises(WeightsError, match="config.json"):
        SpeechTokenizerCodec().load(weights)


def test_config_sample_rate_mismatch_raises(codec: SpeechTokenizerCodec, tmp_path: Path) -> None:
    assert codec.model is not None
    config_path, _ = save_checkpoint(codec.model, HUBERT_AVG_CONFIG, tmp_path)
    config_path.write_text(json.dumps({**HUBERT_AVG_CONFIG, "sample_rate": 24000}))
    with pytest.raises(WeightsError, match="sample_rate"):
        SpeechTokenizerCodec().load(tmp_path)


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "speechtokenizer", None)
    with pytest.raises(MissingDependencyError, match=r"ncst\[speechtokenizer\]"):
        SpeechTokenizerCodec().load("random")
