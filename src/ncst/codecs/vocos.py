"""Vocos on EnCodec tokens: EnCodec 24 kHz's encoder and codes, a different decoder (st-codecfake-plus).

Decoder: Vocos, Siuzdak, "Vocos: Closing the gap between time-domain and Fourier-based neural vocoders for
high-quality audio synthesis", arXiv 2306.00814 (2023). Upstream: the `vocos` package 0.1.0
(github.com/gemelo-ai/vocos, MIT), which needs `encodec` 0.1.1. Weights: the Hugging Face repo
`charactr/vocos-encodec-24khz` (`config.yaml` + `pytorch_model.bin`, fetched with `hf_hub_download` into
the HF cache as `Vocos.from_pretrained` does), plus the EnCodec 24 kHz release file that class 4 loads
(`encodec_24khz-d7cc33bc.th`, torch hub cache): upstream's `EncodecFeatures` builds EnCodec with
`pretrained=True` and copies its parameters into the Vocos model.

The tokens are exactly class 4's (`encodec@6kbps`: 8 RVQ codebooks of 1024 entries at 75 frames/s,
6000 bps); only the decoder differs. Vocos embeds each code with the EnCodec codebook of its level, sums the
levels (a 128-dim feature per frame), runs a ConvNeXt backbone conditioned on the bandwidth (AdaLayerNorm,
one embedding per bandwidth of `[1.5, 3, 6, 12]` kbps; 6 kbps is id 2) and an iSTFT head (n_fft 1280,
hop 320), so the waveform comes from predicted spectra instead of EnCodec's transposed convolutions.

Upstream's `Vocos.from_pretrained` cannot be used as is: it instantiates any `class_path` named in the
downloaded YAML and downloads EnCodec inside a constructor. This adapter reads the YAML with `safe_load`,
accepts only the three upstream classes, and builds the parts itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import torch

from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile, hf_weight_file, hub_file, torch_hub_weight_file
from ncst.codecs.encodec import CHECKPOINT_NAME as ENCODEC_CHECKPOINT_NAME
from ncst.codecs.encodec import CHECKPOINT_URL as ENCODEC_CHECKPOINT_URL
from ncst.codecs.encodec import LOCAL_NAME as ENCODEC_LOCAL_NAME
from ncst.errors import UntrustedCheckpointError, WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["BANDWIDTHS_KBPS", "DEFAULT_VARIANT", "HF_REPO", "VARIANTS", "VOCOS_ENCODEC_CONFIG", "VocosCodec"]

log = logging.getLogger(__name__)

HF_REPO = "charactr/vocos-encodec-24khz"
CONFIG_NAME = "config.yaml"
WEIGHTS_NAME = "pytorch_model.bin"
SAMPLE_RATE_HZ = 24_000
HOP_SAMPLES = 320  # EnCodec's hop, and the iSTFT head's hop_length
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 75.0
CODEBOOK_SIZE = 1024
#: Bandwidths the decoder is conditioned on (its AdaLayerNorm has one embedding per entry).
BANDWIDTHS_KBPS = (1.5, 3.0, 6.0, 12.0)
#: Codebooks Vocos embeds: as many as EnCodec uses at the largest bandwidth (12 kbps = 16 codebooks).
EMBEDDED_CODEBOOKS = 16
#: The architecture of `charactr/vocos-encodec-24khz` (upstream `configs/vocos-encodec.yaml`).
VOCOS_ENCODEC_CONFIG: dict[str, Any] = {
    "feature_extractor": {
        "class_path": "vocos.feature_extractors.EncodecFeatures",
        "init_args": {"encodec_model": "encodec_24khz", "bandwidths": list(BANDWIDTHS_KBPS), "train_codebooks": False},
    },
    "backbone": {
        "class_path": "vocos.models.VocosBackbone",
        "init_args": {
            "input_channels": 128,
            "dim": 384,
            "intermediate_dim": 1152,
            "num_layers": 8,
            "adanorm_num_embeddings": len(BANDWIDTHS_KBPS),
        },
    },
    "head": {
        "class_path": "vocos.heads.ISTFTHead",
        "init_args": {"dim": 384, "n_fft": 1280, "hop_length": HOP_SAMPLES, "padding": "same"},
    },
}
#: What each part of a config file may set, and its type (a crafted YAML can name nothing else).
_INIT_ARGS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "backbone": {
        "input_channels": int,
        "dim": int,
        "intermediate_dim": int,
        "num_layers": int,
        "layer_scale_init_value": (int, float),
        "adanorm_num_embeddings": int,
    },
    "head": {"dim": int, "n_fft": int, "hop_length": int, "padding": str},
}


def _card(variant: str, bandwidth_kbps: float, n_q: int, notes: str) -> CodecCard:
    return CodecCard(
        name="vocos",
        variant=variant,
        family="Vocos (EnCodec tokens)",
        class_id=None,  # not a class of the paper; the st-codecfake-plus recipe gives it class 12
        file_prefix="vocos_encodec",
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=n_q,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=bandwidth_kbps * 1000,
        effective_bitrate_bps=FRAME_RATE_HZ * n_q * 10,  # log2(1024) = 10 bit per code
        checkpoint=f"hf://{HF_REPO}",
        checkpoint_sha256=None,
        upstream_package="vocos",
        upstream_version="0.1.0",
        upstream_repo="https://github.com/gemelo-ai/vocos",
        pip_extra="vocos",
        pad_multiple=HOP_SAMPLES,
        licence="vocos code MIT; charactr/vocos-encodec-24khz weights MIT (hub card); EnCodec as for class 4",
        quantizer="RVQ of EnCodec 24 kHz (the same tokens as class 4)",
        decoder_type="frequency domain (ConvNeXt backbone with bandwidth AdaLayerNorm + iSTFT head)",
        taxonomy=Taxonomy(
            "multi-codebook",
            "none",
            "frequency",
            "EnCodec's RVQ codes; Vocos trained with reconstruction and adversarial losses",
        ),
        notes=notes,
        extra={"bandwidth_kbps": bandwidth_kbps, "bandwidth_id": BANDWIDTHS_KBPS.index(bandwidth_kbps)},
    )


VARIANTS: dict[str, CodecCard] = {
    "encodec_6kbps": _card(
        "encodec_6kbps",
        6.0,
        8,
        "Extension class of the st-codecfake-plus recipe (not in the paper): class 4's tokens (EnCodec 24 kHz "
        "at 6 kbps, 8 Q, the same encoder and checkpoint) decoded by Vocos instead of EnCodec's decoder "
        "(bandwidth id 2 of [1.5, 3, 6, 12] kbps). A tracer that keys on the tokens calls it EnCodec; one that "
        "keys on the decoder's traces should not. Not batch-safe (the ConvNeXt backbone looks both ways).",
    ),
}
DEFAULT_VARIANT = "encodec_6kbps"


class EncodecTokenFeatures(torch.nn.Module):
    """EnCodec (encoder and quantiser used; its decoder unused) and the stacked codebooks Vocos embeds codes with.

    Attribute names follow upstream's `EncodecFeatures` (`encodec`, `codebook_weights`), so the state dict has
    the hub checkpoint's keys.
    """

    def __init__(self, encodec: torch.nn.Module, codebook_weights: torch.Tensor) -> None:
        super().__init__()
        self.encodec = encodec
        self.codebook_weights = torch.nn.Parameter(codebook_weights.detach().clone(), requires_grad=False)

    def features(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n_q, T']` -> summed codebook embeddings `[B, 128, T']` (level k reads rows k*1024...)."""
        n_q = codes.shape[1]
        offsets = torch.arange(n_q, device=codes.device).view(1, n_q, 1) * CODEBOOK_SIZE
        emb = torch.nn.functional.embedding(codes + offsets, self.codebook_weights)  # [B, n_q, T', 128]
        return emb.sum(dim=1).transpose(1, 2)


class VocosCodec(Codec):
    """EnCodec 24 kHz tokens decoded by Vocos; codes are one level `[B, n_q, ceil(T / 320)]` (class 4's)."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    # -- load hooks ------------------------------------------------------------------------------------
    def _encodec_spec(self) -> str:
        return f"encodec@{self.card.extra['bandwidth_kbps']:g}kbps"

    def _encodec(self, weights: str | Path, seed: int) -> tuple[Any, list[Path]]:
        """The EnCodec 24 kHz model through class 4's adapter (same checkpoint, cache and checks)."""
        from ncst.codecs.registry import get_codec

        encodec = get_codec(self._encodec_spec(), device=self.device)
        encodec.load(weights, seed=seed, trust_checkpoint=self.trust_checkpoint)
        return encodec.model, list(encodec.checkpoint_paths)

    def _assemble(self, encodec_model: Any, config: Mapping[str, Any]) -> Any:
        vocos = self._import_upstream("vocos")
        models = self._import_upstream("vocos.models")
        heads = self._import_upstream("vocos.heads")
        layers = encodec_model.quantizer.vq.layers[:EMBEDDED_CODEBOOKS]
        codebooks = torch.cat([layer.codebook for layer in layers], dim=0)  # [16 * 1024, 128]
        return vocos.Vocos(
            feature_extractor=EncodecTokenFeatures(encodec_model, codebooks),
            backbone=models.VocosBackbone(**config["backbone"]["init_args"]),
            head=heads.ISTFTHead(**config["head"]["init_args"]),
        )

    def _build_random(self, seed: int) -> Any:
        self._import_upstream("vocos")  # fail on the missing extra before building EnCodec
        encodec_model, _ = self._encodec("random", seed)
        return self._assemble(encodec_model, VOCOS_ENCODEC_CONFIG)

    def _load_pretrained(self) -> Any:
        self._import_upstream("vocos")
        encodec_model, encodec_files = self._encodec("pretrained", self.seed)
        return self._load_files(
            encodec_model, encodec_files, hub_file(HF_REPO, CONFIG_NAME), hub_file(HF_REPO, WEIGHTS_NAME)
        )

    def weight_files(self) -> list[WeightFile]:
        """The hub repository's `config.yaml` and `pytorch_model.bin` (HF cache) and EnCodec's release file."""
        files = [hf_weight_file(HF_REPO, name) for name in (CONFIG_NAME, WEIGHTS_NAME)]
        prefix = ENCODEC_CHECKPOINT_NAME.split("-")[1].split(".")[0]
        return [*files, torch_hub_weight_file(ENCODEC_CHECKPOINT_URL, sha256=prefix)]

    def _load_local(self, path: Path) -> Any:
        """A folder holding `config.yaml` and `pytorch_model.bin` (the hub layout) and EnCodec's weights file."""
        self._import_upstream("vocos")
        folder = path if path.is_dir() else path.parent
        config, state = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        encodec_files = [folder / n for n in (ENCODEC_CHECKPOINT_NAME, ENCODEC_LOCAL_NAME) if (folder / n).is_file()]
        if not (config.is_file() and state.is_file() and encodec_files):
            raise WeightsError(
                f"Vocos weights {str(path)!r}: expected a folder holding {CONFIG_NAME} and {WEIGHTS_NAME} (the layout "
                f"of {HF_REPO}) and the EnCodec file {ENCODEC_CHECKPOINT_NAME} or {ENCODEC_LOCAL_NAME}"
            )
        encodec_model, encodec_paths = self._encodec(encodec_files[0], self.seed)
        return self._load_files(encodec_model, encodec_paths, config, state)

    def _load_files(self, encodec_model: Any, encodec_files: list[Path], config_file: Path, state_file: Path) -> Any:
        config = _read_config(config_file)
        model = self._assemble(encodec_model, config)
        try:
            loaded = self._load_checkpoint(state_file)
        except UntrustedCheckpointError:
            raise
        except Exception as err:  # unreadable files come in several types
            raise WeightsError(f"{state_file}: not a Vocos state dict ({type(err).__name__}: {err})") from err
        if not isinstance(loaded, dict):
            raise WeightsError(f"{state_file}: expected a state dict, got {type(loaded).__name__}")
        # Only tensors (as the hub file's converters keep them); EnCodec's parameters come from its own file,
        # as upstream's from_pretrained copies them in.
        state = {k: v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
        state.update({f"feature_extractor.encodec.{k}": v for k, v in encodec_model.state_dict().items()})
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise WeightsError(f"{state_file}: not a vocos-encodec-24khz state dict ({str(err)[:300]})") from err
        self.checkpoint_paths = [*encodec_files, config_file, state_file]
        return model

    def save_local(self, folder: Path) -> Path:
        """The hub layout (`config.yaml`, `pytorch_model.bin` without EnCodec's tensors) plus EnCodec's file."""
        import yaml

        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(yaml.safe_dump(VOCOS_ENCODEC_CONFIG), encoding="utf-8")
        own = {k: v for k, v in self.model.state_dict().items() if not k.startswith("feature_extractor.encodec.")}
        torch.save(own, folder / WEIGHTS_NAME)
        torch.save(self.model.feature_extractor.encodec.state_dict(), folder / ENCODEC_LOCAL_NAME)
        return folder

    def _prepare_model(self, model: Any) -> None:
        model.feature_extractor.encodec.set_target_bandwidth(float(self.card.extra["bandwidth_kbps"]))

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        encodec = self.model.feature_extractor.encodec
        frames = encodec.encode(wav)  # one frame (segment=None): [(codes [B, n_q, T'], scale=None)]
        codes = torch.cat([c for c, _ in frames], dim=-1)
        return self._frame_codes(codes, HOP_SAMPLES, wav.shape[-1], bandwidth_kbps=encodec.bandwidth)

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, 1, self.card.n_quantizers)
        level = codes.levels[0].to(self.device)
        features = self.model.feature_extractor.features(level)
        bandwidth_id = torch.tensor([int(self.card.extra["bandwidth_id"])], device=self.device)
        return self.model.decode(features, bandwidth_id=bandwidth_id)  # [B, T' * 320]


def _read_config(file: Path) -> dict[str, Any]:
    """The hub's `config.yaml`, read with `safe_load`: only upstream's three classes and their known arguments."""
    import yaml

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        raise WeightsError(f"{file}: not a readable Vocos config ({type(err).__name__}: {str(err)[:200]})") from err
    if not isinstance(data, dict):
        raise WeightsError(f"{file}: expected a mapping with feature_extractor, backbone and head")
    want = VOCOS_ENCODEC_CONFIG
    extractor = data.get("feature_extractor")
    wanted = want["feature_extractor"]
    extractor_args = extractor.get("init_args") if isinstance(extractor, dict) else None
    if not (
        isinstance(extractor, dict)
        and isinstance(extractor_args, dict)
        and extractor.get("class_path") == wanted["class_path"]
        and extractor_args.get("encodec_model") == "encodec_24khz"
        and extractor_args.get("bandwidths") == list(BANDWIDTHS_KBPS)
    ):
        raise WeightsError(
            f"{file}: feature_extractor {extractor!r:.200}; expected EnCodec 24 kHz features "
            f"{want['feature_extractor']!r} (the only tokens this adapter makes)"
        )
    config: dict[str, Any] = {"feature_extractor": wanted}
    for part, allowed in _INIT_ARGS.items():
        entry = data.get(part)
        if not isinstance(entry, dict) or entry.get("class_path") != want[part]["class_path"]:
            raise WeightsError(f"{file}: {part} must be {{class_path: {want[part]['class_path']}, init_args: ...}}")
        args = entry.get("init_args", {})
        if not isinstance(args, dict):
            raise WeightsError(f"{file}: {part}.init_args must be a mapping")
        for key, value in args.items():
            kind = allowed.get(key)
            if kind is None or isinstance(value, bool) or not isinstance(value, kind):
                raise WeightsError(f"{file}: {part}.init_args.{key} = {value!r:.80}; allowed keys {sorted(allowed)}")
        config[part] = {"class_path": entry["class_path"], "init_args": dict(args)}
    if config["head"]["init_args"].get("hop_length") != HOP_SAMPLES:
        raise WeightsError(f"{file}: head.init_args.hop_length must be {HOP_SAMPLES} (EnCodec's hop)")
    return config
