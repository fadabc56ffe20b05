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
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ncst.codecs.base import Codec, CodecCard, Codes, WeightsSpec
from ncst.codecs.random_init import calibration_signal, seed_residual_codebooks
from ncst.errors import WeightsError

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
        class_id=2,
        file_prefix="speechtokenizer",
        sample_rate_hz=16000,
        n_quantizers=8,
        frame_rate_hz=50.0,
        codebook_size=1024,
        nominal_bitrate_bps=4000.0,
        effective_bitrate_bps=50.0 * 8 * 10,
        checkpoint=f"hf://{HF_REPO_ID}/speechtokenizer_hubert_avg/{WEIGHTS_FILE}",
        upstream_package="speechtokenizer",
        pip_extra="speechtokenizer",
        licence="Apache-2.0 (code and weights)",
        quantizer="RVQ (8 x 1024, k-means/EMA codebooks; level 1 distilled from HuBERT)",
        decoder_type="time-domain SEANet (conv + LSTM)",
        notes=(
            "Only public 16 kHz SpeechTokenizer checkpoint; 50 Hz x 8 x 10 bit = 4000 bps matches Table 2 "
            "(inferred, not confirmed by the authors; the Codecfake paper says its codecs were trained on "
            "LibriTTS by the authors, so their weights may differ). Same files as Codec-SUPERB's "
            "speech_tokenizer_16k. Input is padded to a multiple of 320 samples by the encoder."
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
    if path.is_dir():
        config = path / CONFIG_FILE
        weights = path / WEIGHTS_FILE
        if not weights.is_file():
            candidates = sorted(path.glob("*.pt"))
            if len(candidates) != 1:
                raise WeightsError(
                    f"{path} holds {len(candidates)} *.pt files; expected {WEIGHTS_FILE} (or exactly one "
                    "*.pt) next to config.json, as in fnlp/SpeechTokenizer/speechtokenizer_hubert_avg"
                )
            weights = candidates[0]
    else:
        weights, config = path, path.parent / CONFIG_FILE
    if not config.is_file():
        raise WeightsError(
            f"no {CONFIG_FILE} next to {weights}; a SpeechTokenizer checkpoint needs both files"
        )
    return config, weights


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

    def __init__(self, variant: str | None = None, *, device: str | torch.device = "cpu") -> None:
        super().__init__(variant, device=device)
        self.model: Any = None  # upstream SpeechTokenizer (untyped)
        #: The architecture config the model was built from (the loaded config.json for real weights).
        self.config: dict[str, Any] = {}
        self._hop: int = int(self.card.extra["hop_length"])

    # -- building ------------------------------------------------------------------------------------
    def _build(self, weights: WeightsSpec, seed: int) -> None:
        model_cls = self._import_upstream("speechtokenizer").SpeechTokenizer
        extra = self.card.extra
        if weights.mode == "random":
            self.config = dict(HUBERT_AVG_CONFIG)
            model = model_cls(self.config).eval()
            self._seed_codebooks(model, seed)
            self.checkpoint_paths = []
        else:
            if weights.mode == "pretrained":
                config_path, weights_path = self._download()
            else:
                if weights.path is None:
                    raise WeightsError(f"{self.card.spec}: weights mode 'path' needs a path")
                config_path, weights_path = resolve_checkpoint_dir(weights.path)
            self.config = json.loads(config_path.read_text())
            self._check_config()
            try:
                model = model_cls.load_from_checkpoint(str(config_path), str(weights_path)).eval()
            except (RuntimeError, KeyError, OSError, pickle.UnpicklingError) as err:
                raise WeightsError(f"could not load SpeechTokenizer weights {weights_path}: {err}") from err
            self.checkpoint_paths = [config_path, weights_path]
        self._hop = math.prod(int(s) for s in self.config.get("strides", [extra["hop_length"]]))
        self.model = model.to(self.device)

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

    def _download(self) -> tuple[Path, Path]:
        """Fetches config.json and SpeechTokenizer.pt into the Hugging Face cache (or reuses it)."""
        import huggingface_hub  # a core dependency of ncst

        extra = self.card.extra
        paths = [
            Path(
                huggingface_hub.hf_hub_download(
                    repo_id=extra["hf_repo_id"], filename=f"{extra['hf_subfolder']}/{name}"
                )
            )
            for name in (extra["config_file"], extra["weights_file"])
        ]
        return paths[0], paths[1]

    def _seed_codebooks(self, model: Any, seed: int) -> None:
        """Fills the all-zero k-means codebooks from encoder latents of a calibration clip."""
        generator = torch.Generator().manual_seed(seed)
        rate = self.card.sample_rate_hz
        x = calibration_signal(rate, CALIBRATION_S, generator=generator)
        with torch.inference_mode():
            latents = model.encoder(x)  # [1, D, T']
        latents = latents.clone().squeeze(0).transpose(0, 1)  # [T', D]
        setters = [self._codebook_setter(layer._codebook) for layer in model.quantizer.vq.layers]
        with torch.no_grad():
            seed_residual_codebooks(latents, setters, self.card.codebook_size, generator=generator)

    @staticmethod
    def _codebook_setter(codebook: Any) -> Callable[[torch.Tensor], None]:
        def set_codebook(book: torch.Tensor) -> None:
            codebook.embed.copy_(book)
            codebook.embed_avg.copy_(book)
            codebook.cluster_size.fill_(1.0)
            codebook.inited.fill_(1.0)

        return set_codebook

    # -- coding --------------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        model = self._model()
        codes = model.encode(wav)  # [n_q, B, T']
        n_frames = int(codes.shape[-1])
        return Codes(
            levels=(codes.permute(1, 0, 2).contiguous(),),
            codebook_size=self.card.codebook_size,
            covered_samples=n_frames * self._hop,
            sample_rate_hz=self.card.sample_rate_hz,
            extra={"input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        model = self._model()
        indices = codes.levels[0].to(self.device).permute(1, 0, 2)  # [n_q, B, T']
        return model.decode(indices)  # [B, 1, T' * hop]

    def _model(self) -> Any:
        if self.model is None:  # guarded by Codec._check_loaded; kept for type narrowing
            raise WeightsError(f"{self.card.spec}: model is not built")
        return self.model
