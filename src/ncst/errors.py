"""Named exceptions raised by ncst.

Every message gives the bad value, the valid choices and the fix, so a user can act on it without
reading the source.
"""

from __future__ import annotations

__all__ = [
    "NcstError",
    "AudioError",
    "CorpusLayoutError",
    "ChecksumError",
    "MissingDependencyError",
    "NotFittedError",
    "UnknownCodecError",
    "WeightsError",
    "UntrustedCheckpointError",
    "ProtocolError",
    "BuildLockedError",
    "ContractError",
    "TaxonomyError",
]


class NcstError(Exception):
    """Base class of every error ncst raises on purpose."""


class AudioError(NcstError, ValueError):
    """An audio file or array is unusable (unreadable, empty, NaN/Inf, clipped, absurdly long)."""


class CorpusLayoutError(NcstError, ValueError):
    """A corpus folder or manifest does not have the expected layout or columns."""


class ChecksumError(NcstError):
    """A file's hash does not match the expected one."""


class MissingDependencyError(NcstError, ImportError):
    """An optional upstream package is not installed; the message names the pip extra to install."""


class NotFittedError(NcstError, RuntimeError):
    """A detector or model was used before `fit` or `load`."""


class UnknownCodecError(NcstError, KeyError):
    """A codec name or variant is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message and add quotes
        return str(self.args[0]) if self.args else ""


class WeightsError(NcstError, ValueError):
    """Weights could not be resolved or loaded (bad path, bad mode, refused random weights)."""


class UntrustedCheckpointError(WeightsError):
    """A checkpoint needs full unpickling (which can run code) and the caller did not opt in.

    The message names the file and the `--trust-checkpoint` flag that allows it.
    """


class ProtocolError(NcstError, ValueError):
    """A protocol, its inputs or its labels are inconsistent."""


class BuildLockedError(NcstError):
    """Another live process is building the same folder and shard; the message names it (pid, host, start)."""


class ContractError(NcstError, AssertionError):
    """A codec adapter breaks the adapter contract (`ncst.codecs.contract`); the message lists every failure."""


class TaxonomyError(NcstError, ValueError):
    """A codec taxonomy value is outside the vocabulary, or a `taxonomy.csv` is malformed (file and line named)."""
