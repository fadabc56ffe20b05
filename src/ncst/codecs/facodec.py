"""FACodec (ST-Codecfake class 5): the 24 kHz FAcodec in both configurations, over ncst's own port.

Codec: FACodec, Ju et al., "NaturalSpeech 3: Zero-Shot Speech Synthesis with Factorized Codec and
Diffusion Models", arXiv 2403.03100 (2024). The architecture here is the 24 kHz re-implementation by
Plachtaa (github Plachtaa/FAcodec @ 01ccfa9, also vendored in Amphion `models/codec/facodec` @ d3de90f):
DAC-style causal encoder (strides 2, 5, 5, 6: hop 300, 80 frames/s), factorised quantiser, decoder rates
6, 5, 5, 2. Upstream code carries no licence file in Plachtaa/FAcodec (Amphion's copy is MIT); the hub
weights `Plachta/FAcodec` state no licence. The network is ncst's own port in `ncst.codecs.ports.facodec`
(torch only). Which variant is which reading of class 5, and the evidence: docs/codecs.md (FACodec).

Variants:

* `facodec@24k` (default): `timbre_norm: False`, prosody 1 + content 2 + timbre 2 + residual 3 = 8
  codebooks of 1024 (6400 bps). No public checkpoint is known to be in this configuration.
* `facodec@timbre_norm`: a global timbre vector from a style encoder instead of the two timbre codebooks
  (6 codebooks, 4800 bps); the hub weights `Plachta/FAcodec` (`pytorch_model.bin` + `config.yml`).
* `facodec@ns3`: the NaturalSpeech 3 release, built by its own adapter (`ncst.codecs.facodec_ns3`);
  `FacodecCodec` lists its card and hands that variant over.

A local file or folder loads a checkpoint in the upstream format (`{'net': {'encoder': sd, 'quantizer':
sd, 'decoder': sd, ...}}` or the same without `net`, `module.` prefixes stripped) with
`ncst.io.load_checkpoint` (weights_only; full unpickling only with `--trust-checkpoint`); a `config.yml`
beside it is read and checked. The configuration is detected from the quantiser keys
(`timbre_quantizer.*` vs `timbre_encoder.*`) and a checkpoint of the other configuration is refused with
the variant to use instead. The timbre vector of the timbre-norm variant is side information in
`Codes.extra["timbre"]` and is not counted in the bitrate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile, hf_weight_file
from ncst.codecs.facodec_ns3 import NS3_CARD, NS3_FILES, NS3_HF_REPO, FacodecNs3Codec
from ncst.codecs.ports.facodec import FAcodec, FAcodecConfig, detect_timbre_norm, split_checkpoint
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = [
    "HF_REPO",
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "NS3_HF_REPO",
    "NS3_FILES",
    "DEFAULT_VARIANT",
    "VARIANTS",
    "FacodecCodec",
]

log = logging.getLogger(__name__)

_CLASS = class_by_key("facodec")  # ID class 5, file prefix "facodec"
HF_REPO = "Plachta/FAcodec"
CHECKPOINT_NAME = "pytorch_model.bin"
CONFIG_NAME = "config.yml"
SAMPLE_RATE_HZ = 24_000
HOP_SAMPLES = 300  # prod of the encoder strides [2, 5, 5, 6]
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 80.0
CODEBOOK_SIZE = 1024
#: The mel front end pads 1024 samples by reflection on each side, so it needs more than 1024 samples.
MIN_FRAMES = 4


def _card(variant: str, timbre_norm: bool, n_q: int, notes: str, checkpoint: str, deviation: str = "") -> CodecCard:
    return CodecCard(
        name=_CLASS.key,
        variant=variant,
        family=_CLASS.family,
        class_id=_CLASS.class_id,
        file_prefix=_CLASS.file_prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=n_q,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=6400.0 if not timbre_norm else 4800.0,
        effective_bitrate_bps=FRAME_RATE_HZ * n_q * 10,  # log2(1024) = 10 bit per code
        checkpoint=checkpoint,
        checkpoint_sha256=None,
        upstream_package="",
        pip_extra="",
        source="port",
        upstream_repo="https://github.com/Plachtaa/FAcodec",
        upstream_commit="01ccfa99d1a973e9d56bcd0dbbd3d1c366165209",
        pad_multiple=HOP_SAMPLES,
        licence="port: MIT (ncst); upstream code Plachtaa/FAcodec (no licence file), Amphion copy MIT; "
        "weights: no licence stated",
        quantizer="factorised RVQ (prosody/content/timbre/residual, L2-normalised factorised codes, dim 8)",
        decoder_type="time domain (causal DAC conv + LSTM, Snake)",
        taxonomy=Taxonomy(
            "multi-codebook",
            "disentanglement",
            "time",
            "prosody/content/timbre supervision plus gradient-reversal classifiers",
        ),
        notes=notes,
        extra={"timbre_norm": timbre_norm, "arch": "24k", "hub_repo": HF_REPO, "config": CONFIG_NAME}
        | ({"deviation": deviation} if deviation else {}),
    )


VARIANTS: dict[str, CodecCard] = {
    "24k": _card(
        "24k",
        False,
        8,
        "The Table 2 reading of class 5 (8 Q, 6400 bps); the ST-Codecfake authors never name their checkpoint "
        "and no public weights have this configuration ('pretrained' is refused): see docs/codecs.md (FACodec).",
        "",
    ),
    "timbre_norm": _card(
        "timbre_norm",
        True,
        6,
        "The public Plachta/FAcodec weights (6 Q, 4800 bps + 1024-d timbre vector in Codes.extra['timbre']); "
        "the ST-Codecfake authors never name their checkpoint: see docs/codecs.md (FACodec).",
        f"hf://{HF_REPO}/{CHECKPOINT_NAME}",
        deviation="class 5 uses the public Plachta/FAcodec weights: 6 codebooks, 4.8 kbps (+ a timbre vector), not "
        "the 8 codebooks and 6.4 kbps of the paper's Table 2, because no public checkpoint has that configuration; "
        "with an 8-codebook checkpoint, use a recipe whose class 5 is facodec@24k and --weights facodec@24k=PATH",
    ),
    "ns3": NS3_CARD,
}
DEFAULT_VARIANT = "24k"


class FacodecCodec(Codec):
    """24 kHz FAcodec; codes are one level `[B, n_q, ceil(T / 300)]` (rows: prosody, content, [timbre,] residual).

    `FacodecCodec("ns3")` (what `get_codec("facodec@ns3")` calls) returns a `FacodecNs3Codec`: the
    registry maps one key to one class, and the NS3 release shares no code with the 24 kHz codec.
    """

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    def __new__(cls, variant: str | None = None, *, device: str | torch.device = "cpu") -> Codec:  # type: ignore[misc]
        if cls is FacodecCodec and variant == NS3_CARD.variant:
            return FacodecNs3Codec(variant, device=device)
        return super().__new__(cls)

    @property
    def timbre_norm(self) -> bool:
        return bool(self.card.extra["timbre_norm"])

    # -- build -----------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> FAcodec:
        """Official architecture with random weights (the base class seeds torch's RNG with `seed`).

        The codebooks are plain `nn.Embedding` tables compared by cosine similarity, so random ones
        already give varied codes (no k-means seeding needed).
        """
        return FAcodec(FAcodecConfig(timbre_norm=self.timbre_norm))

    def _load_pretrained(self) -> FAcodec:
        """The hub files, via `huggingface_hub.hf_hub_download` (HF cache; works offline once cached)."""
        from huggingface_hub import hf_hub_download

        if not self.timbre_norm:
            raise WeightsError(
                f"{self.card.spec}: no public checkpoint has the 8-codebook (timbre_norm False) configuration; "
                f"the hub weights {HF_REPO} are the timbre-norm one (use facodec@timbre_norm), or pass a local "
                "checkpoint of this configuration"
            )
        file = Path(hf_hub_download(HF_REPO, CHECKPOINT_NAME))
        return self._load_facodec(file, Path(hf_hub_download(HF_REPO, CONFIG_NAME)))

    def weight_files(self) -> list[WeightFile]:
        """The hub checkpoint and its config (timbre-norm only: the 8-codebook variant has no public weights)."""
        if not self.timbre_norm:
            return []
        return [hf_weight_file(HF_REPO, name) for name in (CHECKPOINT_NAME, CONFIG_NAME)]

    def _load_local(self, path: Path) -> FAcodec:
        """A checkpoint file or folder in the upstream layout (see the module docstring)."""
        return self._load_facodec(*_resolve_local(path))

    def save_local(self, folder: Path) -> Path:
        """Upstream's layout: `pytorch_model.bin` (`{'net': {encoder, quantizer, decoder}}`) + `config.yml`;
        returns the folder (what `load` takes)."""
        import yaml

        model = self._model()
        folder.mkdir(parents=True, exist_ok=True)
        net = {name: getattr(model, name).state_dict() for name in ("encoder", "quantizer", "decoder")}
        torch.save({"net": net}, folder / CHECKPOINT_NAME)
        (folder / CONFIG_NAME).write_text(yaml.safe_dump({"model_params": model.config.to_model_params()}))
        return folder

    def _load_facodec(self, file: Path, config_file: Path | None) -> FAcodec:
        parts = self._read_parts(file)
        if "quantizer" not in parts:
            raise WeightsError(f"{file}: no 'quantizer' state dict (has {sorted(parts)}); not a FAcodec checkpoint")
        try:
            found_timbre_norm = detect_timbre_norm(parts["quantizer"])
        except KeyError as err:
            raise WeightsError(f"{file}: {err.args[0]}; not a FAcodec checkpoint") from err
        if config_file is not None:
            config = FAcodecConfig.from_model_params(_read_model_params(config_file))
            if config.timbre_norm != found_timbre_norm:
                raise WeightsError(
                    f"{config_file} says timbre_norm: {config.timbre_norm} but the checkpoint {file} has the "
                    f"timbre_norm {found_timbre_norm} quantiser; use the config that came with the checkpoint"
                )
        else:
            n_c = len({k.split(".")[2] for k in parts["quantizer"] if k.startswith("content_quantizer.quantizers.")})
            config = FAcodecConfig(timbre_norm=found_timbre_norm, n_c_codebooks=n_c)
            log.warning(
                "%s: no %s beside it; using the released model_params with timbre_norm %s",
                file,
                CONFIG_NAME,
                found_timbre_norm,
            )
        self._check_config(config, file)
        model = FAcodec(config)
        try:
            model.load_parts(parts)
        except (KeyError, RuntimeError) as err:
            source = config_file or "the released model_params"
            raise WeightsError(f"{file}: does not fit the FAcodec architecture of {source}: {err}") from err
        self.checkpoint_paths = [file] + ([config_file] if config_file is not None else [])
        return model

    def _read_parts(self, file: Path) -> dict[str, dict[str, torch.Tensor]]:
        obj = self._load_checkpoint(file)  # weights_only; full unpickling only with trust_checkpoint
        if not isinstance(obj, Mapping):
            raise WeightsError(f"{file}: expected a mapping of module state dicts, got {type(obj).__name__}")
        return split_checkpoint(obj)

    def _check_config(self, config: FAcodecConfig, file: Path) -> None:
        if config.timbre_norm != self.timbre_norm:
            other = "facodec@timbre_norm" if config.timbre_norm else "facodec@24k"
            kind = "timbre-norm (6 codebooks, 4800 bps)" if config.timbre_norm else "8-codebook (6400 bps)"
            raise WeightsError(f"{file} is the {kind} FAcodec configuration, not {self.card.spec}; load it as {other}")
        if config.hop_length != HOP_SAMPLES or config.sample_rate_hz != SAMPLE_RATE_HZ:
            raise WeightsError(
                f"{file}: {config.sample_rate_hz} Hz with hop {config.hop_length}; {self.card.spec} is "
                f"{SAMPLE_RATE_HZ} Hz with hop {HOP_SAMPLES}"
            )
        if config.n_codebooks != self.card.n_quantizers:
            raise WeightsError(
                f"{file}: {config.n_codebooks} codebooks (n_c_codebooks {config.n_c_codebooks}); "
                f"{self.card.spec} has {self.card.n_quantizers}"
            )

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        length = int(wav.shape[-1])
        frames = max(MIN_FRAMES, -(-length // HOP_SAMPLES))
        wav = torch.nn.functional.pad(wav, (0, frames * HOP_SAMPLES - length))
        codes, timbre = self._model().encode(wav)
        side = {} if timbre is None else {"timbre": timbre}
        return self._frame_codes(codes, HOP_SAMPLES, length, **side)

    def _decode(self, codes: Codes) -> torch.Tensor:
        model = self._model()
        self._check_levels(codes, 1, self.card.n_quantizers)
        timbre = codes.extra.get("timbre")
        if timbre is not None:
            timbre = timbre.to(self.device)
        elif self.timbre_norm:
            raise ValueError(f"{self.card.spec}: Codes.extra has no 'timbre' vector; encode with this variant")
        return model.decode(codes.levels[0].to(self.device), timbre)

    def _model(self) -> FAcodec:
        if not isinstance(self.model, FAcodec):
            raise WeightsError(f"{self.card.spec}: model not built")
        return self.model


_CONFIG_NAMES = (CONFIG_NAME, "config.yaml", "config.json", "facodec.json")
_CHECKPOINT_SUFFIXES = (".bin", ".pth", ".pt", ".ckpt")


def _resolve_local(path: Path) -> tuple[Path, Path | None]:
    """A checkpoint file (config beside it, optional) or a folder holding one checkpoint and its config."""
    folder = path if path.is_dir() else path.parent
    config = next((folder / n for n in _CONFIG_NAMES if (folder / n).is_file()), None)
    if path.is_file():
        return path, config
    if (path / CHECKPOINT_NAME).is_file():
        return path / CHECKPOINT_NAME, config
    found = sorted(p for p in path.iterdir() if p.suffix in _CHECKPOINT_SUFFIXES)
    if any(p.name in NS3_FILES for p in found):
        raise WeightsError(f"{path} holds the NS3 FACodec ({', '.join(NS3_FILES)}); load it as facodec@ns3")
    if len(found) != 1:
        raise WeightsError(
            f"FAcodec weights {str(path)!r}: expected a checkpoint file or a folder holding {CHECKPOINT_NAME} "
            f"(or exactly one *.bin/*.pth/*.pt/*.ckpt file), found {[p.name for p in found]}"
        )
    return found[0], config


def _read_model_params(file: Path) -> Mapping[str, Any]:
    """`model_params` of an upstream config: YAML (`config.yml`) or Amphion's JSON with trailing commas."""
    import yaml

    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json":
        text = re.sub(r",(\s*[}\]])", r"\1", text)  # Amphion's json5-style trailing commas
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise WeightsError(f"{file}: unreadable FAcodec config ({err})") from err
    params = data.get("model_params") if isinstance(data, Mapping) else None
    if not isinstance(params, Mapping):
        raise WeightsError(f"{file}: no 'model_params' section; expected the upstream config.yml")
    return params
