"""Shapes, parameter counts and single optimisation steps of the three baseline models."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from tiny_data import TINY_W2V2

from ncst.models import build_model, describe_models
from ncst.models.aasist import RawAASIST
from ncst.models.lcnn import MelLCNN
from ncst.models.w2v2_aasist import W2V2AASIST, W2V2Backend, normalize_waveform


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_parameter_counts_equal_the_spec() -> None:
    assert _count(MelLCNN()) == 973_799
    assert _count(RawAASIST()) == 298_671
    assert _count(W2V2Backend()) == 448_047
    rows = {r.name: r for r in describe_models()}
    assert rows["mel-lcnn"].trainable_parameters == 973_799
    assert rows["aasist"].trainable_parameters == 298_671
    assert rows["w2v2-aasist"].trainable_parameters == 448_047
    assert rows["w2v2-aasist"].frozen_parameters == 315_438_720


def test_mel_lcnn_full_length_shapes() -> None:
    model = MelLCNN().eval()
    spec = model.mel(torch.zeros(1, 64_600))
    assert spec.shape == (1, 80, 505)
    embedding, logits = model(torch.randn(2, 64_600))
    assert embedding.shape == (2, 256)
    assert logits.shape == (2, 7)


def test_aasist_shapes_and_fixed_sinc_filters() -> None:
    model = RawAASIST(n_samples=4000).eval()
    assert model.sinc.shape == (70, 1, 129)
    assert "sinc" not in model.state_dict()
    embedding, logits = model(torch.randn(2, 4000))
    assert embedding.shape == (2, 160)
    assert logits.shape == (2, 7)


def test_w2v2_backend_full_size_shapes() -> None:
    embedding, logits = W2V2Backend().eval()(torch.randn(2, 201, 1024))
    assert embedding.shape == (2, 160)
    assert logits.shape == (2, 7)


def test_w2v2_frontend_is_frozen_and_per_utterance_normalised() -> None:
    model = W2V2AASIST(frontend=TINY_W2V2, layer=1, n_samples=1600).eval()
    assert all(not p.requires_grad for p in model.frontend.parameters())
    model.train()
    assert not model.frontend.training
    assert model.backend.training
    model.eval()
    a, b = torch.randn(1, 1600), 5 * torch.randn(1, 1600) + 1
    emb_alone, _ = model(a)
    emb_batched, _ = model(torch.cat([a, b]))
    torch.testing.assert_close(emb_alone[0], emb_batched[0], rtol=1e-4, atol=1e-5)
    batch_model = W2V2AASIST(frontend=TINY_W2V2, layer=1, normalization="batch", n_samples=1600)
    batch_model.load_state_dict(model.state_dict())
    emb_b, _ = batch_model.eval()(torch.cat([a, b]))
    assert not torch.allclose(emb_b[0], emb_alone[0], atol=1e-3)
    x = torch.cat([a, b])
    torch.testing.assert_close(normalize_waveform(x, "utterance").std(dim=1, unbiased=False), torch.ones(2))
    assert abs(float(normalize_waveform(x, "batch").std(unbiased=False)) - 1) < 1e-4


def test_w2v2_checkpoint_state_keeps_a_random_frontend() -> None:
    model = W2V2AASIST(frontend=TINY_W2V2, layer=1)
    assert any(k.startswith("frontend.") for k in model.checkpoint_state())
    assert model.config()["normalization"] == "utterance"


@pytest.mark.parametrize(
    ("name", "config", "n"),
    [
        ("mel-lcnn", {"n_samples": 2048}, 2048),
        ("aasist", {"n_samples": 4000}, 4000),
        ("w2v2-aasist", {"frontend": TINY_W2V2, "layer": 1, "n_samples": 1600}, 1600),
    ],
)
def test_one_step_lowers_the_loss(name: str, config: dict, n: int) -> None:
    torch.manual_seed(0)
    model = build_model(name, config).train()
    x, y = torch.randn(6, n), torch.arange(6) % 7
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-4, weight_decay=5e-4)

    def loss_with_fixed_dropout() -> torch.Tensor:
        torch.manual_seed(1)
        return F.cross_entropy(model(x)[1], y)

    before = loss_with_fixed_dropout()
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss_with_fixed_dropout()
    assert float(after) < float(before.detach())


def test_w2v2_truncation_keeps_the_chosen_hidden_state() -> None:
    config = {**TINY_W2V2, "num_hidden_layers": 4}
    full = W2V2AASIST(frontend=config, layer=1, truncate=False).eval()
    cut = W2V2AASIST(frontend=config, layer=1).eval()
    assert len(cut.frontend.encoder.layers) == 2
    assert len(full.frontend.encoder.layers) == 4
    x = torch.randn(2, 1600)
    torch.testing.assert_close(cut.extract_features(x), full.extract_features(x))
