"""What a build records per file: a provenance row for each file written, a failure for each file that failed.

Both are frozen dataclasses with `to_dict` / `from_dict` and import nothing heavy (no torch, no job
runner), so the label, manifest and verify code can read them anywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

__all__ = ["FAILURE_COLUMNS", "JobFailure", "ProvenanceRow"]

#: Columns of `failures*.csv`, in order.
FAILURE_COLUMNS = ["file", "utt_id", "source_path", "codec_spec", "error", "message"]


@dataclass(frozen=True, slots=True)
class ProvenanceRow:
    """Where one generated file came from and how it was made.

    Attributes:
        file: Output path relative to the build folder (`wav/encodec_p225_001.wav`).
        utt_id: Source utterance id.
        source_path: Source audio file as read.
        source_sha256: sha256 of the source file's bytes.
        source_sample_rate_hz: Rate of the source file.
        source_samples: Length of the source in samples (after downmix).
        codec_spec: Canonical codec spec (`encodec@6kbps`).
        class_id: ST-Codecfake class id of the output (None if the codec has none).
        weights: `pretrained`, `random` or the local checkpoint path.
        checkpoint: Checkpoint id from the codec card (hub id / URL).
        checkpoint_sha256: sha256 of each checkpoint file actually loaded (empty for random weights).
        upstream_versions: Versions of torch and the upstream codec package.
        resampling: Resampling chain applied before the codec (`soxr HQ 16000->24000` or `none`).
        sample_rate_hz: Rate of the output (the codec's rate).
        input_samples: Samples fed to the codec.
        output_samples: Samples written (always equal to `input_samples`).
        output_peak: Peak |y| before clipping to [-1, 1] for 16-bit PCM.
        output_sha256: sha256 of the written file.
        seed: Seed of random weights and decoder sampling.
        ncst_version: ncst version that wrote the file.
        git_commit: ncst git commit, when installed from a checkout.
        created_utc: ISO-8601 time the file was written.
        seconds: Wall time spent on this file.
        source_size_bytes: Size of the source file when it was read (a rerun compares size and mtime, and
            re-hashes the source when they differ, to find a replaced source).
        source_mtime_ns: Modification time of the source file when it was read (ns since the epoch).
        extra: Anything else an adapter or recipe wants recorded.
    """

    file: str
    utt_id: str
    source_path: str
    source_sha256: str
    source_sample_rate_hz: int
    source_samples: int
    codec_spec: str
    class_id: int | None
    weights: str
    checkpoint: str
    checkpoint_sha256: Mapping[str, str]
    upstream_versions: Mapping[str, str]
    resampling: str
    sample_rate_hz: int
    input_samples: int
    output_samples: int
    output_peak: float
    output_sha256: str
    seed: int
    ncst_version: str
    git_commit: str | None
    created_utc: str
    seconds: float
    source_size_bytes: int | None = None
    source_mtime_ns: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_random_weights(self) -> bool:
        return self.weights == "random"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("checkpoint_sha256", "upstream_versions", "extra"):
            d[key] = dict(d[key])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProvenanceRow":
        """Builds a row from a parsed provenance line, checking every field's type.

        Raises:
            TypeError: `d` is not a mapping, a field is missing or has the wrong type, or `file` is not a
                relative path inside the build folder (a crafted line must not point verify elsewhere).
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"a provenance line must be a JSON object, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in d.items() if k in names}
        extra = known.pop("extra", {}) or {}
        if not isinstance(extra, Mapping):
            raise TypeError(f"field 'extra' must be an object, got {type(extra).__name__}")
        extra = dict(extra)
        extra.update({k: v for k, v in d.items() if k not in names})
        for f in fields(cls):
            if f.name in known and not _has_type(known[f.name], str(f.type)):
                raise TypeError(f"field {f.name!r} must be {f.type}, got {type(known[f.name]).__name__}")
        file = known.get("file")
        if isinstance(file, str) and (file.startswith(("/", "\\")) or ".." in file.replace("\\", "/").split("/")):
            raise TypeError(f"field 'file' must be a path inside the build folder, got {file[:80]!r}")
        return cls(**known, extra=extra)


def _has_type(value: Any, annotation: str) -> bool:
    """Whether a JSON value fits a field annotation of `ProvenanceRow` (bool is not a number here)."""
    if annotation.endswith(" | None"):
        return value is None or _has_type(value, annotation[: -len(" | None")])
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation == "Mapping[str, str]":
        return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if annotation.startswith("Mapping["):
        return isinstance(value, Mapping)
    raise AssertionError(f"no type check for annotation {annotation!r}")  # a new field needs a rule here


@dataclass(frozen=True, slots=True)
class JobFailure:
    """A job that could not be done, and why (one row of `failures*.csv`)."""

    file: str
    utt_id: str
    source_path: str
    codec_spec: str
    error: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in FAILURE_COLUMNS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "JobFailure":
        return cls(**{name: str(d.get(name, "")) for name in FAILURE_COLUMNS})
