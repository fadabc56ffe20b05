"""The umbrella `ncst` command: one thin module per command in `ncst.cli`, registered in `COMMANDS`.

Each entry names a command and `module:attribute`: a function is mounted as one command, a
`typer.Typer` as a group of subcommands. Adding a command is one line in `COMMANDS`.
`build-dataset` and `run-protocol` are also console scripts of their own (`ncst build` and
`ncst score` are their aliases).
"""

from __future__ import annotations

import importlib
from typing import Any, List, Optional

import typer
from typer.core import TyperGroup

from ncst.cli._common import setup_logging

__all__ = ["COMMANDS", "app", "main"]

#: `ncst` subcommands: (name, "module:attribute", aliases), in the order `ncst --help` lists them.
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("codecs", "ncst.cli.codecs:group", ()),
    ("weights", "ncst.cli.weights:group", ()),
    ("build-dataset", "ncst.cli.build_dataset:build_dataset", ("build",)),
    ("build-recipe", "ncst.cli.build_recipe:build_recipe", ()),
    ("verify", "ncst.cli.verify:verify", ()),
    ("card", "ncst.cli.card:card", ()),
    ("run-protocol", "ncst.cli.run_protocol:run_protocol", ("score",)),
    ("protocols", "ncst.cli.protocols:group", ()),
    ("download", "ncst.cli.download:download", ()),
    ("ingest", "ncst.cli.ingest:ingest", ()),
    ("export", "ncst.cli.export:export", ()),
    ("models", "ncst.cli.models:models", ()),
    ("train", "ncst.cli.train:train", ()),
    ("demo", "ncst.cli.demo:demo", ()),
)

#: Command names whose `--recipe` spelling is `build-recipe`.
_RECIPE_SPELLINGS = ("build-dataset", "build")


class _NcstGroup(TyperGroup):
    """The `ncst` group: `ncst build-dataset --recipe NAME ...` (the older spelling) runs `build-recipe`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        from ncst.cli.build_dataset import routes_to_recipe

        if args and args[0] in _RECIPE_SPELLINGS and routes_to_recipe(args[1:]):
            args = ["build-recipe", *args[1:]]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_NcstGroup, add_completion=False, no_args_is_help=True, help="Neural Codec Source Tracing toolkit."
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs.")) -> None:
    setup_logging(verbose)


def _mount(name: str, target: str, aliases: tuple[str, ...]) -> None:
    module_name, attribute = target.split(":")
    obj = getattr(importlib.import_module(module_name), attribute)
    if isinstance(obj, typer.Typer):
        app.add_typer(obj, name=name)
        for alias in aliases:
            app.add_typer(obj, name=alias, help=f"Same as `ncst {name}`.")
    elif callable(obj):
        app.command(name)(obj)
        for alias in aliases:
            app.command(alias, epilog=f"Same as the `{name}` command.")(obj)
    else:
        raise TypeError(f"{target} is neither a command function nor a typer.Typer")


for _name, _target, _aliases in COMMANDS:
    _mount(_name, _target, _aliases)


def main(argv: Optional[List[str]] = None) -> None:
    app(argv)
