"""`facodec@ns3`: the NaturalSpeech 3 FACodec release, one reading of ST-Codecfake class 5.

Codec: FACodec, Ju et al., "NaturalSpeech 3: Zero-Shot Speech Synthesis with Factorized Codec and
Diffusion Models", arXiv 2403.03100 (2024), as released by Amphion: hub repo
`amphion/naturalspeech3_facodec` (the README's v1 pair `ns3_facodec_encoder.bin` +
`ns3_facodec_decoder.bin`), code in Amphion `models/codec/ns3_codec` @ d3de90f (MIT). 16 kHz, hop 200
(80 frames/s), prosody 1 + content 2 + residual 3 codebooks of 1024 (4800 bps) plus a 256-d speaker
embedding, carried as side information in `Codes.extra["speaker"]` and not counted in the bitrate. The
network is ncst's own port (`ncst.codecs.ports.facodec.ns3`, torch only). Why this is one of three
readings of class 5, and how the port compares with upstream: docs/codecs.md, section FACodec.

The spec stays `facodec@ns3` (class 5, file prefix `facodec`): `FacodecCodec` lists this card among its
variants and hands the `ns3` variant to `FacodecNs3Codec`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile, hf_weight_file
from ncst.codecs.ports.facodec import NS3FACodec
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["NS3_HF_REPO", "NS3_FILES", "NS3_CARD", "FacodecNs3Codec"]

log = logging.getLogger(__name__)

_CLASS = class_by_key("facodec")  # ID class 5, file prefix "facodec"
NS3_HF_REPO = "amphion/naturalspeech3_facodec"
#: The README's files (v1; the `_v2` pair in the same repo is the voice-conversion model).
NS3_FILES = ("ns3_facodec_encoder.bin", "ns3_facodec_decoder.bin")
NS3_SAMPLE_RATE_HZ = 16_000
NS3_HOP_SAMPLES = 200  # prod of the encoder strides [2, 4, 5, 5]
_N_Q = 6
_CODEBOOK_SIZE = 1024

NS3_CARD = CodecCard(
    name=_CLASS.key,
    variant="ns3",
    family=_CLASS.family,
    class_id=_CLASS.class_id,
    file_prefix=_CLASS.file_prefix,
    sample_rate_hz=NS3_SAMPLE_RATE_HZ,
    n_quantizers=_N_Q,
    frame_rate_hz=NS3_SAMPLE_RATE_HZ / NS3_HOP_SAMPLES,
    codebook_size=_CODEBOOK_SIZE,
    nominal_bitrate_bps=4800.0,
    effective_bitrate_bps=NS3_SAMPLE_RATE_HZ / NS3_HOP_SAMPLES * _N_Q * 10,  # log2(1024) = 10 bit per code
    checkpoint=f"hf://{NS3_HF_REPO}/{NS3_FILES[0]} + {NS3_FILES[1]}",
    checkpoint_sha256=None,
    upstream_package="",
    pip_extra="",
    source="port",
    upstream_repo="https://github.com/open-mmlab/Amphion",
    upstream_commit="d3de90f02e7f1c7dbc24b04d52fe1b8ef438effe",
    pad_multiple=NS3_HOP_SAMPLES,
    licence="port: MIT (ncst); upstream code Amphion (MIT); weights: see the hub card (not checked offline)",
    quantizer="factorised RVQ (prosody 1 + content 2 + residual 3, L2-normalised factorised codes, dim 8)",
    decoder_type="time domain (DAC-style conv, anti-aliased SnakeBeta) with speaker-conditioned LayerNorm",
    taxonomy=Taxonomy(
        "multi-codebook",
        "disentanglement",
        "time",
        "prosody/content/timbre supervision plus gradient-reversal classifiers",
    ),
    notes=(
        "The NaturalSpeech 3 FACodec release (16 kHz, 6 Q, 4800 bps + 256-d speaker embedding in "
        "Codes.extra['speaker']); the ST-Codecfake authors never name their checkpoint and this one does not "
        "match Table 2: see docs/codecs.md (FACodec)."
    ),
    extra={"timbre_norm": True, "arch": "ns3", "hub_repo": NS3_HF_REPO},
)


class FacodecNs3Codec(Codec):
    """NS3 FACodec; codes `[B, 6, ceil(T / 200)]` (prosody, content x 2, residual x 3) at 16 kHz.

    Encoding zero-pads the input to a multiple of the 200-sample hop, as upstream's README does; the base
    class crops the output back.
    """

    VARIANTS = {"ns3": NS3_CARD}
    DEFAULT_VARIANT = "ns3"

    def _build_random(self, seed: int) -> NS3FACodec:
        """Official architecture with random weights (the base class seeds torch's RNG with `seed`)."""
        return NS3FACodec()

    def _load_pretrained(self) -> NS3FACodec:
        """The two hub files, via `huggingface_hub.hf_hub_download` (HF cache; offline once cached)."""
        from huggingface_hub import hf_hub_download

        return self._load_files([Path(hf_hub_download(NS3_HF_REPO, name)) for name in NS3_FILES])

    def weight_files(self) -> list[WeightFile]:
        """The encoder and decoder files of the hub repository (HF cache)."""
        return [hf_weight_file(NS3_HF_REPO, name) for name in NS3_FILES]

    def _load_local(self, path: Path) -> NS3FACodec:
        """A folder holding both files, or either file (its folder is used)."""
        folder = path if path.is_dir() else path.parent
        files = [folder / name for name in NS3_FILES]
        if not all(f.is_file() for f in files):
            raise WeightsError(
                f"NS3 FACodec weights {str(path)!r}: expected a folder holding {' and '.join(NS3_FILES)} "
                f"(from {NS3_HF_REPO})"
            )
        return self._load_files(files)

    def save_local(self, folder: Path) -> Path:
        """Upstream's layout, the two `.bin` state dicts; returns the folder (what `load` takes)."""
        model = self._model()
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(model.encoder.state_dict(), folder / NS3_FILES[0])
        torch.save(model.decoder.state_dict(), folder / NS3_FILES[1])
        return folder

    def _load_files(self, files: list[Path]) -> NS3FACodec:
        model = NS3FACodec()
        encoder, decoder = (self._load_checkpoint(f) for f in files)
        if not (isinstance(encoder, Mapping) and isinstance(decoder, Mapping)):
            raise WeightsError(f"{files[0].parent}: expected two state dicts ({', '.join(NS3_FILES)})")
        try:
            model.load_parts(encoder, decoder)
        except RuntimeError as err:
            raise WeightsError(f"{files[0].parent}: not the NS3 FACodec v1 release ({err})") from err
        self.checkpoint_paths = files
        return model

    def _encode(self, wav: torch.Tensor) -> Codes:
        length = int(wav.shape[-1])
        frames = max(1, -(-length // NS3_HOP_SAMPLES))
        wav = torch.nn.functional.pad(wav, (0, frames * NS3_HOP_SAMPLES - length))
        codes, speaker = self._model().encode(wav)
        return self._frame_codes(codes, NS3_HOP_SAMPLES, length, speaker=speaker)

    def _decode(self, codes: Codes) -> torch.Tensor:
        model = self._model()
        self._check_levels(codes, 1, self.card.n_quantizers)
        speaker = codes.extra.get("speaker")
        if speaker is None:
            raise ValueError(f"{self.card.spec}: Codes.extra has no 'speaker' embedding; encode with this variant")
        return model.decode(codes.levels[0].to(self.device), speaker.to(self.device))

    def _model(self) -> NS3FACodec:
        if not isinstance(self.model, NS3FACodec):
            raise WeightsError(f"{self.card.spec}: model not built")
        return self.model
