"""Progress display: rich bars and spinners on a terminal, nothing otherwise (cron, CI, pipes,
``--log-format json``).

* Fetching (Identity and Spend users) draws a bar per listing with the records done, the rate
  (records/s), the time elapsed and the time remaining (``ProgressCallback``).
* The phases after fetching (building the payload, recording the snapshot, pushing) draw a
  spinner named after the phase (``PhaseCallback``); starting one removes the finished bars,
  so no stale bar lingers while the run goes on.
* While the display is live, log records are printed through its console (above the bars),
  never into the middle of a bar; when it stops it is erased (``transient``), so the final
  screen holds the log lines and the summary only.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from oaa_concur.models import PhaseCallback, ProgressCallback, no_phase

_LABELS = {"identity": "Identity users", "spend": "Spend users"}
_PHASE = "phase"  # the task field that marks a spinner


@dataclass(frozen=True)
class Display:
    """What the pipeline is given: ``progress`` (None: no display, skip the work) for the
    fetching bars, ``phase`` for the spinners after it."""

    progress: ProgressCallback | None = None
    phase: PhaseCallback = no_phase


class _Rate(ProgressColumn):
    """Records per second of a bar (rich's speed estimate); blank for a spinner."""

    def render(self, task: Task) -> Text:
        if task.fields.get(_PHASE) or task.speed is None:
            return Text("")
        return Text(f"{task.speed:,.0f}/s", style="progress.data.speed")


class _Remaining(ProgressColumn):
    """``eta 0:01:23`` of a bar with a known total; blank otherwise."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if task.fields.get(_PHASE) or task.total is None or left is None or task.finished:
            return Text("")
        minutes, seconds = divmod(int(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"eta {hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


class _Count(MofNCompleteColumn):
    def render(self, task: Task) -> Text:
        return Text("") if task.fields.get(_PHASE) else super().render(task)


class _Bar(ProgressColumn):
    """rich's bar, blank for a spinner (a phase has no total to fill)."""

    def __init__(self) -> None:
        super().__init__()
        self._bar = BarColumn()

    def render(self, task: Task) -> RenderableType:
        return Text("") if task.fields.get(_PHASE) else self._bar.render(task)


class _ConsoleStream(io.TextIOBase):
    """A text stream for a logging handler that prints each line through a live console."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.write("\n")


@contextmanager
def logs_through(console: Console) -> Iterator[None]:
    """Send our log handler's lines through ``console`` for the block (then back)."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if getattr(h, "_oaa_concur", False) and isinstance(h, logging.StreamHandler)
    ]
    stream = _ConsoleStream(console)
    previous = [h.setStream(stream) for h in handlers]
    try:
        yield
    finally:
        stream.flush()
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)


def _bars(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description:<24}"),
        _Bar(),
        _Count(),
        _Rate(),
        TimeElapsedColumn(),
        _Remaining(),
        console=console,
        transient=True,
    )


class _Live:
    """The bars and spinners of one run on one ``rich.progress.Progress``."""

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def update(self, phase: str, done: int, total: int | None) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.bars.add_task(_LABELS.get(phase, phase), total=total)
        self.bars.update(self.tasks[phase], completed=done, total=total)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        for task in list(self.bars.task_ids):  # finished bars (and spinners) go
            self.bars.remove_task(task)
        self.tasks.clear()
        spinner = self.bars.add_task(name, total=None, **{_PHASE: True})
        try:
            yield
        finally:
            self.bars.remove_task(spinner)


def wanted(console: Console, log_format: str) -> bool:
    """Draw only for a human: text logs, and stderr is a terminal."""
    return log_format == "text" and console.is_terminal and sys.stderr.isatty()


@contextmanager
def progress_display(
    *, enabled: bool | None = None, log_format: str = "text", console: Console | None = None
) -> Iterator[Display]:
    """Yield the run's ``Display``: live bars and spinners on stderr, or a silent one."""
    console = console or Console(stderr=True)
    if enabled is None:
        enabled = wanted(console, log_format)
    if not enabled:
        yield Display()
        return
    bars = _bars(console)
    live = _Live(bars)
    with bars, logs_through(bars.console):
        yield Display(progress=live.update, phase=live.phase)
