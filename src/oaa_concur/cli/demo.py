"""CLI commands: demo (not built yet)."""

from __future__ import annotations

import sys

import click


def register(root: click.Group) -> None:
    @root.command("demo", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def _stub(args: tuple[str, ...]) -> None:
        """Not built yet."""
        click.echo("error: 'demo' is not built yet.", err=True)
        sys.exit(2)
