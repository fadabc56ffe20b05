"""Mimi (ST-Codecfake class 1), the speech codec of the Moshi dialogue model.

Codec: Mimi, Défossez et al., "Moshi: a speech-text foundation model for real-time dialogue",
arXiv 2410.00037 (2024). Upstream: the `moshi` package 0.2.13 (github.com/kyutai-labs/moshi), code MIT
(Python package), weights CC-BY 4.0. Weights: `tokenizer-e351c8d8-checkpoint125.safetensors` in the Hugging
Face repo `kyutai/moshiko-pytorch-bf16` (`moshi.models.loaders.DEFAULT_REPO` / `MIMI_NAME`; the same
weights are published as `kyutai/mimi`), fetched with `huggingface_hub.hf_hub_download` into the HF cache.

Mimi has 32 split-RVQ codebooks (1 semantic + 31 acoustic) of 2048 entries at 12.5 frames/s; Moshi uses 8,
which gives 8 x 11 bit x 12.5 Hz = 1100 bps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ncst.codecs.base import Codec, CodecCard, Codes, WeightsSpec
from ncst.codecs.random_init import calibration_signal, seed_residual_codebooks
from ncst.errors import WeightsError

if TYPE_CHECKING:
    from moshi.models.compression import MimiModel

__all__ = ["CHECKPOINT_NAME", "DEFAULT_VARIANT", "HF_REPO", "VARIANTS", "MimiCodec"]

log = logging.getLogger(__name__)

#: Mirrors `moshi.models.loaders.DEFAULT_REPO` / `MIMI_NAME` (the adapter reads them from moshi at load time).
HF_REPO = "kyutai/moshiko-pytorch-bf16"
CHECKPOINT_NAME = "tokenizer-e351c8d8-checkpoint125.safetensors"
SAMPLE_RATE_HZ = 24_000
FRAME_SAMPLES = 1920  # 24000 / 12.5
FRAME_RATE_HZ = SAMPLE_RATE_HZ / FRAME_SAMPLES  # 12.5
CODEBOOK_SIZE = 2048
#: Seconds of calibration audio used to fill the k-means codebooks of a random-weights model (50 frames).
CALIBRATION_S = 4.0


def _card(
    variant: str, n_q: int, class_id: int | None, file_prefix: str, nominal_bitrate_bps: float, notes: str
) -> CodecCard:
    return CodecCard(
        name="mimi",
        variant=variant,
        family="Mimi",
        class_id=class_id,
        file_prefix=file_prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=n_q,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=nominal_bitrate_bps,
        effective_bitrate_bps=FRAME_RATE_HZ * n_q * 11,  # log2(2048) = 11 bit per code
        checkpoint=f"hf://{HF_REPO}/{CHECKPOINT_NAME}",
        checkpoint_sha256=None,  # e351c8d8 in the name is a training-run id, not a hash prefix
        upstream_package="moshi",
        pip_extra="mimi",
        licence="code MIT (moshi Python package); weights CC-BY 4.0",
        quantizer="split RVQ (1 semantic codebook distilled from WavLM + acoustic codebooks, EMA k-means)",
        decoder_type="time domain (SEANet conv + Transformer)",
        notes=notes,
        extra={"num_codebooks": n_q},
    )


VARIANTS: dict[str, CodecCard] = {
    "8q": _card(
        "8q", 8, 1, "mimi", 1100.0,
        "ST-Codecfake class 1 (file prefix mimi_). Table 2 gives 1.1 kbps, 8 Q; the checkpoint is inferred "
        "(kyutai/mimi weights, here from the Moshi repo as moshi's loader does). The number of codebooks the "
        "authors used is not stated; 8 is what Moshi uses and what 1.1 kbps implies. Mimi pads the input to "
        "a multiple of 1920 samples; the base class crops the output back.",
    ),
}
DEFAULT_VARIANT = "8q"


class MimiCodec(Codec):
    """Mimi at a fixed number of codebooks; codes are one level `[B, n_q, ceil(T / 1920)]`."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    def __init__(self, variant: str | None = None, *, device: str | torch.device = "cpu") -> None:
        super().__init__(variant, device=device)
        self.model: MimiModel | None = None

    # -- build -----------------------------------------------------------------------------------------
    def _build(self, weights: WeightsSpec, seed: int) -> None:
        loaders = self._import_upstream("moshi.models.loaders")
        self.checkpoint_paths = []
        n_q = int(self.card.extra["num_codebooks"])
        if weights.mode == "random":
            model = loaders.get_mimi(None, device=self.device, num_codebooks=n_q)
            _seed_kmeans_codebooks(model, seed, self.device)
        elif weights.mode == "pretrained":
            from huggingface_hub import hf_hub_download

            file = Path(hf_hub_download(loaders.DEFAULT_REPO, loaders.MIMI_NAME))
            model = self._load_file(loaders, file, n_q)
        elif weights.mode == "path" and weights.path is not None:
            file = weights.path / loaders.MIMI_NAME if weights.path.is_dir() else weights.path
            if not file.is_file():
                raise WeightsError(
                    f"Mimi weights {str(weights.path)!r}: expected a .safetensors file, a torch file holding "
                    f"{{'model': state_dict}}, or a folder holding {loaders.MIMI_NAME}"
                )
            model = self._load_file(loaders, file, n_q)
        else:
            raise WeightsError(f"unsupported weights {weights!r}; use 'pretrained', 'random' or a path")
        self.model = model.to(self.device).eval()

    def _load_file(self, loaders: Any, file: Path, n_q: int) -> MimiModel:
        try:
            model = loaders.get_mimi(file, device=self.device, num_codebooks=n_q)
        except Exception as err:  # safetensors, unpickling and key-mismatch errors come in several types
            raise WeightsError(f"{file}: not a Mimi checkpoint ({type(err).__name__}: {err})") from err
        self.checkpoint_paths = [file]
        return model

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self._model().encode(wav)  # [B, n_q, ceil(T / 1920)]
        return Codes(
            levels=(codes,),
            codebook_size=CODEBOOK_SIZE,
            covered_samples=int(codes.shape[-1]) * FRAME_SAMPLES,
            sample_rate_hz=SAMPLE_RATE_HZ,
            extra={"input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        if len(codes.levels) != 1:
            raise ValueError(f"{self.card.spec}: expected one code level, got {len(codes.levels)}")
        level = codes.levels[0].to(self.device)
        if level.shape[1] != self.card.n_quantizers:
            raise ValueError(
                f"{self.card.spec}: expected {self.card.n_quantizers} codebooks, got {level.shape[1]}"
            )
        return self._model().decode(level)

    def _model(self) -> MimiModel:
        if self.model is None:
            raise WeightsError(f"{self.card.spec}: model not built")
        return self.model


def _seed_kmeans_codebooks(model: MimiModel, seed: int, device: torch.device) -> None:
    """Fills the all-zero k-means codebooks of both split RVQs from latents of a calibration clip.

    The semantic RVQ (1 codebook) and the acoustic RVQ (31 codebooks) each project the same encoder
    latent with their own `input_proj`; each is seeded from its own projection. All 32 levels are filled.
    """
    g = torch.Generator().manual_seed(seed)
    calib = calibration_signal(SAMPLE_RATE_HZ, CALIBRATION_S, generator=g).to(device)
    with torch.no_grad():
        emb = model.encode_to_latent(calib, quantize=False)  # [1, 512, T']
        quantizer: Any = model.quantizer  # SplitResidualVectorQuantizer
        for rvq in (quantizer.rvq_first, quantizer.rvq_rest):
            projected = rvq.input_proj(emb)[0].T.cpu()  # [T', 256]
            setters = [_codebook_setter(layer._codebook) for layer in rvq.vq.layers]
            seed_residual_codebooks(projected, setters, CODEBOOK_SIZE, generator=g)


def _codebook_setter(codebook: Any) -> Callable[[torch.Tensor], None]:
    def set_codebook(book: torch.Tensor) -> None:
        device = codebook.embedding_sum.device
        codebook.cluster_usage.data.fill_(1.0)
        codebook.embedding_sum.data.copy_(book.to(device))
        codebook._initialized.data.fill_(1.0)
        codebook.register_buffer("_embedding", None, persistent=False)  # drop the cached embedding

    return set_codebook
