"""Paging through a Concur listing: one small interface, one driver (design.md §3.5).

A ``Paginator`` names the requests that start a listing, checks every answered page and names
the requests that page makes known, and reconciles at the end. No HTTP here:

* ``CursorPaginator``: Identity v4.1 ``nextCursor`` -> ``cursor``, absent on the last page
  (concur-api.md §3.2). A cursor seen before is refused ("loop detected") instead of looping
  forever. Each start is one chain; several starts (disjoint partitions of one query, each
  with its own filter) are several chains sharing the loop check.
* ``IndexPaginator``: Spend v4.1 ``startIndex``/``count`` (1-based, count <= 100) with
  ``totalResults`` (concur-api.md §4.2). Page 1 tells the total and every other page is asked
  for at once; a page reporting a larger total (users added during the run) adds the pages it
  implies. A page answering another ``startIndex`` than the one asked (the listing did not
  advance to it) is refused; at the end the records read are reconciled with ``totalResults``.

Both are bounded against a hostile or broken server (issue 11), each breach an
``IncompleteDiscovery`` (the run fails closed, never a hang or an out-of-memory error):

* no page may hold more records than its ``count`` asked for;
* a listing may report or return at most ``max_records`` records (default 2,000,000: twice
  the largest tenant we target, design.md §6). Spend refuses a larger ``totalResults`` before
  it plans a single page, so a total of 10^8 or 10^12 costs nothing;
* a cursor chain may run at most ``ceil(max_records / count)`` pages (2,000 at count 1,000):
  a never-ending ``nextCursor`` of fresh cursors stops there, after as many requests as a
  tenant of ``max_records`` users at full pages would need. Pages count even when empty, so a
  chain of empty pages cannot run on while the record cap waits;
* a cursor longer than ``MAX_CURSOR_CHARS`` is refused (the documented ones are ~100
  characters; the loop check keeps every cursor of a chain).

``read_pages`` is the one driver. Each answered page's follow-up requests are started before
the page is handed on, and given ``SEND_TURNS`` turns of the event loop to reach the wire, so
parsing a page overlaps the next round trips instead of adding to them (the Identity cursor
stream is the critical path, design.md §6). A guard beyond these (a cap on pages or records)
is a paginator wrapping another one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from oaa_concur.config import DEFAULT_MAX_RECORDS
from oaa_concur.errors import ConcurError, IncompleteDiscovery

Params = dict[str, Any]
Page = Mapping[str, Any]
Fetch = Callable[[Params], Awaitable[dict[str, Any]]]
"""One page request: params -> the decoded page (retries, tokens and errors included)."""
Sink = Callable[[list[Any]], None]
"""Gets the ``Resources`` of every page, in the order the pages arrive."""

SEND_TURNS = 6
"""Event-loop turns given to just-started requests before a page is handed on: httpx 0.28 needs
five to write a request on a kept-alive connection, one is spare (tests/perf/test_send_turns.py
fails below five)."""


MAX_CURSOR_CHARS = 4096
_NOTHING_PUSHED = "nothing was pushed; run again, and report it to SAP Concur if it persists"
_MAX_DIGITS = 18
"""Longer digit strings are not counts (and ``int()`` of 4,300+ digits raises)."""


def _too_many(what: str, asked: int, got: int) -> IncompleteDiscovery:
    return IncompleteDiscovery(
        f"Concur's {what} page holds {got} records where {asked} were asked for", _NOTHING_PUSHED
    )


def _over_records(what: str, records: int, cap: int) -> IncompleteDiscovery:
    return IncompleteDiscovery(
        f"Concur's {what} listing reports or returns {records} records, more than the "
        f"{cap} this client accepts (max-records)",
        "nothing was pushed; if the company is really that large, raise max-records",
    )


class Paginator(Protocol):
    """Which pages to ask for and what each answered page means (see the module docstring)."""

    what: str
    """The listing's name in errors ("Identity", "Spend")."""

    def starts(self) -> list[Params]: ...

    def after(self, asked: Params, page: Page) -> list[Params]:
        """Check the page answered to ``asked``; the requests it makes known (may be none)."""
        ...

    def finish(self) -> None:
        """Every page was read: raise if what was read does not add up."""
        ...


class Admits(Protocol):
    """A gate that knows each request's parameters (``schedule.Lane``: priorities)."""

    def admit(self, params: Params) -> AbstractAsyncContextManager[object]: ...


Gate = asyncio.Semaphore | Admits
"""What bounds the requests in flight: a plain semaphore, or a lane of ``schedule.PriorityGate``."""


async def read_pages(
    paginator: Paginator,
    fetch: Fetch,
    sink: Sink,
    gate: Gate,
    *,
    answered: Sequence[tuple[Params, Page]] = (),
) -> None:
    """Read the whole listing, at most ``gate``'s slots of requests at once, then ``finish``.

    ``answered``: pages already fetched (``params``, page) that the listing goes on from, as if
    they had just arrived (Identity's first page, read before it decides how to go on).
    A failed page ends the listing with its error. Whenever this returns or raises (``sink``
    raising, the caller cancelled), no request of it is still running.
    """
    await _Reader(paginator, fetch, gate).run(sink, answered)


class _Reader:
    """One run of ``read_pages``: every request a task; a page's follow-ups are requested while
    its slot is still held, so the gate can hand that slot to the most urgent of them."""

    def __init__(self, paginator: Paginator, fetch: Fetch, gate: Gate) -> None:
        self.paginator, self.fetch, self.gate = paginator, fetch, gate
        self.answered: asyncio.Queue[asyncio.Task[tuple[list[Any], bool]]] = asyncio.Queue()
        self.running: set[asyncio.Task[tuple[list[Any], bool]]] = set()

    async def run(self, sink: Sink, answered: Sequence[tuple[Params, Page]]) -> None:
        try:
            for params, page in answered:
                self._request(params, page)
            for params in self.paginator.starts():
                self._request(params)
            while self.running:
                task = await self.answered.get()
                self.running.discard(task)
                if task.cancelled():
                    continue  # stopped by a failed page, whose error comes with its own task
                records, followed = task.result()
                if followed:
                    await _send_turns()
                sink(records)
        finally:
            await _cancel(self.running)
        self.paginator.finish()

    def _request(self, params: Params, page: Page | None = None) -> None:
        task = asyncio.ensure_future(self._read(params, page))
        self.running.add(task)
        task.add_done_callback(self.answered.put_nowait)

    async def _read(self, params: Params, known: Page | None) -> tuple[list[Any], bool]:
        if known is not None:
            return self._answer(params, known)
        try:
            async with _slot(self.gate, params):
                answer = self._answer(params, await self.fetch(params))
                if answer[1]:
                    await asyncio.sleep(0)  # the follow-ups queue at the gate: then free the slot
                return answer
        except Exception:
            self._cancel_others()  # a failed page ends the listing: nothing else starts
            raise

    def _cancel_others(self) -> None:
        current = asyncio.current_task()
        for task in self.running:
            if task is not current:
                task.cancel()

    def _answer(self, params: Params, page: Page) -> tuple[list[Any], bool]:
        """The page's records for the sink, and whether it made further requests known."""
        follow = self.paginator.after(params, page)
        for more in follow:
            self._request(more)
        return resources(page, self.paginator.what), bool(follow)


def _slot(gate: Gate, params: Params) -> AbstractAsyncContextManager[object]:
    return gate if isinstance(gate, asyncio.Semaphore) else gate.admit(params)


async def _send_turns() -> None:
    for _ in range(SEND_TURNS):
        await asyncio.sleep(0)


async def _cancel(tasks: set[asyncio.Task[tuple[list[Any], bool]]]) -> None:
    """Cancel the requests nobody will read and wait until they have stopped; a failure one
    already had is retrieved here, not logged as never retrieved."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def resources(page: Page, what: str) -> list[Any]:
    """The ``Resources`` list of a SCIM ListResponse (absent -> []); wrong type -> error."""
    found = page.get("Resources", [])
    if found is None:
        return []
    if not isinstance(found, list):
        raise ConcurError(
            f"Concur's {what} page has a 'Resources' that is not a list",
            "run again; if it persists, report it",
        )
    return found


def total_results(page: Page) -> int | None:
    """The page's ``totalResults`` as a count, or None when it has none."""
    return _int(page, "totalResults")


def _int(page: Page, key: str) -> int | None:
    value = page.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "²" or "٣"
        return int(value) if len(value) <= _MAX_DIGITS else None
    return None


class CursorPaginator:
    """Follows ``nextCursor`` in every chain; refuses a cursor it has already followed, a page
    larger than asked and a chain or listing past its caps (module docstring)."""

    def __init__(self, what: str, count: int = 1000, max_records: int = DEFAULT_MAX_RECORDS):
        self.what = what
        self.count = count
        self.max_records = max_records
        self.max_chain_pages = math.ceil(max_records / count)
        self.pages = 0
        self.records = 0
        self.total: int | None = None
        """The latest ``totalResults`` (for progress only: it may lag, so it is not checked)."""
        self._depth: dict[str, int] = {}
        """Every cursor followed, with the number of its page in its chain (2 for the first)."""

    def starts(self) -> list[Params]:
        return [{"count": self.count}]

    def after(self, asked: Params, page: Page) -> list[Params]:
        self._count(asked, len(resources(page, self.what)))
        self.total = _int(page, "totalResults")
        cursor = page.get("nextCursor")
        if cursor is None or cursor == "":
            return []
        self._check_cursor(cursor)
        chain_page = self._depth.get(asked.get("cursor", ""), 1) + 1
        if chain_page > self.max_chain_pages:
            raise IncompleteDiscovery(
                f"Concur's {self.what} pagination did not end after {self.max_chain_pages} "
                "pages (a cursor chain may hold at most max-records / count pages)",
                _NOTHING_PUSHED,
            )
        self._depth[cursor] = chain_page
        return [{**asked, "cursor": cursor}]  # same query, next cursor (concur-api.md §3.2)

    def _count(self, asked: Params, got: int) -> None:
        if got > int(asked["count"]):
            raise _too_many(self.what, int(asked["count"]), got)
        self.pages += 1
        self.records += got
        if self.records > self.max_records:
            raise _over_records(self.what, self.records, self.max_records)

    def _check_cursor(self, cursor: Any) -> None:
        if not isinstance(cursor, str):
            raise ConcurError(
                f"Concur's {self.what} page has a nextCursor that is not a string",
                "run again; if it persists, report it",
            )
        if len(cursor) > MAX_CURSOR_CHARS:
            raise IncompleteDiscovery(
                f"Concur's {self.what} page has a nextCursor of {len(cursor)} characters "
                f"(at most {MAX_CURSOR_CHARS} are accepted)",
                _NOTHING_PUSHED,
            )
        if cursor in self._depth:
            raise IncompleteDiscovery(
                f"Concur's {self.what} pagination returned a cursor it had returned before "
                f"(loop detected after {self.pages} pages)",
                "nothing was pushed; run again later and report it to SAP Concur if it persists",
            )

    def finish(self) -> None:
        """Cursor pages carry no reliable total to reconcile (totalResults may lag)."""


class IndexPaginator:
    """``startIndex``/``count`` paging with ``totalResults``: every page known is asked at once."""

    def __init__(self, what: str, count: int = 100, max_records: int = DEFAULT_MAX_RECORDS):
        self.what = what
        self.count = count
        self.max_records = max_records
        self.total: int | None = None
        self.fetched = 0
        self.pages = 0
        self._asked_to = 0
        """The last record index covered by a page asked for so far."""

    def starts(self) -> list[Params]:
        self._asked_to = self.count
        return [{"startIndex": 1, "count": self.count}]

    def after(self, asked: Params, page: Page) -> list[Params]:
        start = int(asked["startIndex"])
        got = len(resources(page, self.what))
        if got > int(asked["count"]):
            raise _too_many(self.what, int(asked["count"]), got)
        answered = _int(page, "startIndex")
        if answered is not None and answered != start:
            raise IncompleteDiscovery(
                f"Concur's {self.what} page asked for startIndex {start} answered {answered}",
                "nothing was pushed; run again",
            )
        total = _int(page, "totalResults")
        if total is None:
            raise ConcurError(
                f"Concur's {self.what} page has no totalResults",
                "run again; if it persists, report it",
            )
        if total > self.max_records:  # before a single page is planned: 10^12 costs nothing
            raise _over_records(self.what, total, self.max_records)
        self.total = max(self.total or 0, total)
        self.fetched += got
        self.pages += 1
        return self._more()

    def _more(self) -> list[Params]:
        """The pages up to the largest total seen that were not asked for yet."""
        starts = range(self._asked_to + 1, (self.total or 0) + 1, self.count)
        if starts:
            self._asked_to = starts[-1] + self.count - 1
        return [{"startIndex": start, "count": self.count} for start in starts]

    def finish(self) -> None:
        if self.total is not None and self.fetched != self.total:
            raise IncompleteDiscovery(
                f"Concur's {self.what} listing reported {self.total} records but "
                f"{self.fetched} were read",
                "nothing was pushed; run again (users may have changed during the run)",
            )
