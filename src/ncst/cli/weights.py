"""`ncst weights list` and `ncst weights fetch`: the checkpoints a build needs, for clusters without internet.

A login node with network runs `ncst weights fetch --recipe st-codecfake` (into the upstream caches, which
compute nodes then read with `HF_HUB_OFFLINE=1`) or `... --dir DIR` (one folder per codec, read by
`--weights-dir DIR`). Fetching goes through each adapter's own download code (`Codec.load("pretrained")`),
so the files are exactly what a build would download. See docs/weights.md.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.table import Table

from ncst.cli._common import escape, print_table, reports_errors, say, setup_logging

__all__ = ["group", "recipe_specs", "weights_dir_folder", "describe_weights"]

group = typer.Typer(
    add_completion=False, no_args_is_help=True, help="List and fetch the checkpoints codecs load (offline clusters)."
)


def recipe_specs(name: str) -> list[str]:
    """Canonical codec specs of every class of every subset of recipe `name`, in recipe order."""
    from ncst.codecs import get_card
    from ncst.recipes.recipe import load_recipe

    recipe = load_recipe(name)
    specs: dict[str, None] = {}
    for subset in recipe.subsets:
        for class_id in subset.classes:
            specs.setdefault(get_card(subset.codec or recipe.classes[class_id].codec).spec)
    return list(specs)


def weights_dir_folder(spec: str) -> str:
    """The `--weights-dir` sub-folder of `spec`: `<name>` when it shares its family's default checkpoint, else `<spec>`.

    EnCodec's bandwidths and FunCodec's bit widths are one checkpoint each (`Codec.shared_model_key`), so they
    share `DIR/encodec/` and `DIR/funcodec/`; `wavtokenizer@small40` is another checkpoint and has its own.
    """
    from ncst.codecs import codec_class, get_card

    card = get_card(spec)
    cls = codec_class(card.name)
    default = get_card(card.name)
    key = cls.shared_model_key(card)
    if key != card.spec and key == cls.shared_model_key(default):
        return card.name
    return card.spec


def _specs(specs: List[str], recipe: Optional[str]) -> list[str]:
    from ncst.codecs import get_card
    from ncst.errors import NcstError

    if specs and recipe:
        raise NcstError("give codec specs or --recipe, not both")
    if recipe:
        return recipe_specs(recipe)
    if not specs:
        raise NcstError("give codec specs (e.g. encodec snac) or --recipe st-codecfake")
    return list(dict.fromkeys(get_card(s).spec for s in specs))


def describe_weights(spec: str) -> dict[str, Any]:
    """What `ncst weights list --json` prints for one codec."""
    from ncst.codecs import get_card, get_codec
    from ncst.codecs.weights import needs_weights

    card = get_card(spec)
    files = get_codec(spec).weight_files()
    needed = needs_weights(card.checkpoint)
    return {
        "spec": card.spec,
        "checkpoint": card.checkpoint,
        "needs_weights": needed,
        "public": bool(files) or not needed,
        "weights_dir_folder": weights_dir_folder(spec),
        "present": all(f.present for f in files),
        "files": [f.to_dict() for f in files],
    }


@group.command("list")
@reports_errors
def weights_list(
    specs: List[str] = typer.Argument(None, help="Codec specs, e.g. encodec wavtokenizer@small40."),
    recipe: Optional[str] = typer.Option(
        None, help="Every codec of a recipe ('st-codecfake', 'st-codecfake-plus' or a .toml)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Each codec's checkpoint: files, where the upstream cache keeps them, present or missing, size, sha256."""
    rows = [describe_weights(spec) for spec in _specs(specs or [], recipe)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="codec checkpoints")
    for col in ("spec", "checkpoint", "file", "cache path", "present", "size (MB)", "sha256"):
        table.add_column(col, no_wrap=col == "spec")
    for row in rows:
        if not row["files"]:
            state = "no weights needed" if not row["needs_weights"] else "[red]no public checkpoint[/]"
            table.add_row(escape(row["spec"]), escape(row["checkpoint"] or "-"), "-", "-", state, "-", "-")
        for f in row["files"]:
            size = f"{f['size_bytes'] / 1e6:.1f}" if f["size_bytes"] is not None else "-"
            table.add_row(
                escape(row["spec"]),
                escape(row["checkpoint"]),
                escape(Path(f["path"]).name),
                escape(f["path"]),
                "[green]yes[/]" if f["present"] else "[red]missing[/]",
                size,
                escape(f["sha256"] or "-"),
            )
    print_table(table)


@group.command("fetch")
@reports_errors
def weights_fetch(
    specs: List[str] = typer.Argument(None, help="Codec specs, e.g. encodec wavtokenizer@small40."),
    recipe: Optional[str] = typer.Option(
        None, help="Every codec of a recipe ('st-codecfake', 'st-codecfake-plus' or a .toml)."
    ),
    into: Optional[Path] = typer.Option(
        None, "--dir", help="Write each codec to DIR/<spec>/ or DIR/<name>/ (the --weights-dir layout)."
    ),
    trust_checkpoint: bool = typer.Option(
        False, "--trust-checkpoint", help="Allow checkpoints that hold pickled Python objects (can run code)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
) -> None:
    """Download each codec's checkpoint through its adapter's own download code (upstream caches; resumable).

    With --dir, also write it in the layout `--weights-dir DIR` reads; a folder already there is kept.
    """
    from ncst.codecs import get_card, get_codec
    from ncst.codecs.weights import needs_weights
    from ncst.errors import WeightsError

    setup_logging(verbose)
    todo = _specs(specs or [], recipe)
    written: set[str] = set()
    for index, spec in enumerate(todo, 1):
        card = get_card(spec)
        prefix = f"[{index}/{len(todo)}] {spec}"
        if not needs_weights(card.checkpoint):
            say(f"{prefix}: no weights needed")
            continue
        folder = into / weights_dir_folder(spec) if into is not None else None
        if folder is not None and (folder.name in written or folder.is_dir()):
            say(f"{prefix}: {folder} already there")
            continue
        codec = get_codec(spec)
        if not codec.weight_files():
            raise WeightsError(
                f"{spec}: no public checkpoint; pass a local one with --weights {spec}=PATH (docs/weights.md)"
            )
        say(f"{prefix}: fetching {card.checkpoint}")
        codec.load("pretrained", trust_checkpoint=trust_checkpoint)
        if folder is not None:
            folder.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
                codec.save_local(Path(tmp) / "staging")
                (Path(tmp) / "staging").rename(folder)  # all or nothing: a killed fetch leaves no half folder
            written.add(folder.name)
            say(f"{prefix}: written to {folder}")
        else:
            say(f"{prefix}: in the cache ({', '.join(str(f.path) for f in codec.weight_files())})")
        codec.release()
    if into is not None:
        say(f"done; build with --weights-dir {into}")
