"""CLI commands: auth (not built yet)."""

from __future__ import annotations

import sys

import click


def register(root: click.Group) -> None:
    @root.command("auth", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def _stub(args: tuple[str, ...]) -> None:
        """Not built yet."""
        click.echo("error: 'auth' is not built yet.", err=True)
        sys.exit(2)
