"""Mimi (ST-Codecfake class 1), the speech codec of the Moshi dialogue model.

Codec: Mimi, Défossez et al., "Moshi: a speech-text foundation model for real-time dialogue",
arXiv 2410.00037 (2024). Upstream: the `moshi` package 0.2.13 (github.com/kyutai-labs/moshi), code MIT
(Python package), weights CC-BY 4.0. Weights: `tokenizer-e351c8d8-checkpoint125.safetensors` in the Hugging
Face repo `kyutai/moshiko-pytorch-bf16` (`moshi.models.loaders.DEFAULT_REPO` / `MIMI_NAME`; the same
weights are published as `kyutai/mimi`), fetched with `huggingface_hub.hf_hub_download` into the HF cache.

Mimi has 32 split-RVQ codebooks (1 semantic + 31 acoustic) of 2048 entries at 12.5 frames/s; Moshi uses 8,
which gives 8 x 11 bit x 12.5 Hz = 1100 bps. `mimi@32q` (an extension class of the `st-codecfake-plus`
recipe) uses all 32 (`moshi.models.loaders.get_mimi(num_codebooks=32)`, the most the checkpoint holds):
32 x 11 bit x 12.5 Hz = 4400 bps from the same weights.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import hub_file
from ncst.codecs.random_init import calibration_signal, seed_residual_codebooks
from ncst.errors import UntrustedCheckpointError, WeightsError
from ncst.taxonomy import Taxonomy

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
        upstream_version="0.2.13",
        upstream_repo="https://github.com/kyutai-labs/moshi",
        pip_extra="mimi",
        pad_multiple=FRAME_SAMPLES,
        licence="code MIT (moshi Python package); weights CC-BY 4.0",
        quantizer="split RVQ (1 semantic codebook distilled from WavLM + acoustic codebooks, EMA k-means)",
        decoder_type="time domain (SEANet conv + Transformer)",
        taxonomy=Taxonomy(
            "multi-codebook",
            "semantic-distillation",
            "time",
            "first codebook distilled from WavLM (cosine loss on a projection of the RVQ-1 output)",
        ),
        notes=notes,
        extra={"num_codebooks": n_q},
    )


VARIANTS: dict[str, CodecCard] = {
    "8q": _card(
        "8q",
        8,
        class_by_key("mimi").class_id,
        "mimi",
        1100.0,
        "ST-Codecfake class 1 (file prefix mimi_). Table 2 gives 1.1 kbps, 8 Q; the checkpoint is inferred "
        "(kyutai/mimi weights, here from the Moshi repo as moshi's loader does). The number of codebooks the "
        "authors used is not stated; 8 is what Moshi uses and what 1.1 kbps implies. The base class crops "
        "the output (padded to 1920 samples) back.",
    ),
    "32q": _card(
        "32q",
        32,
        class_by_key("mimi").class_id,
        "mimi32q",
        4400.0,
        "Extension class of the st-codecfake-plus recipe (not in the paper): the same Mimi checkpoint as class 1 "
        "with all 32 codebooks (1 semantic + 31 acoustic; moshi's get_mimi allows at most 32), i.e. four times "
        "class 1's bitrate: 32 x 11 bit x 12.5 Hz = 4400 bps. Same encoder and decoder weights, more residual "
        "detail. The card class id is the family's (1); the recipe gives the audio its own OOD class.",
    ),
}
DEFAULT_VARIANT = "8q"


class MimiCodec(Codec):
    """Mimi at a fixed number of codebooks; codes are one level `[B, n_q, ceil(T / 1920)]`."""

    VARIANTS = VARIANTS
    batch_safe = True  # causal convolutions and causal attention: right padding never reaches earlier samples
    DEFAULT_VARIANT = DEFAULT_VARIANT

    # -- load hooks ------------------------------------------------------------------------------------
    @property
    def _n_q(self) -> int:
        return int(self.card.extra["num_codebooks"])

    def _build_random(self, seed: int) -> Any:
        loaders = self._import_upstream("moshi.models.loaders")
        model = loaders.get_mimi(None, device=self.device, num_codebooks=self._n_q)
        _seed_kmeans_codebooks(model, seed, self.device)
        return model

    def _load_pretrained(self) -> Any:
        loaders = self._import_upstream("moshi.models.loaders")
        return self._load_file(loaders, hub_file(loaders.DEFAULT_REPO, loaders.MIMI_NAME))

    def _load_local(self, path: Path) -> Any:
        loaders = self._import_upstream("moshi.models.loaders")
        file = path / loaders.MIMI_NAME if path.is_dir() else path
        if not file.is_file():
            raise WeightsError(
                f"Mimi weights {str(path)!r}: expected a .safetensors file, a torch file holding "
                f"{{'model': state_dict}}, or a folder holding {loaders.MIMI_NAME}"
            )
        return self._load_file(loaders, file)

    def _load_file(self, loaders: Any, file: Path) -> Any:
        """`loaders.get_mimi(file)`, except that a torch (non-safetensors) file is read with `_load_checkpoint`."""
        try:
            if loaders._is_safetensors(file):
                model = loaders.get_mimi(file, device=self.device, num_codebooks=self._n_q)
            else:
                package = self._load_checkpoint(file)
                model = loaders.get_mimi(None, device=self.device, num_codebooks=self._n_q)
                model.load_state_dict(package["model"])
        except UntrustedCheckpointError:
            raise
        except Exception as err:  # safetensors, unpickling and key-mismatch errors come in several types
            raise WeightsError(f"{file}: not a Mimi checkpoint ({type(err).__name__}: {err})") from err
        self.checkpoint_paths = [file]
        return model

    def save_local(self, folder: Path) -> Path:
        """The published layout: one safetensors file named like the hub's (`MIMI_NAME`)."""
        from safetensors.torch import save_file

        loaders = self._import_upstream("moshi.models.loaders")
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(folder / loaders.MIMI_NAME))
        return folder

    @classmethod
    def shared_model_key(cls, card: CodecCard) -> str:
        """Every variant is the same checkpoint with another number of active codebooks (`_prepare_model`)."""
        return f"hf://{HF_REPO}/{CHECKPOINT_NAME}"

    def _prepare_model(self, model: Any) -> None:
        model.set_num_codebooks(self._n_q)  # a shared model may come from the other variant

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav)  # [B, n_q, ceil(T / 1920)]
        return self._frame_codes(codes, FRAME_SAMPLES, wav.shape[-1])

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, 1, self.card.n_quantizers)
        return self.model.decode(codes.levels[0].to(self.device))


def _seed_kmeans_codebooks(model: Any, seed: int, device: torch.device) -> None:
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
