"""Progress display for discovery: rich bars on a terminal, nothing otherwise (cron, CI, pipes).

Only discovery reports progress (Identity and Spend pages); the push to Veza is one request
that ``oaaclient`` sends without telling how far it got, so it has no bar.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from oaa_concur.models import ProgressCallback

_LABELS = {"identity": "Identity users", "spend": "Spend users"}


@contextmanager
def progress_display(*, enabled: bool | None = None) -> Iterator[ProgressCallback | None]:
    """Yield a ``(phase, done, total)`` callback drawing bars on stderr, or None when not a TTY."""
    console = Console(stderr=True)
    if enabled is None:
        enabled = console.is_terminal and sys.stderr.isatty()
    if not enabled:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description:<15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(_LABELS.get(phase, phase), total=total)
        bars.update(tasks[phase], completed=done, total=total)

    with bars:
        yield update
