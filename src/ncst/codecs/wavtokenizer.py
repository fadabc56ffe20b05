"""WavTokenizer 24 kHz, 75 and 40 tokens/s (ST-Codecfake OOD class 7 and its diff-config / diff-source sets).

Codec: WavTokenizer, Ji et al., "WavTokenizer: an Efficient Acoustic Discrete Codec Tokenizer for Audio
Language Modeling", arXiv 2408.16532 (ICLR 2025). Upstream: github.com/jishengpeng/WavTokenizer (MIT
licence; no package on the index), read at commit 5cf440d91ac420ca338f117b7003a77450d64730. The network
is ncst's own port, `ncst.codecs.ports.wavtokenizer`, checked against upstream (codes identical, audio
within 1.6e-7; docs/codecs.md).
Weights: the Lightning checkpoints `WavTokenizer_small_320_24k_4096.ckpt` (75 tokens/s) and
`WavTokenizer_small_600_24k_4096.ckpt` (40 tokens/s) in the Hugging Face repo `novateur/WavTokenizer`,
fetched with `huggingface_hub.hf_hub_download` into the HF cache; the hyperparameters are those of the
upstream `configs/wavtokenizer_smalldata_frame{75,40}_3s_nq1_code4096_dim512_kmeans200_attn.yaml`.

One codebook of 4096 entries: 75 x 12 = 900 bit/s and 40 x 12 = 480 bit/s.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import hub_file, state_dict_of
from ncst.codecs.ports.wavtokenizer import (
    FRAME40,
    FRAME75,
    WavTokenizer,
    WavTokenizerConfig,
    config_from_hparams,
    config_to_hparams,
    select_model_state,
)
from ncst.codecs.random_init import ema_codebook_setter, seed_codebooks_from
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["DEFAULT_VARIANT", "HF_REPO", "UPSTREAM_COMMIT", "VARIANTS", "WavTokenizerCodec", "convert_audio"]

log = logging.getLogger(__name__)

HF_REPO = "novateur/WavTokenizer"
UPSTREAM_REPO = "https://github.com/jishengpeng/WavTokenizer"
UPSTREAM_COMMIT = "5cf440d91ac420ca338f117b7003a77450d64730"
SAMPLE_RATE_HZ = 24_000
CODEBOOK_SIZE = 4096
#: The AdaLayerNorm condition upstream uses at inference (`bandwidth_id = torch.tensor([0])`).
BANDWIDTH_ID = 0
#: Seconds of calibration audio used to fill the codebook of a random-weights model.
CALIBRATION_S = 2.0

_CONFIGS: dict[str, WavTokenizerConfig] = {"small75": FRAME75, "small40": FRAME40}
_CLASS = class_by_key("wavtokenizer")  # OOD class 7, file prefix "wavtokenizer"

_NOTES_COMMON = (
    " Upstream preprocessing (README, encoder.utils.convert_audio): channel mean, then torchaudio "
    "Resample to 24 kHz; ncst downmixes the same way and resamples with soxr (recorded in provenance); "
    "`ncst.codecs.wavtokenizer.convert_audio` reproduces upstream's chain. bandwidth_id is always 0 "
    "(upstream inference; the 4 AdaLayerNorm conditions all stand for the same 6.6 kbps setting and only "
    "id 0 is used in validation). Decoding uses the codebook vectors of the codes (upstream "
    "codes_to_features + decode). Output has ceil(T / hop) * hop samples; the base class crops it back. "
    "Network: ncst's own port (ncst.codecs.ports.wavtokenizer) of upstream commit 5cf440d."
)


def _card(variant: str, prefix: str, checkpoint_file: str, config_file: str, notes: str) -> CodecCard:
    config = _CONFIGS[variant]
    return CodecCard(
        name=_CLASS.key,
        variant=variant,
        family=_CLASS.family,
        class_id=_CLASS.class_id,
        file_prefix=prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=1,
        frame_rate_hz=config.frame_rate_hz,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=config.frame_rate_hz * 12,
        effective_bitrate_bps=config.frame_rate_hz * 12,  # log2(4096) = 12 bit per token
        checkpoint=f"hf://{HF_REPO}/{checkpoint_file}",
        checkpoint_sha256=None,  # not published
        upstream_package="",
        pip_extra="",
        source="port",
        upstream_repo=UPSTREAM_REPO,
        upstream_commit=UPSTREAM_COMMIT,
        pad_multiple=config.hop_samples,
        licence="MIT (upstream code and weights)",
        quantizer="single VQ codebook (4096 x 512, EMA k-means)",
        decoder_type="frequency domain (Vocos ConvNeXt backbone with attention + iSTFT head)",
        taxonomy=Taxonomy(
            "single-codebook", "none", "frequency", "reconstruction, adversarial and feature-matching losses only"
        ),
        notes=notes + _NOTES_COMMON,
        extra={
            "checkpoint_file": checkpoint_file,
            "config_file": config_file,
            "upstream": f"{UPSTREAM_REPO}@{UPSTREAM_COMMIT}",
            "bandwidth_id": BANDWIDTH_ID,
            "hop_samples": config.hop_samples,
        },
    )


VARIANTS: dict[str, CodecCard] = {
    "small75": _card(
        "small75",
        _CLASS.file_prefix,
        "WavTokenizer_small_320_24k_4096.ckpt",
        "wavtokenizer_smalldata_frame75_3s_nq1_code4096_dim512_kmeans200_attn.yaml",
        "ST-Codecfake OOD class 7 (eval_ood7, file prefix wavtokenizer_) and OOD_diff_source/NCSSD_wavtokenizer "
        "(same codec on NCSSD sources): 75 tokens/s, 0.9 kbps (Table 2). The 'small' LibriTTS checkpoint "
        "is inferred (README model list; medium/large 75-token checkpoints also exist; docs/reference_system.md §6).",
    ),
    "small40": _card(
        "small40",
        f"{_CLASS.file_prefix}_small40",
        "WavTokenizer_small_600_24k_4096.ckpt",
        "wavtokenizer_smalldata_frame40_3s_nq1_code4096_dim512_kmeans200_attn.yaml",
        "OOD_diff_config/wavtokenizer_small40 (scored as class 7): 40 tokens/s, 0.48 kbps, the 'small-600' "
        "LibriTTS checkpoint (folder name; the checkpoint is inferred from it). File prefix = folder name, "
        "as for the C3-x/C4-x config folders.",
    ),
}
DEFAULT_VARIANT = "small75"


class WavTokenizerCodec(Codec):
    """WavTokenizer at 75 or 40 tokens/s; codes are one level `[B, 1, ceil(T / hop)]` of 4096 entries."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    @property
    def config(self) -> WavTokenizerConfig:
        return _CONFIGS[self.card.variant]

    # -- build -----------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> WavTokenizer:
        """Official architecture with seeded random weights and a codebook filled from encoder latents."""
        model = WavTokenizer(self.config)
        _seed_codebook(model, seed)
        return model

    def _load_pretrained(self) -> WavTokenizer:
        """The card's checkpoint from the Hugging Face repo `novateur/WavTokenizer` (HF cache)."""
        return self._load_weights_file(hub_file(HF_REPO, str(self.card.extra["checkpoint_file"])))

    def _load_local(self, path: Path) -> WavTokenizer:
        """A `.ckpt` file, or a folder holding one; an upstream config YAML beside it is checked first."""
        file, yaml_file = self._resolve_local(path)
        if yaml_file is not None:
            self._check_yaml(yaml_file)
        model = self._load_weights_file(file)
        if yaml_file is not None:
            self.checkpoint_paths.append(yaml_file)
        return model

    def save_local(self, folder: Path) -> Path:
        """Upstream's layout: `{'state_dict': ...}` under the release file name, next to the config YAML."""
        import yaml

        folder.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": self.model.state_dict()}, folder / str(self.card.extra["checkpoint_file"]))
        hparams = yaml.safe_dump(config_to_hparams(self.config), sort_keys=False)
        (folder / str(self.card.extra["config_file"])).write_text(hparams, encoding="utf-8")
        return folder

    def _resolve_local(self, path: Path) -> tuple[Path, Path | None]:
        """`(checkpoint, yaml or None)` for a checkpoint file or a folder holding the card's file names."""
        ckpt_name, yaml_name = str(self.card.extra["checkpoint_file"]), str(self.card.extra["config_file"])
        folder = path if path.is_dir() else path.parent
        file = path / ckpt_name if path.is_dir() else path
        if path.is_dir() and not file.is_file():
            candidates = sorted(path.glob("*.ckpt"))
            if len(candidates) != 1:
                raise WeightsError(
                    f"{self.card.spec} weights {str(path)!r}: expected {ckpt_name} (or exactly one *.ckpt) in the "
                    f"folder, found {len(candidates)} *.ckpt files"
                )
            file = candidates[0]
        yaml_file = folder / yaml_name
        return file, (yaml_file if yaml_file.is_file() else None)

    def _check_yaml(self, yaml_file: Path) -> None:
        """Refuses an upstream config YAML that describes another architecture than this variant's."""
        import yaml

        try:
            config = config_from_hparams(yaml.safe_load(yaml_file.read_text(encoding="utf-8")))
        except (ValueError, yaml.YAMLError) as err:
            raise WeightsError(f"{yaml_file}: not a usable WavTokenizer config ({err})") from err
        if config != self.config:
            raise WeightsError(
                f"{yaml_file} describes {config.frame_rate_hz:g} tokens/s (downsamples {list(config.downsamples)}, "
                f"n_fft {config.n_fft}), not {self.card.spec}; choose the matching variant "
                f"({', '.join(f'wavtokenizer@{k}' for k in _CONFIGS)})"
            )

    def _load_weights_file(self, file: Path) -> WavTokenizer:
        """Builds the variant's network and loads the model entries of a Lightning (or bare) state dict.

        The file is read by `Codec._load_checkpoint` (weights only; a checkpoint holding pickled objects
        is refused unless `trust_checkpoint`). Discriminator and loss entries are dropped, as upstream's
        `from_pretrained0802` does; the rest must fit exactly.
        """
        state = select_model_state(state_dict_of(self._load_checkpoint(file), file))
        model = WavTokenizer(self.config)
        try:
            model.load_state_dict(state, strict=True)
        except (RuntimeError, TypeError) as err:
            raise WeightsError(f"{file}: state dict does not fit {self.card.spec}: {err}") from err
        self.checkpoint_paths = [file]
        return model

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav[:, 0]).transpose(0, 1)  # [1, B, T'] -> [B, 1, T']
        return Codes(
            levels=(codes,),
            codebook_size=CODEBOOK_SIZE,
            covered_samples=int(codes.shape[-1]) * self.config.hop_samples,
            sample_rate_hz=SAMPLE_RATE_HZ,
            extra={"bandwidth_id": BANDWIDTH_ID, "input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        if len(codes.levels) != 1 or codes.levels[0].ndim != 3 or codes.levels[0].shape[1] != 1:
            shapes = [tuple(level.shape) for level in codes.levels]
            raise ValueError(f"{self.card.spec}: expected one code level [B, 1, T'], got {shapes}")
        level = codes.levels[0].to(self.device).transpose(0, 1)  # [1, B, T']
        return self.model.decode_codes(level, BANDWIDTH_ID).unsqueeze(1)


def _seed_codebook(model: WavTokenizer, seed: int) -> None:
    """Fills the all-zero codebook(s) from encoder latents of a calibration clip and marks them initialised."""
    tokenizer = model.feature_extractor
    seed_codebooks_from(
        lambda clip: tokenizer.latents(clip[:, 0])[0].T,  # [1, 1, T] -> [T', 512]
        [ema_codebook_setter(stage.codebook) for stage in tokenizer.quantizer.stages()],
        CODEBOOK_SIZE,
        sample_rate_hz=SAMPLE_RATE_HZ,
        duration_s=CALIBRATION_S,
        seed=seed,
    )


def convert_audio(wav: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
    """Upstream's preprocessing: `[..., C, T]` at any rate -> mono `[..., T']` at 24 kHz.

    Channel mean, then `torchaudio.functional.resample` with its defaults (what upstream's
    `encoder.utils.convert_audio(wav, sr, 24000, 1)` does before `encode_infer`). The dataset builder
    uses `ncst.audio` instead (channel mean + soxr); use this to reproduce upstream's chain exactly.
    """
    if wav.ndim < 2:
        raise ValueError(f"expected audio [..., channels, T], got shape {tuple(wav.shape)}")
    import torchaudio.functional

    mono = wav.mean(dim=-2)
    if sample_rate_hz == SAMPLE_RATE_HZ:
        return mono
    return torchaudio.functional.resample(mono, sample_rate_hz, SAMPLE_RATE_HZ)
