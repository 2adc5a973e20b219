"""The phases of a run after fetching, each shown as a spinner and logged with counts and time.

The pipeline wraps each phase in ``phase``::

    with phase("recording the snapshot", phases) as step:
        snapshot_id = store.record(result)
        step.count(users=len(result.users), grants=grants)

The display (``models.PhaseCallback``, drawn by ``cli.progress``) shows a spinner named after
the phase while it runs; when it ends, one INFO record says what it did and how long it took
(``recording the snapshot: 4615 users, 8693 grants in 1.2 s``), with the same figures as fields
in JSON mode (``event: phase``, ``phase``, ``seconds``, then the counts). A phase that raises
logs nothing: the error says what happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from oaa_concur.models import PhaseCallback, no_phase
from oaa_concur.runtime import Clock

LOG = logging.getLogger("oaa_concur.phases")


@dataclass
class PhaseStep:
    """What a running phase reports: its counts (in the order given)."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, **counts: int) -> None:
        """Add or replace figures (``users=4615``); they appear in the phase's INFO record."""
        self.counts.update(counts)

    def line(self, seconds: float) -> str:
        done = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in self.counts.items())
        return f"{self.name}: {done or 'done'} in {seconds:.1f} s"


@contextmanager
def phase(
    name: str, display: PhaseCallback | None = None, *, clock: Clock = time.monotonic
) -> Iterator[PhaseStep]:
    """Run one phase under the display's spinner; log its counts and duration at INFO."""
    step = PhaseStep(name)
    started = clock()
    with (display or no_phase)(name):
        yield step
    seconds = clock() - started
    fields: dict[str, object] = {"event": "phase", "phase": name, "seconds": round(seconds, 3)}
    fields.update(step.counts)
    LOG.info("%s", step.line(seconds), extra={"fields": fields})
