"""`real`: 16-bit linear PCM as a codec, which makes the real (bona fide) class of ST-Codecfake, class 0.

The real files of the official dataset are the source recordings themselves (`p225_001.wav`,
`SSB00050001.wav`, no prefix). Treating "resample, then store as 16-bit PCM" as a codec lets the
builder write them with the same jobs, provenance, resume and verification as every fake class. Codes
are the 16-bit samples (one codebook of 65,536 entries at the sample rate), so the measured bitrate is
the PCM rate, 256 kbps at 16 kHz. There are no weights: `pretrained`, `random` and a path all give the
same (exact) codec.
"""

from __future__ import annotations

import logging

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes, WeightsSpec
from ncst.taxonomy import REAL_TAXONOMY

__all__ = ["DEFAULT_VARIANT", "VARIANTS", "RealCodec"]

log = logging.getLogger(__name__)

_SCALE = 32768.0
_ROW = class_by_key("real")


def _card(variant: str, rate: int) -> CodecCard:
    return CodecCard(
        name="real",
        variant=variant,
        family="real (16-bit PCM)",
        class_id=_ROW.class_id,
        file_prefix=_ROW.file_prefix,
        sample_rate_hz=rate,
        n_quantizers=1,
        frame_rate_hz=float(rate),
        codebook_size=65536,
        nominal_bitrate_bps=rate * 16.0,
        effective_bitrate_bps=rate * 16.0,
        checkpoint="none (no weights)",
        upstream_package="soundfile",
        pip_extra="",
        licence="n/a (the source corpus licence applies to the audio)",
        quantizer="uniform 16-bit",
        decoder_type="identity",
        taxonomy=REAL_TAXONOMY,
        notes=(
            "ST-Codecfake class 0 (real): the source utterance resampled to this rate (soxr HQ) and stored as "
            "16-bit PCM, named <utt>.wav without prefix. The official loaders resample every file to 16 kHz, "
            "so 16 kHz keeps the files small without changing what a model sees."
        ),
    )


VARIANTS: dict[str, CodecCard] = {"16k": _card("16k", 16000), "24k": _card("24k", 24000)}
DEFAULT_VARIANT = "16k"


class RealCodec(Codec):
    """Quantise to 16-bit integers and back; codes are one level `[B, 1, T]` of values 0..65535."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    def _build(self, weights: WeightsSpec, seed: int) -> None:
        if weights.mode == "path":
            log.warning("the real class has no weights; ignoring %s", weights.path)

    def _encode(self, wav: torch.Tensor) -> Codes:
        ints = torch.round(wav.clamp(-1.0, 1.0 - 1.0 / _SCALE) * _SCALE).long() + 32768
        return Codes(
            levels=(ints,),
            codebook_size=65536,
            covered_samples=int(wav.shape[-1]),
            sample_rate_hz=self.card.sample_rate_hz,
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        return (codes.levels[0].float() - 32768.0) / _SCALE
