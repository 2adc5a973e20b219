"""What to fetch from Identity v4.1: every user through ``POST /Users/.search`` and its cursor.

``.search`` with ``count`` 1000 (the maximum) and an explicit ``attributes`` list, because
``entitlements`` is "Request Only" in v4.1 and comes back only when named, which in turn means
every other wanted field must be named too (concur-api.md §3.2, §3.4). Within a chain pages are
sequential: each cursor comes from the previous page (``pagination.CursorPaginator``). The
follow-up body is the same query plus the cursor, since a cursor is bound to "a single, unique
query" (§3.2).

**Partitions (issue 13).** Concur's server time grows with the records a page returns, so one
chain of 1,000-user pages would be the whole run while the Spend pages wait on idle slots.
``IdentityRead`` splits it into disjoint chains by the first characters of the immutable user
id: ``id sw "0"`` ... ``id sw "f"`` (two characters for a very high ``--concurrency``).
``id`` is an allowed filter attribute (``api-guides/profile/identity-search.md``, "Allowed
Attributes") and ``sw`` an attribute operator ("Attribute Operators"); UUIDs may be given
with or without quotes ("Filter By UUID"). No page shows ``sw`` on ``id`` (the
``v4.1.identity.md`` "Search Parameters" only name ``filter``), so every step checks and
falls back to the single cursor:

1. the first unfiltered page is read as today; its ``totalResults`` decides the partitions
   (``partition_prefixes``). It is the count: a tenant read as one cursor (small, or after a
   fallback) goes on from its ``nextCursor``, so it costs nothing there; a partitioned tenant
   drops it and its users are read again in their partitions (one page of server time, where
   a separate ``count: 1`` request would cost a request on every run);
2. each partition's first page (its ``totalResults`` is the partition's count) is read and
   held, without its follow-ups, until all 16 have answered: at most 16 pages, and no
   request beyond the partition's own chain. For 256 partitions that hold would be 256
   pages, so each is counted by a ``count: 1`` search of ids instead. A 400 (Concur refused
   the filter) or counts that do not add up to the unfiltered total (ids in another alphabet
   or case, users created or deleted meanwhile) fall back to the single cursor with one log
   line; the held pages are dropped;
3. otherwise every partition is read to its end as its own chain, sharing ``--concurrency``
   with the Spend pages through ``schedule.PriorityGate`` (the longest remaining chain first).

The decision is made before a single partition record reaches the sink, so the sink needs
no way to take records back. Partitions are disjoint by construction and every record is
checked to start with its prefix, so no user arrives twice. At the end the users read are
compared with the totals at the start and at the end: a difference (users created or deleted
during the run, which a single cursor does not see consistently either) is logged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import (
    CursorPaginator,
    Fetch,
    Page,
    Params,
    Sink,
    read_pages,
    resources,
    total_results,
)
from oaa_concur.concur.parse import ENTERPRISE
from oaa_concur.concur.schedule import URGENT, PriorityGate
from oaa_concur.config import DEFAULT_MAX_RECORDS
from oaa_concur.errors import ClientError, IncompleteDiscovery

LOG = logging.getLogger(__name__)

SEARCH_PATH = "/profile/identity/v4.1/Users/.search"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest"
PAGE_SIZE = 1000
ATTRIBUTES = (
    "id",
    "userName",
    "externalId",
    "active",
    "displayName",
    "emails",
    "entitlements",
    "meta",
    *(
        f"{ENTERPRISE}:{name}"
        for name in (
            "companyId",
            "employeeNumber",
            "costCenter",
            "department",
            "division",
            "organization",
            "manager",
            "startDate",
            "terminationDate",
        )
    ),
)


def search_body(params: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [SEARCH_SCHEMA], "attributes": list(ATTRIBUTES)}
    body.update(params)
    return body


def identity_paginator(max_records: int = DEFAULT_MAX_RECORDS) -> CursorPaginator:
    return CursorPaginator("Identity", PAGE_SIZE, max_records)


def identity_fetch(api: ConcurApi) -> Fetch:
    """One ``.search`` page: the query plus the paginator's ``count`` and ``cursor``."""

    async def fetch(params: dict[str, Any]) -> dict[str, Any]:
        return (await api.post(SEARCH_PATH, search_body(params))).body

    return fetch


# ---- Partitioned reads (issue 13, module docstring) ---------------------------------------

ID_ALPHABET = "0123456789abcdef"
"""The first characters of Concur's user ids: lower-case UUIDs in every documented example."""
MAX_DEPTH = 2
HOLD_DEPTH = 1
"""Up to this depth (16 partitions) a partition's first page is its count, held until every
partition has answered (16 pages at most); deeper, holding would cost 256 pages, so each
partition is counted by a ``count: 1`` search instead."""
SPEND_PAGES_PER_IDENTITY_PAGE = 10
"""Spend pages hold 100 records, Identity pages 1,000: a run's requests are about 11 per
Identity page (design.md §6 counts them so)."""


def partition_prefixes(total: int, concurrency: int, page_size: int = PAGE_SIZE) -> tuple[str, ...]:
    """The id prefixes to read as separate chains; ``()`` to read one cursor.

    Enough partitions for the chains alone to keep every slot busy (the smallest 16^d not
    below ``concurrency``: then the longest chain holds at most 1/concurrency of Identity's
    work), as far as ``_affordable`` allows. So one cursor below 16 pages and at
    ``--concurrency 1``; 16 chains up to ``--concurrency 16``; 256 beyond, for a tenant large
    enough to pay for their counts. Two characters at most (``MAX_DEPTH``).
    """
    pages = -(-total // page_size)
    depth = 0
    while depth < MAX_DEPTH and 16**depth < concurrency and _affordable(depth + 1, pages):
        depth += 1
    if depth == 0:
        return ()
    return tuple("".join(chars) for chars in itertools.product(ID_ALPHABET, repeat=depth))


def _affordable(depth: int, pages: int) -> bool:
    """No more partitions than the single chain has pages (each partition ends on a partial
    page: the design allows one extra request per partition); past ``HOLD_DEPTH`` their count
    requests must also fit in the 5 % the design allows over the minimum (design.md §6)."""
    partitions = 16**depth
    if partitions > pages:
        return False
    return depth <= HOLD_DEPTH or partitions <= 0.05 * pages * (1 + SPEND_PAGES_PER_IDENTITY_PAGE)


def prefix_filter(prefix: str) -> str:
    """``id sw "3f"``: the users whose id starts with ``prefix`` (identity-search.md,
    "Attribute Operators": ``sw`` "starts with")."""
    return f'id sw "{prefix}"'


def count_params(prefix: str) -> Params:
    """A search that only counts a partition: one record, of its id alone."""
    return {"count": 1, "attributes": ["id"], "filter": prefix_filter(prefix)}


@dataclass(frozen=True)
class Fallback:
    """Why Identity is read as one cursor after all, and how loudly to say it."""

    reason: str
    level: int


@dataclass(frozen=True)
class Survey:
    """Each partition's ``totalResults``, and the first pages held until they add up."""

    counts: dict[str, int]
    held: list[tuple[Params, Page]]


class IdentityRead:
    """Identity as disjoint id-prefix chains, or as one cursor (module docstring).

    ``run`` reads everything and hands each user to the sink once. The object is also the
    ``Paginator`` that ``read_pages`` drives for the chains (``inner`` follows the cursors
    and applies its loop check and caps) and gives the gate each request's priority.
    """

    what = "Identity"

    def __init__(self, inner: CursorPaginator, concurrency: int) -> None:
        self.inner = inner
        self.concurrency = concurrency
        self.total: int | None = None
        """The unfiltered ``totalResults`` of the first page (progress and the checks)."""
        self.prefixes: tuple[str, ...] = ()
        """The partitions being read; ``()`` while (or when) Identity is one cursor."""
        self.counts: dict[str, int] = {}
        self.pages = 0
        """Every ``.search`` page read: the first, the partitions' counts, the chains."""
        self._read: Counter[str] = Counter()
        self._last: dict[str, int] = {}
        self._by_filter: dict[str, str] = {}
        self._starts: list[Params] = []

    async def run(self, fetch: Fetch, sink: Sink, gate: PriorityGate) -> None:
        fetch = self._counted(fetch)
        first_params = self.inner.starts()[0]
        first = await _urgent(fetch, gate, first_params)
        self.total = total_results(first)
        held = await self._partition(fetch, gate, first)
        answered = [(first_params, first)] if held is None else held
        await read_pages(self, fetch, sink, gate.lane(self.priority), answered=answered)

    def _counted(self, fetch: Fetch) -> Fetch:
        async def counted(params: Params) -> dict[str, Any]:
            page = await fetch(params)
            self.pages += 1
            return page

        return counted

    async def _partition(
        self, fetch: Fetch, gate: PriorityGate, first: Page
    ) -> list[tuple[Params, Page]] | None:
        """The partitions' held first pages to go on from, or None to go on from ``first``."""
        if self.total is None or not first.get("nextCursor"):
            return None
        wanted = partition_prefixes(self.total, self.concurrency, self.inner.count)
        if not wanted:
            return None
        found = await self._survey(fetch, gate, wanted)
        if isinstance(found, Survey):
            found = self._adds_up(found)
        if isinstance(found, Fallback):
            LOG.log(found.level, "Reading Identity as one cursor: %s", found.reason)
            return None
        self._use(found)
        return found.held

    async def _survey(
        self, fetch: Fetch, gate: PriorityGate, prefixes: tuple[str, ...]
    ) -> Survey | Fallback:
        hold = len(prefixes[0]) <= HOLD_DEPTH
        asks = [self._chain_start(p) if hold else count_params(p) for p in prefixes]
        tasks = [asyncio.ensure_future(_urgent(fetch, gate, params)) for params in asks]
        try:
            pages = await asyncio.gather(*tasks)
        except ClientError as error:
            if error.status != 400:
                raise
            return Fallback(f"Concur refused the id-prefix filter ({error.message})", logging.INFO)
        finally:
            await _stop(tasks)
        counts = {p: total_results(page) for p, page in zip(prefixes, pages, strict=True)}
        known = {p: n for p, n in counts.items() if n is not None}
        if len(known) < len(prefixes):
            return Fallback("Concur's filtered search gave no totalResults", logging.WARNING)
        return Survey(known, list(zip(asks, pages, strict=True)) if hold else [])

    def _adds_up(self, survey: Survey) -> Survey | Fallback:
        listed = sum(survey.counts.values())
        if listed == self.total:
            return survey
        return Fallback(
            f"the {len(survey.counts)} id-prefix partitions list {listed} users where the "
            f"unfiltered search lists {self.total} (ids outside 0-9a-f or in another case, or "
            "users created or deleted meanwhile)",
            logging.WARNING,
        )

    def _chain_start(self, prefix: str) -> Params:
        return {"count": self.inner.count, "filter": prefix_filter(prefix)}

    def _use(self, survey: Survey) -> None:
        self.counts = survey.counts
        self.prefixes = tuple(survey.counts)
        self._by_filter = {prefix_filter(p): p for p in self.prefixes}
        if not survey.held:
            self._starts = [self._chain_start(p) for p, n in self.counts.items() if n > 0]
        LOG.info(
            "Reading Identity as %d disjoint cursors (%s ... %s) for %d users",
            len(self.prefixes),
            prefix_filter(self.prefixes[0]),
            prefix_filter(self.prefixes[-1]),
            self.total,
            extra={"fields": {"identity_partitions": len(self.prefixes)}},
        )

    # ---- Paginator (read_pages) and the gate's priorities ----

    def starts(self) -> list[Params]:
        return self._starts

    def after(self, asked: Params, page: Page) -> list[Params]:
        follow = self.inner.after(asked, page)
        prefix = self._by_filter.get(asked.get("filter", ""))
        if prefix is not None:
            records = resources(page, self.what)
            _check_prefix(prefix, records)
            self._read[prefix] += len(records)
            if self.inner.total is not None:
                self._last[prefix] = self.inner.total
        return follow

    def finish(self) -> None:
        self.inner.finish()
        self._compare()

    def priority(self, params: Params) -> float:
        """``1 +`` the records left in the request's chain: the longest chain first, and
        every Identity page before any Spend page (``schedule.SPEND`` is 0)."""
        prefix = self._by_filter.get(params.get("filter", ""))
        if prefix is None:
            left = (self.total or 0) - self.inner.records
        else:
            left = self.counts[prefix] - self._read[prefix]
        return 1.0 + max(0, left)

    def _compare(self) -> None:
        """Log when the users read differ from the total at the start, or from the totals of
        the last pages (of each partition: the sum is not one moment's total, but it differs
        from the first one only if the tenant changed)."""
        if self.total is None:
            return
        if self.prefixes:
            ended = sum(self._last.get(p, n) for p, n in self.counts.items())
        else:
            ended = self.inner.total if self.inner.total is not None else self.total
        read = self.inner.records
        if read == self.total == ended:
            return
        LOG.warning(
            "Identity changed during the run: %d users were listed when it began, %d when "
            "its last pages were read, and %d were read; users created or deleted meanwhile "
            "may be missing (the next run reads them)",
            self.total,
            ended,
            read,
        )


async def _urgent(fetch: Fetch, gate: PriorityGate, params: Params) -> dict[str, Any]:
    async with gate.slot(URGENT):
        return await fetch(params)


def _check_prefix(prefix: str, records: list[Any]) -> None:
    """Every user of partition ``prefix`` has an id that starts with it (compared without
    case, as Concur compares strings): otherwise it could arrive in another partition too."""
    width = len(prefix)
    for record in records:
        uid = record.get("id") if isinstance(record, dict) else None
        if isinstance(uid, str) and uid[:width].lower() != prefix:
            raise IncompleteDiscovery(
                f"Concur's Identity search {prefix_filter(prefix)} returned a user whose id "
                f"does not start with {prefix!r}",
                "nothing was pushed; run again, and report it to SAP Concur if it persists",
            )


async def _stop(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
