"""Which weights one codec loads: `pretrained` (upstream hub/URL/cache), `random` or a local checkpoint path.

A build chooses them per codec with `ncst.codecs.weight_plan.WeightsPlan` (docs/weights.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ncst.errors import WeightsError

__all__ = ["WeightsSpec", "parse_weights", "needs_weights"]


@dataclass(frozen=True, slots=True)
class WeightsSpec:
    """Which weights to load: `"pretrained"` (upstream hub/URL/cache), `"random"` or a local path."""

    mode: str  # "pretrained" | "random" | "path"
    path: Path | None = None

    @property
    def is_random(self) -> bool:
        return self.mode == "random"

    def describe(self) -> str:
        return str(self.path) if self.mode == "path" else self.mode


def parse_weights(weights: "str | Path | WeightsSpec") -> WeightsSpec:
    """Parses `--weights`: `pretrained`, `random`, or a path to a local checkpoint file or folder."""
    if isinstance(weights, WeightsSpec):
        return weights
    if isinstance(weights, Path):
        return _path_weights(weights)
    if weights in ("pretrained", "random"):
        return WeightsSpec(weights)
    return _path_weights(Path(weights))


def _path_weights(path: Path) -> WeightsSpec:
    if not path.exists():
        raise WeightsError(f"weights {str(path)!r} is neither 'pretrained', 'random' nor an existing file or folder")
    return WeightsSpec("path", path.resolve())


def needs_weights(checkpoint: str) -> bool:
    """Whether a card's `checkpoint` names weights (the real class has `none (no weights)`)."""
    return not checkpoint.startswith("none")
