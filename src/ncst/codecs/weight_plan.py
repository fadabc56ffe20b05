"""`--weights` and `--weights-dir`: which weights each codec of a build loads.

A build names them per codec with a `WeightsPlan`: one default, `SPEC_OR_NAME=VALUE` overrides
(`--weights pretrained --weights facodec=/ckpt/fa/ --weights dac=random`) and a `--weights-dir DIR` whose
`DIR/<spec>/` or `DIR/<name>/` folders hold checkpoints in each adapter's `save_local` layout (what
`ncst weights fetch --dir DIR` writes). Clusters without internet hand all their checkpoints to one build
this way; see docs/weights.md. (Apart from `ncst.codecs.weights`, which the codec base class imports, so
that this module may use the registry.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ncst.codecs.registry import codec_class, get_card, parse_spec
from ncst.codecs.weights import WeightsSpec, needs_weights, parse_weights
from ncst.errors import UnknownCodecError, WeightsError

__all__ = ["WeightsPlan", "ResolvedWeights", "parse_weights_options", "as_weights_plan", "weights_label"]


@dataclass(frozen=True, slots=True)
class ResolvedWeights:
    """The weights one codec loads, and which option chose them (recorded in provenance)."""

    spec: WeightsSpec
    source: str


@dataclass(frozen=True, slots=True)
class WeightsPlan:
    """Weights per codec: a default, per-spec or per-family overrides, and a checkpoint folder.

    Attributes:
        default: `pretrained`, `random` or a local path, for every codec nothing else names.
        overrides: `(key, value)` pairs; a key is a canonical spec (`facodec@timbre_norm`) or a family name
            (`facodec`); the value is what `parse_weights` takes.
        weights_dir: Folder with one sub-folder per codec, `<spec>/` or `<name>/`, in `save_local`'s layout.

    Precedence for one codec: an override of its spec, of its name, then `weights_dir/<spec>/`, then
    `weights_dir/<name>/`, then the default. A codec that needs weights and is missing from `weights_dir`
    is an error (naming the folders looked at), so that a cluster build never silently downloads.
    """

    default: str = "pretrained"
    overrides: tuple[tuple[str, str], ...] = ()
    weights_dir: Path | None = None

    def resolve(self, spec: str) -> ResolvedWeights:
        """The weights of codec `spec` (any spelling: `encodec`, `encodec:3kbps`)."""
        card = get_card(spec)
        table = dict(self.overrides)
        for key in (card.spec, card.name):
            if key in table:
                return ResolvedWeights(parse_weights(table[key]), f"--weights {key}={table[key]}")
        if self.weights_dir is not None:
            for key in (card.spec, card.name):
                folder = self.weights_dir / key
                if folder.is_dir():
                    return ResolvedWeights(WeightsSpec("path", folder.resolve()), f"--weights-dir {folder}")
        if self.weights_dir is not None and needs_weights(card.checkpoint):
            raise WeightsError(
                f"{card.spec}: --weights-dir {self.weights_dir} has neither {card.spec}/ nor {card.name}/; "
                f"write it with `ncst weights fetch {card.spec} --dir {self.weights_dir}` where there is network, "
                f"or name its weights with --weights {card.spec}=PATH"
            )
        return ResolvedWeights(parse_weights(self.default), f"--weights {self.default}")

    def label(self) -> str:
        """One canonical string for build.json: the default alone when nothing else is set (as before)."""
        parts = [parse_weights(self.default).describe()]
        parts += [f"{key}={parse_weights(value).describe()}" for key, value in sorted(self.overrides)]
        if self.weights_dir is not None:
            parts.append(f"dir={self.weights_dir}")
        return "; ".join(parts)


def as_weights_plan(weights: "str | Path | WeightsPlan") -> WeightsPlan:
    """A plan from what a config holds: a plan, or one value for every codec (the old `--weights`)."""
    return weights if isinstance(weights, WeightsPlan) else WeightsPlan(default=str(weights))


def weights_label(weights: "str | Path | WeightsPlan") -> str:
    """What build.json records for `weights` (refusing to mix weights in one folder compares it)."""
    return as_weights_plan(weights).label()


def parse_weights_options(
    values: Sequence[str], weights_dir: Path | None = None, *, default: str = "pretrained"
) -> WeightsPlan:
    """Parses repeated `--weights` values and `--weights-dir` into a `WeightsPlan`.

    A value is a default (`pretrained`, `random`, a path) or `SPEC_OR_NAME=VALUE` when the text before the
    first `=` is a registered codec spec or name (so a path holding `=` still works as a default). At most
    one default (`default` when none is given); overrides of the same codec twice are refused. Paths must exist.

    Raises:
        WeightsError: Two defaults, a repeated codec, an unknown codec, a missing path or `--weights-dir`.
    """
    chosen: str | None = None
    overrides: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if sep and key.strip() and "/" not in key and "\\" not in key:
            try:
                parsed = parse_spec(key)
                canonical = get_card(parsed).spec if parsed.variant else parsed.name
                codec_class(parsed.name)  # an unknown family raises here
            except UnknownCodecError as err:
                if not Path(value).exists():
                    raise WeightsError(f"--weights {value[:120]!r}: {err}") from err
                canonical = ""  # an existing path that holds '=': the default
        else:
            canonical = ""
        if canonical:
            if canonical in overrides:
                raise WeightsError(f"--weights names {canonical} twice ({overrides[canonical]!r} and {rest!r})")
            parse_weights(rest)  # a missing path fails here, before any work
            overrides[canonical] = rest if rest in ("pretrained", "random") else str(Path(rest).resolve())
            continue
        if chosen is not None:
            raise WeightsError(
                f"--weights {chosen!r} and {value!r}: only one default; name a codec for the others "
                "(SPEC_OR_NAME=VALUE)"
            )
        parse_weights(value)
        chosen = value if value in ("pretrained", "random") else str(Path(value).resolve())
    if weights_dir is not None and not weights_dir.is_dir():
        raise WeightsError(f"--weights-dir {weights_dir}: not a folder")
    return WeightsPlan(
        default=chosen or default,
        overrides=tuple(sorted(overrides.items())),
        weights_dir=weights_dir.resolve() if weights_dir is not None else None,
    )
