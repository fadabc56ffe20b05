"""SpeechTokenizer adapter (ST-Codecfake class 2).

Codec: SpeechTokenizer, a SEANet encoder/decoder with an 8-level residual vector quantiser whose
first level is distilled from HuBERT ("semantic" tokens) -- Zhang et al., "SpeechTokenizer: Unified
Speech Tokenizer for Speech Large Language Models", ICLR 2024 (arXiv:2308.16692).

Upstream: PyPI `speechtokenizer` 1.0.1 (github.com/ZhangXInFD/SpeechTokenizer), Apache-2.0; installed
with `pip install ncst[speechtokenizer]` (its `__init__` imports the trainer, hence the extra's
beartype/tensorboard). Weights: Hugging Face `fnlp/SpeechTokenizer`, files
`speechtokenizer_hubert_avg/config.json` and `speechtokenizer_hubert_avg/SpeechTokenizer.pt`
(Apache-2.0), loaded with upstream's `SpeechTokenizer.load_from_checkpoint`.

Rates: 16 kHz, hop 320 (50 frames/s), 8 codebooks x 1024 entries -> 50 x 8 x 10 = 4000 bps, exactly
the paper's Table 2 row. The encoder pads the input up to a whole number of hops, so the codes of
`T` samples cover `ceil(T / 320) * 320` samples; the base class crops the output back to `T`.
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
from ncst.codecs.checkpoints import WeightFile, hf_weight_file, hub_file, resolve_config_and_weights
from ncst.codecs.random_init import ema_codebook_setter, seed_codebooks_from
from ncst.errors import UntrustedCheckpointError, WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["DEFAULT_VARIANT", "HF_REPO_ID", "HUBERT_AVG_CONFIG", "VARIANTS", "SpeechTokenizerCodec"]

log = logging.getLogger(__name__)

HF_REPO_ID = "fnlp/SpeechTokenizer"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "SpeechTokenizer.pt"

#: Architecture fields of `speechtokenizer_hubert_avg/config.json` (identical to the upstream repo's
#: `config/spt_base_cfg.json`; building it gives the published 103.7 M parameters). Only these keys
#: are read by `SpeechTokenizer.__init__`; the training keys of the real file are not needed.
HUBERT_AVG_CONFIG: dict[str, Any] = {
    "n_filters": 64,
    "strides": [8, 5, 4, 2],
    "dimension": 1024,
    "semantic_dimension": 768,
    "bidirectional": True,
    "dilation_base": 2,
    "residual_kernel_size": 3,
    "n_residual_layers": 1,
    "lstm_layers": 2,
    "activation": "ELU",
    "codebook_size": 1024,
    "n_q": 8,
    "sample_rate": 16000,
}

#: Seconds of calibration signal whose encoder latents seed the random-weight codebooks (50 frames/s).
CALIBRATION_S = 1.0

VARIANTS: dict[str, CodecCard] = {
    "hubert_avg": CodecCard(
        name="speechtokenizer",
        variant="hubert_avg",
        family="SpeechTokenizer",
        class_id=class_by_key("speechtokenizer").class_id,
        file_prefix="speechtokenizer",
        sample_rate_hz=16000,
        n_quantizers=8,
        frame_rate_hz=50.0,
        codebook_size=1024,
        nominal_bitrate_bps=4000.0,
        effective_bitrate_bps=50.0 * 8 * 10,
        checkpoint=f"hf://{HF_REPO_ID}/speechtokenizer_hubert_avg/{WEIGHTS_FILE}",
        upstream_package="speechtokenizer",
        upstream_version="1.0.1",
        upstream_repo="https://github.com/ZhangXInFD/SpeechTokenizer",
        pip_extra="speechtokenizer",
        pad_multiple=320,
        licence="Apache-2.0 (code and weights)",
        quantizer="RVQ (8 x 1024, k-means/EMA codebooks; level 1 distilled from HuBERT)",
        decoder_type="time-domain SEANet (conv + LSTM)",
        taxonomy=Taxonomy(
            "multi-codebook",
            "semantic-distillation",
            "time",
            "RVQ-1 distilled toward HuBERT (hubert_avg: the mean over HuBERT layers), cosine loss",
        ),
        notes=(
            "Only public 16 kHz SpeechTokenizer checkpoint; 50 Hz x 8 x 10 bit = 4000 bps matches Table 2 "
            "(inferred, not confirmed by the authors; the Codecfake paper says its codecs were trained on "
            "LibriTTS by the authors, so their weights may differ). Same files as Codec-SUPERB's "
            "speech_tokenizer_16k. The encoder pads its input to a multiple of 320 samples."
        ),
        extra={
            "hf_repo_id": HF_REPO_ID,
            "hf_subfolder": "speechtokenizer_hubert_avg",
            "config_file": CONFIG_FILE,
            "weights_file": WEIGHTS_FILE,
            "hop_length": 320,
        },
    ),
}

DEFAULT_VARIANT = "hubert_avg"


def resolve_checkpoint_dir(path: Path) -> tuple[Path, Path]:
    """Finds `(config.json, weights.pt)` for a local checkpoint given as a folder or a weights file.

    A folder must hold `config.json` and `SpeechTokenizer.pt` (or exactly one other `*.pt`); a file
    is the weights, with `config.json` beside it.
    """
    return resolve_config_and_weights(
        path, CONFIG_FILE, WEIGHTS_FILE, f"{HF_REPO_ID}/speechtokenizer_hubert_avg (SpeechTokenizer)"
    )


def save_checkpoint(model: Any, config: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Writes `model` in the upstream layout (`config.json` + `SpeechTokenizer.pt` state dict) to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    config_path.write_text(json.dumps(config, indent=2))
    torch.save(model.state_dict(), weights_path)
    return config_path, weights_path


class SpeechTokenizerCodec(Codec):
    """SpeechTokenizer behind the `Codec` interface (16 kHz mono, 8 x 1024 RVQ at 50 Hz).

    Example:
        >>> codec = SpeechTokenizerCodec().load("random")          # doctest: +SKIP
        >>> codec.encode(torch.zeros(1, 8000)).levels[0].shape      # [1, 8, 25]
    """

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    #: The architecture config the model was built from (the loaded config.json for real weights).
    config: dict[str, Any]

    # -- load hooks ----------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> Any:
        model_cls = self._import_upstream("speechtokenizer").SpeechTokenizer
        self.config = dict(HUBERT_AVG_CONFIG)
        model = model_cls(self.config).eval()
        seed_codebooks_from(
            lambda x: model.encoder(x).squeeze(0).transpose(0, 1),  # [1, D, T'] -> [T', D]
            [ema_codebook_setter(layer._codebook) for layer in model.quantizer.vq.layers],
            self.card.codebook_size,
            sample_rate_hz=self.card.sample_rate_hz,
            duration_s=CALIBRATION_S,
            seed=seed,
        )
        return model

    def _load_pretrained(self) -> Any:
        extra = self.card.extra
        config_path, weights_path = (
            hub_file(str(extra["hf_repo_id"]), f"{extra['hf_subfolder']}/{name}")
            for name in (extra["config_file"], extra["weights_file"])
        )
        return self._load_files(config_path, weights_path)

    def weight_files(self) -> list[WeightFile]:
        """The config and weights in the hub repository's sub-folder (HF cache)."""
        extra = self.card.extra
        return [
            hf_weight_file(str(extra["hf_repo_id"]), f"{extra['hf_subfolder']}/{name}")
            for name in (extra["config_file"], extra["weights_file"])
        ]

    def _load_local(self, path: Path) -> Any:
        return self._load_files(*resolve_checkpoint_dir(path))

    def _load_files(self, config_path: Path, weights_path: Path) -> Any:
        """What upstream's `SpeechTokenizer.load_from_checkpoint` does, reading the weights safely."""
        model_cls = self._import_upstream("speechtokenizer").SpeechTokenizer
        self.config = json.loads(config_path.read_text())
        self._check_config()
        try:
            model = model_cls(self.config)
            model.load_state_dict(self._load_checkpoint(weights_path))
        except UntrustedCheckpointError:
            raise
        except (RuntimeError, KeyError, OSError, TypeError, WeightsError) as err:
            raise WeightsError(f"could not load SpeechTokenizer weights {weights_path}: {err}") from err
        self.checkpoint_paths = [config_path, weights_path]
        return model.eval()

    def save_local(self, folder: Path) -> Path:
        """The layout of fnlp/SpeechTokenizer (`config.json` + `SpeechTokenizer.pt`)."""
        save_checkpoint(self.model, self.config, folder)
        return folder

    def _check_config(self) -> None:
        """Refuses a config.json whose rate or code layout differs from the card (before building)."""
        expected = {
            "sample_rate": self.card.sample_rate_hz,
            "codebook_size": self.card.codebook_size,
            "n_q": self.card.n_quantizers,
        }
        for key, value in expected.items():
            if key in self.config and int(self.config[key]) != value:
                raise WeightsError(
                    f"checkpoint config has {key}={self.config[key]!r}, but {self.card.spec} expects {value}; "
                    "load it with a matching variant"
                )

    @property
    def _hop(self) -> int:
        return math.prod(int(s) for s in self.config.get("strides", [self.card.extra["hop_length"]]))

    # -- coding --------------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav)  # [n_q, B, T']
        return self._frame_codes(codes.permute(1, 0, 2).contiguous(), self._hop, wav.shape[-1])

    def _decode(self, codes: Codes) -> torch.Tensor:
        indices = codes.levels[0].to(self.device).permute(1, 0, 2)  # [n_q, B, T']
        return self.model.decode(indices)  # [B, 1, T' * hop]
