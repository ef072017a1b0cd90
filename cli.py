"""screentime command line: each command parses options, calls one library function, prints.

    python cli.py embed VIDEO... --store features.h5
    python cli.py compare-models --store features.h5 --labels labels.csv --out best.joblib
    python cli.py score VIDEO... --model best.joblib --store features.h5
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from featurestore.errors import ScreentimeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure how long each character is on screen: embed videos once, compare classifiers, score new videos.",
)
console = Console(stderr=True)
out = Console()

DEFAULT_STORE = Path("features.h5")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a ScreentimeError becomes one line on stderr and exit status 1."""
    try:
        app(args=argv)  # standalone mode: usage errors print themselves and raise SystemExit
    except ScreentimeError as err:
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main(sys.argv[1:])
