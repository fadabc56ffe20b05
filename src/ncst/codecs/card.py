"""`CodecCard`: everything fixed about one codec variant (rates, codebooks, bitrates, class, provenance).

Torch-free, so tables, docs and the class table checks can read cards without loading a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from ncst.taxonomy import UNKNOWN_TAXONOMY, Taxonomy

__all__ = ["ARCHITECTURE_SOURCES", "CodecCard"]

#: Values of `CodecCard.source`.
ARCHITECTURE_SOURCES = ("pip", "port")


@dataclass(frozen=True, slots=True)
class CodecCard:
    """Everything fixed about one codec variant.

    Attributes:
        name: Registry key of the family, e.g. `"encodec"`.
        variant: Variant key inside the family, e.g. `"6kbps"`.
        family: Human-readable family name, e.g. `"EnCodec"`.
        class_id: ST-Codecfake class id (0-11) of the audio this variant makes, or None.
        file_prefix: Prefix of generated file names (`encodec_<utt>.wav`, `C4-1_<utt>.wav`).
        sample_rate_hz: Rate the model runs at; input is resampled to it and output is written at it.
        n_quantizers: Codebooks used per frame (summed over levels for multi-scale codecs).
        frame_rate_hz: Token frames per second (of the finest level for multi-scale codecs).
        codebook_size: Entries per codebook.
        nominal_bitrate_bps: Bitrate as the paper's table states it.
        effective_bitrate_bps: tokens/s x log2(codebook_size), what the codes really carry.
        checkpoint: Where real weights come from (hub id, URL or file name).
        checkpoint_sha256: Expected sha256 of the checkpoint file, where known.
        upstream_package: Distribution that provides the architecture (`source="pip"`), or "" for a port.
        pip_extra: ncst extra that installs it (`pip install ncst[<extra>]`); "" (the default) for a
            plug-in, whose own package brings what it needs, and for codecs that need nothing beyond ncst.
        licence: Licence of code and weights.
        quantizer: Taxonomy: quantiser type (RVQ, multi-scale RVQ, FSQ, ...).
        decoder_type: Taxonomy: decoder domain (time, frequency/iSTFT, ...).
        notes: Settings, evidence and caveats worth reading before trusting the audio.
        extra: Adapter-specific settings (bandwidth, bit_width, ...).
        source: Where the architecture comes from: `"pip"` (an upstream package, `upstream_package` at
            `upstream_version`) or `"port"` (our own modules in `ncst.codecs.ports`, checked against
            `upstream_repo` at `upstream_commit`).
        upstream_version: Version of `upstream_package` the adapter was written and tested against.
        upstream_repo: Upstream repository URL (required for a port).
        upstream_commit: Full commit hash of `upstream_repo` a port was checked against.
        pad_multiple: The codec pads its input to a multiple of this many samples (its hop, or a larger
            block); the conformance check verifies that the codes cover such a multiple.
        taxonomy: Where the codec sits on the three taxonomy axes (`ncst.taxonomy`: quantiser, auxiliary
            objective, decoder domain); `quantizer` and `decoder_type` are its finer text. A plug-in may
            leave it unknown.
    """

    name: str
    variant: str
    family: str
    class_id: int | None
    file_prefix: str
    sample_rate_hz: int
    n_quantizers: int
    frame_rate_hz: float
    codebook_size: int
    nominal_bitrate_bps: float
    effective_bitrate_bps: float
    checkpoint: str
    upstream_package: str
    licence: str
    quantizer: str
    decoder_type: str
    checkpoint_sha256: str | None = None
    pip_extra: str = ""
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    source: str = "pip"
    upstream_version: str = ""
    upstream_repo: str = ""
    upstream_commit: str = ""
    pad_multiple: int = 1
    taxonomy: Taxonomy = UNKNOWN_TAXONOMY

    def __post_init__(self) -> None:
        if self.source not in ARCHITECTURE_SOURCES:
            raise ValueError(f"{self.spec}: card source {self.source!r} is not one of {ARCHITECTURE_SOURCES}")
        if self.pad_multiple < 1:
            raise ValueError(f"{self.spec}: pad_multiple must be >= 1, got {self.pad_multiple}")

    @property
    def install_hint(self) -> str:
        """The command that installs what this codec needs: its ncst extra, else its upstream package."""
        if self.pip_extra:
            return f"pip install ncst[{self.pip_extra}]"
        packages = " ".join(p.strip() for p in self.upstream_package.split(",") if p.strip())
        return f"pip install {packages}" if packages else "reinstall the package that provides this codec"

    @property
    def spec(self) -> str:
        """Canonical spec string, e.g. `"encodec@6kbps"`."""
        return f"{self.name}@{self.variant}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra"] = dict(self.extra)
        d["spec"] = self.spec
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CodecCard":
        fields = {k: v for k, v in d.items() if k != "spec"}
        if isinstance(fields.get("taxonomy"), Mapping):
            fields["taxonomy"] = Taxonomy.from_dict(fields["taxonomy"])
        return cls(**fields)
