"""CLI command ``demo``: the whole product on the bundled simulator, no credentials needed."""

from __future__ import annotations

from pathlib import Path

import click

from oaa_concur.cli.logs import setup_logging
from oaa_concur.cli.options import remember_verbosity
from oaa_concur.cli.progress import progress_display
from oaa_concur.config import DEFAULT_CONCURRENCY
from oaa_concur.demo import run_demo
from oaa_concur.errors import ConfigError


def _make_out(out: Path) -> None:
    """Create ``--out`` up front: a path through a file or without permission is one sentence."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"The demo output directory {out} cannot be created ({exc.strerror})",
            "give --out a directory path you can write to",
        ) from None


def register(root: click.Group) -> None:
    @root.command("demo")
    @click.option(
        "--users",
        type=click.IntRange(1, 500_000),
        default=2000,
        show_default=True,
        help="Size of the generated tenant.",
    )
    @click.option(
        "--out",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("oaa-concur-demo"),
        show_default=True,
        help="Where the payload, snapshot store and report go.",
    )
    @click.option("--seed", type=int, default=1, show_default=True, help="Tenant seed.")
    @click.option("--concurrency", type=click.IntRange(1, 64), default=DEFAULT_CONCURRENCY)
    @click.option("-v", "--verbose", count=True)
    def demo(users: int, out: Path, seed: int, concurrency: int, verbose: int) -> None:
        """Run a full discovery against the bundled Concur simulator (no push)."""
        remember_verbosity(verbose)
        setup_logging(verbosity=verbose)
        _make_out(out)
        with progress_display() as display:
            result = run_demo(
                users, out, seed=seed, progress=display.progress, concurrency=concurrency
            )
        summary = result.sync.summary()
        click.echo(
            f"Discovered {summary.line()} from the simulator (company {result.sync.company.id})."
        )
        click.echo(f"Findings: {result.findings_line}")
        click.echo(f"OAA payload:  {result.payload}")
        click.echo(f"HTML report:  {result.report}")
        click.echo(f"Snapshot {result.sync.snapshot_id} in {result.state_dir / 'snapshots.sqlite'}")
        click.echo(
            f"Next: oaa-concur report --state-dir {result.state_dir} --format csv; "
            f"oaa-concur diff --state-dir {result.state_dir}"
        )
