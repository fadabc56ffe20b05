"""W2V2-AASIST: a frozen XLS-R front end (layer 5) and the SSL AASIST back end of Tak et al.

Front end: transformers' `Wav2Vec2Model` of `facebook/wav2vec2-xls-r-300m` (Babu et al., arXiv 2111.09296;
Apache-2.0), frozen, `hidden_states[5]`. Back end: Tak et al., "Automatic speaker verification spoofing
and deepfake detection using wav2vec 2.0 and data augmentation" (Odyssey 2022). Shapes and the back end's
parameter count (448,047) follow `docs/reference_system.md` §8 (ST-Codecfake reference `model.py: XLSRAASIST`,
commit 4e099b5); the code is our own.

Waveform normalisation: by default each utterance is normalised by its own mean and variance
(``normalization="utterance"``), so an utterance's outputs do not depend on the rest of its batch and its
front-end features can be cached. ``normalization="batch"`` reproduces the reference, which normalises the
whole `[B, 64600]` batch with one mean and one variance (§1.2); its features are not cached.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ncst.errors import MissingDependencyError, NcstError, WeightsError
from ncst.models.base import N_CLASSES, N_SAMPLES, SourceTracingModel
from ncst.models.graph import SpectroTemporalGraph, make_encoder

__all__ = ["XLSR_300M", "XLSR_300M_CONFIG", "NORMALIZATIONS", "normalize_waveform", "W2V2AASIST", "W2V2Backend"]

log = logging.getLogger(__name__)

#: Hub id of the front end used by the paper.
XLSR_300M = "facebook/wav2vec2-xls-r-300m"
#: `Wav2Vec2Config` arguments of XLS-R 300M, for a random-weight front end of the real size (offline timing).
XLSR_300M_CONFIG: dict[str, Any] = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "conv_dim": [512] * 7,
    "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
    "conv_stride": [5, 2, 2, 2, 2, 2, 2],
    "conv_bias": True,
    "feat_extract_norm": "layer",
    "do_stable_layer_norm": True,
    "num_conv_pos_embeddings": 128,
    "num_conv_pos_embedding_groups": 16,
}
#: Waveform normalisation modes.
NORMALIZATIONS = ("utterance", "batch")
_EPS = 1e-7


def normalize_waveform(wave: Tensor, mode: str) -> Tensor:
    """Zero mean, unit variance (population variance, eps 1e-7) per utterance or over the whole batch."""
    if mode == "utterance":
        mean = wave.mean(dim=1, keepdim=True)
        var = wave.var(dim=1, keepdim=True, unbiased=False)
    elif mode == "batch":
        mean, var = wave.mean(), wave.var(unbiased=False)
    else:
        raise NcstError(f"unknown normalization {mode!r}; choose one of {NORMALIZATIONS}")
    return (wave - mean) / torch.sqrt(var + _EPS)


class W2V2Backend(nn.Module):
    """Back end on frozen SSL features `[B, T, 1024]`; returns `(embedding [B, 160], logits [B, 7])`."""

    def __init__(self, feature_dim: int = 1024, n_freq_nodes: int = 42, n_classes: int = N_CLASSES) -> None:
        super().__init__()
        self.proj = nn.Linear(feature_dim, 128)
        self.first_bn = nn.BatchNorm2d(1)
        self.encoder = make_encoder(pool=False)
        self.bn_out = nn.BatchNorm2d(64)
        self.attention = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=1), nn.SELU(), nn.BatchNorm2d(128), nn.Conv2d(128, 64, kernel_size=1)
        )
        self.pos_s = nn.Parameter(torch.randn(1, n_freq_nodes, 64))
        self.graph = SpectroTemporalGraph(pool_ratios=(0.5, 0.5, 0.5, 0.5), n_classes=n_classes)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        x = self.proj(features).transpose(1, 2).unsqueeze(1)  # [B, 1, 128, T]
        x = F.selu(self.first_bn(F.max_pool2d(x, (3, 3))))
        x = F.selu(self.bn_out(self.encoder(x)))  # [B, 64, 42, T/3]
        w = self.attention(x)
        e_s = (x * torch.softmax(w, dim=-1)).sum(dim=-1).transpose(1, 2) + self.pos_s  # [B, 42, 64]
        e_t = (x * torch.softmax(w, dim=-2)).sum(dim=-2).transpose(1, 2)  # [B, T/3, 64]
        return self.graph(e_s, e_t)


def _build_frontend(frontend: str | dict[str, Any], seed: int) -> nn.Module:
    try:
        from transformers import Wav2Vec2Config, Wav2Vec2Model
    except ImportError as err:
        raise MissingDependencyError("W2V2-AASIST needs transformers: pip install 'ncst[benchmark]'") from err
    if isinstance(frontend, dict):  # a config: random weights (tests, offline smoke runs)
        torch.manual_seed(seed)
        return Wav2Vec2Model(Wav2Vec2Config(**frontend))
    log.info("Loading the frozen front end %s", frontend)
    try:
        return Wav2Vec2Model.from_pretrained(frontend)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as err:  # missing, offline, not a Wav2Vec2
        raise WeightsError(
            f"front end {frontend!r} cannot be loaded as a Wav2Vec2Model ({type(err).__name__}: {err}); "
            "give a hub id or a local folder of a pretrained wav2vec 2.0 model"
        ) from err


class W2V2AASIST(SourceTracingModel):
    """Frozen Wav2Vec2 (`hidden_states[layer]`) + AASIST back end; `(embedding [B, 160], logits [B, 7])`.

    Args:
        frontend: A hub id or local folder of a pretrained `Wav2Vec2Model`, or a `Wav2Vec2Config` dict for a
            randomly initialised front end (then `frontend_seed` seeds it and it is saved in checkpoints).
        layer: Index into `hidden_states` (5 = output of the fifth transformer block).
        normalization: ``"utterance"`` (default) or ``"batch"`` (the reference's batch-global statistics).
        frontend_seed: Seed of a random front end.
        truncate: Keep only the first `layer + 1` transformer blocks (the output is unchanged; XLS-R 300M
            then runs 6 of its 24 blocks, about 4x faster).
        n_samples: Input length the data loader fixes waveforms to.
        n_classes: Width of the logits.
    """

    name: ClassVar[str] = "w2v2-aasist"
    input_description: ClassVar[str] = (
        "waveform [B, 64600] at 16 kHz -> frozen XLS-R 300M hidden_states[5] [B, 201, 1024]"
    )
    embedding_dim: ClassVar[int] = 160

    def __init__(
        self,
        frontend: str | dict[str, Any] = XLSR_300M,
        layer: int = 5,
        normalization: str = "utterance",
        frontend_seed: int = 0,
        truncate: bool = True,
        n_samples: int = N_SAMPLES,
        n_classes: int = N_CLASSES,
        **extra: Any,
    ) -> None:
        if normalization not in NORMALIZATIONS:
            raise NcstError(f"unknown normalization {normalization!r}; choose one of {NORMALIZATIONS}")
        super().__init__(
            frontend=frontend, layer=layer, normalization=normalization, frontend_seed=frontend_seed,
            truncate=truncate, n_samples=n_samples, n_classes=n_classes, **extra,
        )  # fmt: skip
        self.frontend = _build_frontend(frontend, frontend_seed)
        fe_config: Any = self.frontend.config
        n_layers = int(fe_config.num_hidden_layers)
        if layer > n_layers or (layer == n_layers and n_layers > 0):
            log.warning("hidden_states[%d] of a %d-layer front end is the final layer-normed state", layer, n_layers)
        elif truncate and layer + 1 < n_layers:
            # hidden_states[layer] is the input of block layer+1, so later blocks never change it: drop them.
            encoder: Any = self.frontend.encoder
            encoder.layers = nn.ModuleList(list(encoder.layers)[: layer + 1])
            fe_config.num_hidden_layers = layer + 1
        self.frontend.requires_grad_(False)
        self.frontend.eval()
        self.layer = layer
        self.normalization = normalization
        hidden = int(fe_config.hidden_size)
        self.backend = W2V2Backend(feature_dim=hidden, n_classes=n_classes)

    @classmethod
    def loads_pretrained(cls, config: dict[str, Any]) -> bool:
        """A hub id or folder as `frontend` loads pretrained weights; a config dict builds random ones."""
        return not isinstance(config.get("frontend", XLSR_300M), dict)

    def train(self, mode: bool = True) -> W2V2AASIST:
        """Switches only the back end; the frozen front end stays in eval mode (no dropout, no masking)."""
        super().train(mode)
        self.frontend.eval()
        return self

    @property
    def caches_features(self) -> bool:
        """Whether front-end features of an utterance are independent of its batch (and can be cached)."""
        return self.normalization == "utterance"

    @torch.no_grad()
    def extract_features(self, wave: Tensor) -> Tensor:
        """Front-end features `[B, T, hidden]` of `[B, N]` waveforms."""
        out = self.frontend(normalize_waveform(wave, self.normalization), output_hidden_states=True)
        return out.hidden_states[self.layer]

    def forward_features(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Back end on front-end features `[B, T, hidden]`."""
        return self.backend(features)

    def forward(self, wave: Tensor) -> tuple[Tensor, Tensor]:
        return self.backend(self.extract_features(wave))

    def checkpoint_state(self) -> dict[str, Tensor]:
        """Back end only for a pretrained front end (reloaded from its hub id); everything for a random one."""
        state = self.state_dict()
        if isinstance(self._config["frontend"], dict):
            return dict(state)
        return {k: v for k, v in state.items() if not k.startswith("frontend.")}
