"""Conformance check run by `ncst codecs check` and by the adapter tests.

One short clip through the codec, then: output length equals input length, sample rate is the card's,
output is finite, two runs give identical output (determinism under the load seed), the quantiser is
not degenerate, the bitrate measured from the actual codes (tokens/s x log2 codebook) equals the
card's effective bitrate, the codes cover a whole multiple of the card's `pad_multiple`, and the card
says where the architecture comes from (the installed version of a pip package is the card's
`upstream_version`; a port names its upstream repository and full commit).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ncst.codecs.base import Codec, CodecCard, WeightsSpec
from ncst.codecs.random_init import calibration_signal
from ncst.codecs.registry import get_codec

__all__ = ["ConformanceReport", "check_codec", "check_card_source", "BITRATE_TOLERANCE"]

log = logging.getLogger(__name__)

#: Relative tolerance between measured and card bitrate.
BITRATE_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """Result of one conformance check; `ok` is the conjunction of the individual checks."""

    spec: str
    weights: str
    sample_rate_hz: int
    card_sample_rate_hz: int
    input_samples: int
    output_samples: int
    length_ok: bool
    finite_ok: bool
    deterministic: bool
    n_quantizers: int
    codebook_size: int
    distinct_codes: int
    measured_bitrate_bps: float
    card_bitrate_bps: float
    nominal_bitrate_bps: float
    bitrate_ok: bool
    seconds: float
    pad_multiple: int = 1
    covered_samples: int = 0
    padding_ok: bool = True
    source: str = "pip"
    source_problem: str = ""

    @property
    def source_ok(self) -> bool:
        return not self.source_problem

    @property
    def ok(self) -> bool:
        return (
            self.length_ok
            and self.finite_ok
            and self.deterministic
            and self.bitrate_ok
            and self.sample_rate_hz == self.card_sample_rate_hz
            and self.distinct_codes > 1
            and self.padding_ok
            and self.source_ok
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["source_ok"] = self.source_ok
        return d


_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def check_card_source(card: CodecCard) -> str:
    """What is wrong with the card's architecture source, or "" (see `CodecCard.source`)."""
    if card.source == "port":
        if not card.upstream_repo:
            return f"{card.spec}: a port card must name upstream_repo"
        if not _COMMIT.match(card.upstream_commit):
            return f"{card.spec}: a port card must give the full 40-hex upstream_commit, got {card.upstream_commit!r}"
        return ""
    packages = [p.strip() for p in card.upstream_package.split(",") if p.strip()]
    if card.upstream_version and len(packages) == 1:
        try:
            installed = metadata.version(packages[0])
        except metadata.PackageNotFoundError:
            return f"{card.spec}: {packages[0]} is not installed"
        if installed != card.upstream_version:
            return f"{card.spec}: card says {packages[0]} {card.upstream_version}, installed is {installed}"
    return ""


def check_codec(
    spec: str | Codec,
    *,
    weights: str | Path | WeightsSpec = "random",
    duration_s: float = 0.5,
    seed: int = 0,
    device: str = "cpu",
    trust_checkpoint: bool = False,
) -> ConformanceReport:
    """Builds (or takes) a codec and runs the conformance checks on a `duration_s` calibration clip.

    The clip length is deliberately not a multiple of any codec hop, so the crop/pad path is exercised.
    """
    start = time.perf_counter()
    codec = spec if isinstance(spec, Codec) else get_codec(spec, device=device)
    if not codec.is_loaded:
        codec.load(weights, seed=seed, trust_checkpoint=trust_checkpoint)
    card = codec.card
    rate = card.sample_rate_hz
    n = int(round(duration_s * rate)) + 7  # off-hop length
    g = torch.Generator().manual_seed(seed + 1)
    x = calibration_signal(rate, n / rate, generator=g).reshape(1, -1)[:, :n]

    codes = codec.encode(x)
    y1 = codec.decode(codes, length=n)
    y2 = codec.resynthesize(x)
    y3 = codec.resynthesize(x)
    measured = codes.bitrate_bps()
    report = ConformanceReport(
        spec=card.spec,
        weights=codec.weights.describe() if codec.weights else "unknown",
        sample_rate_hz=rate,
        card_sample_rate_hz=card.sample_rate_hz,
        input_samples=n,
        output_samples=int(y2.shape[-1]),
        length_ok=tuple(y2.shape) == (1, n) and tuple(y1.shape) == (1, n),
        finite_ok=bool(torch.isfinite(y2).all()),
        deterministic=bool(torch.equal(y2, y3) and torch.equal(y1.cpu(), y2)),
        n_quantizers=codes.n_quantizers,
        codebook_size=codes.codebook_size,
        distinct_codes=codes.distinct_codes(),
        measured_bitrate_bps=round(measured, 2),
        card_bitrate_bps=card.effective_bitrate_bps,
        nominal_bitrate_bps=card.nominal_bitrate_bps,
        bitrate_ok=abs(measured - card.effective_bitrate_bps) <= BITRATE_TOLERANCE * card.effective_bitrate_bps,
        seconds=round(time.perf_counter() - start, 2),
        pad_multiple=card.pad_multiple,
        covered_samples=codes.covered_samples,
        padding_ok=codes.covered_samples >= n and codes.covered_samples % card.pad_multiple == 0,
        source=card.source,
        source_problem=check_card_source(card),
    )
    log.info("conformance %s: %s", card.spec, "ok" if report.ok else "FAILED")
    return report
