"""SNAC 24 kHz (ST-Codecfake class 6), the multi-scale speech codec used by Mini-Omni.

Codec: SNAC, Siuzdak et al., "SNAC: Multi-Scale Neural Audio Codec", arXiv 2410.14411 (2024).
Upstream: the `snac` package 1.2.1 (github.com/hubertsiuzdak/snac), MIT licence for code and weights.
Weights: Hugging Face repo `hubertsiuzdak/snac_24khz` (`config.json` + `pytorch_model.bin`), fetched with
`huggingface_hub.hf_hub_download` into the HF cache, as `SNAC.from_pretrained` does.

Codes are multi-scale: three levels with one 4096-entry codebook each, at strides 4/2/1 of the 512-sample
hop, i.e. 11.71875 / 23.4375 / 46.875 frames/s, so 82.03125 codes/s x 12 bit = 984.375 bps. `Codes.levels`
holds one `[B, 1, T_i]` tensor per level; the card's `n_quantizers` (3) counts levels and its
`frame_rate_hz` is the finest level's rate (46.875 Hz), so `frame_rate_hz x n_quantizers x 12` is NOT the
bitrate for this codec; `effective_bitrate_bps` is the exact sum over levels.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile, hf_weight_file, hub_file
from ncst.errors import UntrustedCheckpointError, WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["DEFAULT_VARIANT", "HF_REPO", "SNAC_24KHZ_CONFIG", "VARIANTS", "SnacCodec"]

log = logging.getLogger(__name__)

HF_REPO = "hubertsiuzdak/snac_24khz"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "pytorch_model.bin"
#: `config.json` of hubertsiuzdak/snac_24khz (the SNAC class defaults are the 44 kHz music model).
SNAC_24KHZ_CONFIG: dict[str, Any] = {
    "sampling_rate": 24000,
    "encoder_dim": 48,
    "encoder_rates": [2, 4, 8, 8],
    "decoder_dim": 1024,
    "decoder_rates": [8, 8, 4, 2],
    "attn_window_size": None,
    "codebook_size": 4096,
    "codebook_dim": 8,
    "vq_strides": [4, 2, 1],
    "noise": True,
    "depthwise": True,
}
SAMPLE_RATE_HZ = 24_000
HOP_SAMPLES = 512  # prod(encoder_rates)
VQ_STRIDES = (4, 2, 1)
CODEBOOK_SIZE = 4096
#: SNAC pads the input to a multiple of hop x lcm(vq_strides[0], attn_window or 1) = 2048 samples.
PAD_MULTIPLE = HOP_SAMPLES * VQ_STRIDES[0]
LEVEL_RATES_HZ = tuple(SAMPLE_RATE_HZ / (HOP_SAMPLES * s) for s in VQ_STRIDES)  # 11.71875, 23.4375, 46.875

VARIANTS: dict[str, CodecCard] = {
    "24khz": CodecCard(
        name="snac",
        variant="24khz",
        family="SNAC",
        class_id=class_by_key("snac").class_id,
        file_prefix="snac",
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=len(VQ_STRIDES),
        frame_rate_hz=LEVEL_RATES_HZ[-1],
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=980.0,
        effective_bitrate_bps=sum(LEVEL_RATES_HZ) * math.log2(CODEBOOK_SIZE),  # 984.375
        checkpoint=f"hf://{HF_REPO}",
        checkpoint_sha256=None,
        upstream_package="snac",
        upstream_version="1.2.1",
        upstream_repo="https://github.com/hubertsiuzdak/snac",
        pip_extra="snac",
        pad_multiple=PAD_MULTIPLE,
        licence="MIT (code and weights)",
        quantizer="multi-scale RVQ (3 levels at strides 4/2/1, factorized L2-normalised codes, dim 8)",
        decoder_type="time domain (conv with noise blocks, depthwise conv)",
        taxonomy=Taxonomy("multi-codebook", "none", "time", "reconstruction and adversarial losses only"),
        notes=(
            "ST-Codecfake class 6 (file prefix snac_). Table 2: 0.98 kbps, 3 Q; checkpoint inferred from "
            "Mini-Omni using snac_24khz. Multi-scale: n_quantizers counts the 3 levels and frame_rate_hz is "
            "the finest level's rate (46.875 Hz); level rates 11.72/23.44/46.88 Hz give 984.375 bps. The "
            "decoder adds Gaussian noise (noise blocks), so output is only reproducible under a seed (the base "
            "class reseeds before every decode). The codec pads its input to a multiple of 2048 samples."
        ),
        extra={"level_rates_hz": list(LEVEL_RATES_HZ), "vq_strides": list(VQ_STRIDES)},
    ),
}
DEFAULT_VARIANT = "24khz"


class SnacCodec(Codec):
    """SNAC 24 kHz; codes are three levels `[B, 1, T / 2048 * k]` for k = 1, 2, 4 (T padded to 2048)."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    # -- load hooks ------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> Any:
        return self._import_upstream("snac").SNAC(**SNAC_24KHZ_CONFIG)

    def _load_pretrained(self) -> Any:
        # What SNAC.from_pretrained(HF_REPO) does, keeping the cached file paths for provenance.
        snac_cls = self._import_upstream("snac").SNAC
        return self._load_files(snac_cls, hub_file(HF_REPO, CONFIG_NAME), hub_file(HF_REPO, WEIGHTS_NAME))

    def weight_files(self) -> list[WeightFile]:
        """`config.json` and `pytorch_model.bin` of the hub repository (HF cache)."""
        return [hf_weight_file(HF_REPO, name) for name in (CONFIG_NAME, WEIGHTS_NAME)]

    def _load_local(self, path: Path) -> Any:
        snac_cls = self._import_upstream("snac").SNAC
        folder = path if path.is_dir() else path.parent
        config, state = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        if not (config.is_file() and state.is_file()):
            raise WeightsError(
                f"SNAC weights {str(path)!r}: expected a folder holding {CONFIG_NAME} and "
                f"{WEIGHTS_NAME} (the layout of {HF_REPO})"
            )
        return self._load_files(snac_cls, config, state)

    def _load_files(self, snac_cls: Any, config: Path, state_file: Path) -> Any:
        cfg = json.loads(config.read_text())
        if cfg.get("sampling_rate") != SAMPLE_RATE_HZ or list(cfg.get("vq_strides", [])) != list(VQ_STRIDES):
            raise WeightsError(
                f"{config}: not a snac_24khz config (sampling_rate {cfg.get('sampling_rate')}, vq_strides "
                f"{cfg.get('vq_strides')}); expected {SAMPLE_RATE_HZ} and {list(VQ_STRIDES)}"
            )
        model = snac_cls.from_config(str(config))
        try:
            model.load_state_dict(self._load_checkpoint(state_file))
        except UntrustedCheckpointError:
            raise
        except Exception as err:  # unreadable files and key-mismatch errors come in several types
            raise WeightsError(f"{state_file}: not a SNAC state dict ({type(err).__name__}: {err})") from err
        self.checkpoint_paths = [config, state_file]
        return model

    def save_local(self, folder: Path) -> Path:
        """The layout of hubertsiuzdak/snac_24khz: `config.json` + `pytorch_model.bin` (a state dict)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(SNAC_24KHZ_CONFIG))
        torch.save(self.model.state_dict(), folder / WEIGHTS_NAME)
        return folder

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav)  # list of 3 LongTensors [B, T_i]; SNAC right-pads to 2048 samples
        levels = tuple(c.unsqueeze(1) for c in codes)
        padded = int(levels[0].shape[-1]) * PAD_MULTIPLE
        return Codes(
            levels=levels,
            codebook_size=CODEBOOK_SIZE,
            covered_samples=padded,
            sample_rate_hz=SAMPLE_RATE_HZ,
            extra={"input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, len(VQ_STRIDES))
        levels = [level.to(self.device).reshape(level.shape[0], -1) for level in codes.levels]
        return self.model.decode(levels)
