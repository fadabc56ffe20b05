"""Mimi adapter: conformance, seeded random weights, safetensors and (mocked) Hugging Face loading."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("moshi.models.loaders")

from ncst.codecs.base import Codec
from ncst.codecs.conformance import check_codec
from ncst.codecs.mimi import CHECKPOINT_NAME, HF_REPO, MimiCodec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_card, get_codec
from ncst.errors import MissingDependencyError, WeightsError


def _varying_clip(duration_s: float = 0.5, seed: int = 7) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return calibration_signal(24000, duration_s, generator=g).reshape(1, -1)


def _model_of(codec: Codec) -> torch.nn.Module:
    assert isinstance(codec, MimiCodec)
    assert codec.model is not None
    return codec.model


@pytest.fixture(scope="module")
def codec() -> Codec:
    return get_codec("mimi").load("random", seed=0)


def test_mimi_card() -> None:
    card = get_card("mimi")
    assert (card.variant, card.class_id, card.file_prefix) == ("8q", 1, "mimi")
    assert (card.sample_rate_hz, card.n_quantizers, card.frame_rate_hz, card.codebook_size) == (24000, 8, 12.5, 2048)
    assert card.effective_bitrate_bps == 1100.0 == card.nominal_bitrate_bps
    assert (card.upstream_package, card.pip_extra) == ("moshi", "mimi")


def test_mimi_upstream_checkpoint_names_match_card() -> None:
    from moshi.models import loaders

    assert (loaders.DEFAULT_REPO, loaders.MIMI_NAME) == (HF_REPO, CHECKPOINT_NAME)
    assert get_card("mimi").checkpoint == f"hf://{HF_REPO}/{CHECKPOINT_NAME}"


def test_mimi_conformance_random(codec: Codec) -> None:
    report = check_codec(codec)
    assert report.ok, report.to_dict()
    assert report.measured_bitrate_bps == pytest.approx(1100.0, rel=1e-6)


def test_mimi_codes_vary_per_level(codec: Codec) -> None:
    codes = codec.encode(_varying_clip(1.0)).levels[0]  # [1, 8, 13]
    assert codes.shape == (1, 8, 13)
    distinct = [int(torch.unique(codes[:, q]).numel()) for q in range(codes.shape[1])]
    assert min(distinct) >= 5, distinct


def test_mimi_codebooks_initialised(codec: Codec) -> None:
    model = _model_of(codec)
    books = [m for m in model.modules() if type(m).__name__ == "EuclideanCodebook"]
    assert len(books) == 32
    for book in books:
        assert bool(book._initialized.item())
        assert book.embedding.abs().sum() > 0


@pytest.mark.parametrize("length", [1, 1921, 4001])
def test_mimi_output_length_equals_input(codec: Codec, length: int) -> None:
    y = codec.resynthesize(0.1 * torch.randn(2, length))
    assert y.shape == (2, length)
    assert torch.isfinite(y).all()


def test_mimi_seed_controls_weights(codec: Codec) -> None:
    x = _varying_clip(0.3)
    same = get_codec("mimi").load("random", seed=0)
    other = get_codec("mimi").load("random", seed=1)
    for (name, a), (_, b) in zip(_model_of(codec).state_dict().items(), _model_of(same).state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(codec.resynthesize(x), same.resynthesize(x))
    assert not torch.equal(codec.resynthesize(x), other.resynthesize(x))


@pytest.fixture(scope="module")
def safetensors_file(codec: Codec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from safetensors.torch import save_file

    file = tmp_path_factory.mktemp("mimi") / CHECKPOINT_NAME
    state = {k: v.contiguous() for k, v in _model_of(codec).state_dict().items()}
    save_file(state, str(file))
    return file


def test_mimi_loads_local_safetensors(codec: Codec, safetensors_file: Path) -> None:
    x = _varying_clip(0.3)
    loaded = get_codec("mimi").load(safetensors_file)
    assert loaded.checkpoint_paths == [safetensors_file]
    assert torch.equal(loaded.resynthesize(x), codec.resynthesize(x))
    from_folder = get_codec("mimi").load(safetensors_file.parent)
    assert from_folder.checkpoint_paths == [safetensors_file]


def test_mimi_pretrained_uses_hf_hub(codec: Codec, safetensors_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    calls: list[tuple[object, ...]] = []

    def fake_hf_hub_download(*args: object, **kwargs: object) -> str:
        calls.append(args + tuple(kwargs.values()))
        return str(safetensors_file)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_hf_hub_download)
    loaded = get_codec("mimi").load("pretrained")
    assert calls == [(HF_REPO, CHECKPOINT_NAME)]
    assert loaded.checkpoint_paths == [safetensors_file]
    x = _varying_clip(0.3)
    assert torch.equal(loaded.resynthesize(x), codec.resynthesize(x))


def test_mimi_rejects_bad_path(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=CHECKPOINT_NAME):
        get_codec("mimi").load(tmp_path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a Mimi checkpoint"):
        get_codec("mimi").load(junk)


def test_mimi_missing_package_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("moshi", "moshi.models", "moshi.models.loaders"):  # as if never installed
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"ncst\[mimi\]"):
        get_codec("mimi").load("random")
