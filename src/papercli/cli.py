"""papercli's command line: options -> settings -> one library call -> console."""

from __future__ import annotations

import typer

from papercli import __version__

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _version(value: bool) -> None:
    if value:
        print(f"papercli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """papercli: fetch research-paper listings, group them into topics, deliver a digest."""


def main() -> None:
    app()
