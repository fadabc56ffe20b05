"""A tiny DSP "codec" for builder tests: 8-bit mu-law per frame mean, registered as `fakecodec`.

It is a real encode/decode pair (lossy, deterministic, any length), so the builder's resampling,
length, hashing and resume logic are exercised without loading a neural model. `NCST_FAKE_DELAY`
(seconds) slows each resynthesis down for the kill-and-resume test.
"""

from __future__ import annotations

import math
import os
import time

import torch

from ncst.codecs import Codec, CodecCard, Codes, register_codec


def _card(variant: str, rate: int, prefix: str, class_id: int | None) -> CodecCard:
    hop = rate // 100
    return CodecCard(
        name="fakecodec",
        variant=variant,
        family="Fake",
        class_id=class_id,
        file_prefix=prefix,
        sample_rate_hz=rate,
        n_quantizers=1,
        frame_rate_hz=rate / hop * hop / hop,
        codebook_size=256,
        nominal_bitrate_bps=rate * 8.0,
        effective_bitrate_bps=rate * 8.0,
        checkpoint="none",
        upstream_package="torch",
        pip_extra="",
        licence="MIT",
        quantizer="mu-law",
        decoder_type="time",
        extra={"hop": 1},
    )


@register_codec("fakecodec")
class FakeCodec(Codec):
    VARIANTS = {
        "16k": _card("16k", 16000, "fake", 1),
        "24k": _card("24k", 24000, "fake24", 4),
    }
    DEFAULT_VARIANT = "16k"

    def _build(self, weights, seed):  # noqa: ANN001
        self.gain = 0.9 + 0.1 * torch.rand(()).item()  # seeded by the base class

    def _encode(self, wav: torch.Tensor) -> Codes:
        delay = float(os.environ.get("NCST_FAKE_DELAY", "0"))
        if delay:
            time.sleep(delay)
        mu = 255.0
        y = torch.sign(wav) * torch.log1p(mu * wav.abs().clamp(max=1.0)) / math.log1p(mu)
        codes = ((y + 1) / 2 * mu).round().long().clamp(0, 255)
        return Codes(
            levels=(codes,), codebook_size=256, covered_samples=wav.shape[-1], sample_rate_hz=self.card.sample_rate_hz
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        mu = 255.0
        y = codes.levels[0].float() / mu * 2 - 1
        x = torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu
        return self.gain * x
