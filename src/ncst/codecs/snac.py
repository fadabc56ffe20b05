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

`snac@32khz` (an extension class of the `st-codecfake-plus` recipe) is `hubertsiuzdak/snac_32khz`, the
32 kHz model upstream trained mostly on music (README: 1.9 kbps): a 384-sample hop (encoder rates 2/3/8/8),
four levels at strides 8/4/2/1 (10.42 / 20.83 / 41.67 / 83.33 frames/s; upstream's README shows 12/24/48/96
codes for one second of audio) and local attention over 32 frames, so the input is padded to a multiple of
384 x lcm(8, 32) = 12288 samples; 156.25 codes/s x 12 bit = 1875 bps.
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

__all__ = [
    "DEFAULT_VARIANT",
    "HF_REPO",
    "HF_REPO_32KHZ",
    "SNAC_24KHZ_CONFIG",
    "SNAC_32KHZ_CONFIG",
    "VARIANTS",
    "SnacCodec",
]

log = logging.getLogger(__name__)

HF_REPO = "hubertsiuzdak/snac_24khz"
HF_REPO_32KHZ = "hubertsiuzdak/snac_32khz"
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
#: `config.json` of hubertsiuzdak/snac_32khz.
SNAC_32KHZ_CONFIG: dict[str, Any] = {
    "sampling_rate": 32000,
    "encoder_dim": 64,
    "encoder_rates": [2, 3, 8, 8],
    "decoder_dim": 1536,
    "decoder_rates": [8, 8, 3, 2],
    "attn_window_size": 32,
    "codebook_size": 4096,
    "codebook_dim": 8,
    "vq_strides": [8, 4, 2, 1],
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


def _geometry(config: dict[str, Any]) -> tuple[int, int, tuple[float, ...]]:
    """(hop, pad multiple, level rates in Hz) of a SNAC config, computed as upstream's `preprocess` pads."""
    hop = math.prod(config["encoder_rates"])
    strides = config["vq_strides"]
    pad = hop * math.lcm(strides[0], config["attn_window_size"] or 1)
    return hop, pad, tuple(config["sampling_rate"] / (hop * s) for s in strides)


_HOP_32, _PAD_32, _RATES_32 = _geometry(SNAC_32KHZ_CONFIG)  # 384, 12288, (10.42, 20.83, 41.67, 83.33)

_COMMON: dict[str, Any] = dict(
    name="snac",
    family="SNAC",
    class_id=class_by_key("snac").class_id,
    codebook_size=CODEBOOK_SIZE,
    checkpoint_sha256=None,
    upstream_package="snac",
    upstream_version="1.2.1",
    upstream_repo="https://github.com/hubertsiuzdak/snac",
    pip_extra="snac",
    licence="MIT (code and weights)",
)

VARIANTS: dict[str, CodecCard] = {
    "24khz": CodecCard(
        variant="24khz",
        file_prefix="snac",
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=len(VQ_STRIDES),
        frame_rate_hz=LEVEL_RATES_HZ[-1],
        nominal_bitrate_bps=980.0,
        effective_bitrate_bps=sum(LEVEL_RATES_HZ) * math.log2(CODEBOOK_SIZE),  # 984.375
        checkpoint=f"hf://{HF_REPO}",
        pad_multiple=PAD_MULTIPLE,
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
        extra={
            "level_rates_hz": list(LEVEL_RATES_HZ),
            "vq_strides": list(VQ_STRIDES),
            "hf_repo": HF_REPO,
            "config": SNAC_24KHZ_CONFIG,
        },
        **_COMMON,
    ),
    "32khz": CodecCard(
        variant="32khz",
        file_prefix="snac32k",
        sample_rate_hz=32_000,
        n_quantizers=len(_RATES_32),
        frame_rate_hz=_RATES_32[-1],  # 83.333...
        nominal_bitrate_bps=1900.0,
        effective_bitrate_bps=sum(_RATES_32) * math.log2(CODEBOOK_SIZE),  # 1875.0
        checkpoint=f"hf://{HF_REPO_32KHZ}",
        pad_multiple=_PAD_32,
        quantizer="multi-scale RVQ (4 levels at strides 8/4/2/1, factorized L2-normalised codes, dim 8)",
        decoder_type="time domain (conv with noise blocks, depthwise conv, local attention)",
        taxonomy=Taxonomy("multi-codebook", "none", "time", "reconstruction and adversarial losses only"),
        notes=(
            "Extension class of the st-codecfake-plus recipe (not in the paper): the SNAC family of ID class 6 "
            "at 32 kHz (hubertsiuzdak/snac_32khz, trained mostly on music; README 1.9 kbps). Hop 384, 4 levels at "
            "strides 8/4/2/1 (10.42/20.83/41.67/83.33 Hz; frame_rate_hz is the finest), 12 bit per code: "
            "1875 bps. Local attention (window 32) makes the codec pad its input to 12288 samples (0.384 s). "
            "The decoder's noise blocks are seeded as for class 6. The card class id is the family's (6); the "
            "recipe gives the audio its own OOD class."
        ),
        extra={
            "level_rates_hz": list(_RATES_32),
            "vq_strides": list(SNAC_32KHZ_CONFIG["vq_strides"]),
            "hf_repo": HF_REPO_32KHZ,
            "config": SNAC_32KHZ_CONFIG,
        },
        **_COMMON,
    ),
}
DEFAULT_VARIANT = "24khz"


class SnacCodec(Codec):
    """SNAC at one release; codes are one `[B, 1, T_i]` level per VQ stride (24 kHz: T / 2048 * k for k = 1, 2, 4)."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    # -- load hooks ------------------------------------------------------------------------------------
    @property
    def _config(self) -> dict[str, Any]:
        return dict(self.card.extra["config"])

    @property
    def _repo(self) -> str:
        return str(self.card.extra["hf_repo"])

    def _build_random(self, seed: int) -> Any:
        return self._import_upstream("snac").SNAC(**self._config)

    def _load_pretrained(self) -> Any:
        # What SNAC.from_pretrained(repo) does, keeping the cached file paths for provenance.
        snac_cls = self._import_upstream("snac").SNAC
        return self._load_files(snac_cls, hub_file(self._repo, CONFIG_NAME), hub_file(self._repo, WEIGHTS_NAME))

    def weight_files(self) -> list[WeightFile]:
        """`config.json` and `pytorch_model.bin` of the hub repository (HF cache)."""
        return [hf_weight_file(self._repo, name) for name in (CONFIG_NAME, WEIGHTS_NAME)]

    def _load_local(self, path: Path) -> Any:
        snac_cls = self._import_upstream("snac").SNAC
        folder = path if path.is_dir() else path.parent
        config, state = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        if not (config.is_file() and state.is_file()):
            raise WeightsError(
                f"SNAC weights {str(path)!r}: expected a folder holding {CONFIG_NAME} and "
                f"{WEIGHTS_NAME} (the layout of {self._repo})"
            )
        return self._load_files(snac_cls, config, state)

    def _load_files(self, snac_cls: Any, config: Path, state_file: Path) -> Any:
        cfg = json.loads(config.read_text())
        want = self._config
        keys = ("sampling_rate", "encoder_rates", "vq_strides", "attn_window_size")
        if not isinstance(cfg, dict) or any(cfg.get(k) != want[k] for k in keys):
            got = {k: cfg.get(k) for k in keys} if isinstance(cfg, dict) else cfg
            expected = {k: want[k] for k in keys}
            raise WeightsError(f"{config}: not a {self._repo} config ({got}); expected {expected}")
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
        """The layout of the hub repository: `config.json` + `pytorch_model.bin` (a state dict)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self._config))
        torch.save(self.model.state_dict(), folder / WEIGHTS_NAME)
        return folder

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav)  # one LongTensor [B, T_i] per level; SNAC right-pads to pad_multiple
        levels = tuple(c.unsqueeze(1) for c in codes)
        card = self.card
        padded = int(levels[-1].shape[-1]) * math.prod(self._config["encoder_rates"])  # finest level: 1 per hop
        return Codes(
            levels=levels,
            codebook_size=CODEBOOK_SIZE,
            covered_samples=padded,
            sample_rate_hz=card.sample_rate_hz,
            extra={"input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, len(self._config["vq_strides"]))
        levels = [level.to(self.device).reshape(level.shape[0], -1) for level in codes.levels]
        return self.model.decode(levels)
