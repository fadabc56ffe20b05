"""Command-line entry points: thin typer commands that parse arguments and call one library function."""
