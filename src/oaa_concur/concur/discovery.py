"""Discovery: refresh, then Identity and Spend concurrently, joined by user id.

``discover_to_spool`` (sync) / ``discover_into`` (async) open a ``concur_session`` (state-directory
lock, client, tokens), refresh the token first (SAP's advice, concur-api.md §2.3), read the
Identity cursor pages while the Spend index pages are fetched in parallel (one driver,
``pagination.read_pages``). Every page goes straight into the snapshot store as it is parsed
(``review.spool``: a pending snapshot, memory bounded by a page, issue 12), and the two are
joined there by user id once every page is read (``review.store.join``): Spend records of no
Identity user are dropped (issue ``orphan_spend_record``), then every manager, ``biManager``,
approver and delegate reference is resolved through Identity (``concur.references``); one that
names nobody is left out and kept as an unknown reference (issue ``unknown_reference``). A
page that cannot be read after retries fails the whole run (IncompleteDiscovery) and the
pending snapshot is deleted: a partial picture is never returned (design.md §3.3).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from oaa_concur.concur.http import CONCUR_POLICY, ConcurApi
from oaa_concur.concur.identity import IdentityRead, identity_fetch, identity_paginator
from oaa_concur.concur.pagination import read_pages
from oaa_concur.concur.schedule import SPEND, PriorityGate
from oaa_concur.concur.scopes import missing_scopes
from oaa_concur.concur.session import concur_session
from oaa_concur.concur.spend import spend_fetch, spend_paginator
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import IncompleteDiscovery, RetriableError
from oaa_concur.gc_control import fewer_gc_passes
from oaa_concur.models import Company, DiscoveryResult, RunStats
from oaa_concur.models import ProgressCallback as Progress
from oaa_concur.retry import RetryPolicy
from oaa_concur.runtime import DEFAULT, Runtime

if TYPE_CHECKING:
    from oaa_concur.review.spool import Spool

LOG = logging.getLogger(__name__)


class _Collector(Protocol):
    """Where the pages go, as they are read: ``review.spool.Spool`` (the snapshot store)."""

    def add_users(self, records: list[Any], total: int | None) -> None: ...

    def add_spend(self, records: list[Any], total: int | None) -> None: ...


async def _fetch(
    api: ConcurApi, collector: _Collector, stats: RunStats, settings: Settings
) -> None:
    concurrency = settings.concurrency
    identity = identity_paginator(settings.max_records)
    spend = spend_paginator(settings.max_records)

    # At most ``concurrency`` requests in flight (Concur answers 429 to clients that exceed its
    # limits, concur-api.md §5.3), Identity's pages before Spend's (concur/schedule.py).
    gate = PriorityGate(concurrency)
    users = IdentityRead(identity, concurrency)

    def user_sink(records: list[Any]) -> None:
        collector.add_users(records, users.total)
        stats.identity_pages = users.pages

    def spend_sink(records: list[Any]) -> None:
        stats.spend_pages = spend.pages
        collector.add_spend(records, spend.total)

    try:
        await _run_all(
            [
                users.run(identity_fetch(api), user_sink, gate),
                read_pages(spend, spend_fetch(api), spend_sink, gate.lane(lambda _: SPEND)),
            ]
        )
    except RetriableError as error:
        raise IncompleteDiscovery(
            f"Discovery could not read every page: {error.message.rstrip('.')} (gave up after "
            "retries)",
            "nothing was pushed; run again later",
            status=error.status,
            correlation_id=error.correlation_id,
        ) from None
    stats.identity_pages, stats.spend_pages = users.pages, spend.pages


async def _run_all(jobs: list[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines concurrently; on failure cancel the rest and raise the first error."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except BaseExceptionGroup as group_error:
        raise _first_error(group_error) from None


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf exception of a (possibly nested) exception group."""
    leaf: BaseException = group
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf


def _warn_scopes(granted: tuple[str, ...]) -> None:
    if not granted:
        LOG.warning("Concur did not say which scopes were granted; fields may be missing")
        return
    for scope, cost in missing_scopes(granted).items():
        LOG.warning("The Concur app lacks the scope %s: %s", scope, cost)


@dataclass(frozen=True, slots=True)
class Discovered:
    """What one complete discovery wrote into its spool (the records are there, not here)."""

    company: Company
    stats: RunStats


async def discover_into(
    spool: Spool,
    settings: Settings,
    secrets: Secrets,
    *,
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = CONCUR_POLICY,
) -> Discovered:
    """Read everything from Concur into ``spool`` and join it there; raise
    (IncompleteDiscovery, ConcurAuthError, ...) otherwise, leaving the spool to be discarded."""
    started = runtime.clock()
    async with concur_session(settings, secrets, runtime, policy=policy) as session:
        stats = session.stats
        # The run's moment from the injected clock: temporary delegations are judged at it.
        stats.started_at = datetime.fromtimestamp(started, UTC)
        session.tokens.use_refresh_token(secrets.refresh_token)
        grant = await session.tokens.refresh()
        stats.granted_scopes = grant.scopes
        _warn_scopes(grant.scopes)
        await _fetch(session.api, spool, stats, settings)
        geolocation = session.tokens.geolocation
    spool.check_complete()
    spool.join()
    stats.duration_s = runtime.clock() - started
    return Discovered(spool.company(grant.company_uuid, geolocation), stats)


def discover_to_spool(
    spool: Spool,
    settings: Settings,
    secrets: Secrets,
    *,
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = CONCUR_POLICY,
) -> Discovered:
    """Synchronous ``discover_into`` (the CLI's): every page in ``spool``, or an error."""
    with fewer_gc_passes():
        return asyncio.run(discover_into(spool, settings, secrets, runtime=runtime, policy=policy))


def run_discovery(
    settings: Settings,
    secrets: Secrets,
    *,
    progress: Progress | None = None,
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = CONCUR_POLICY,
) -> DiscoveryResult:
    """One complete discovery as a ``DiscoveryResult`` in memory (small tenants, tests): the
    same spool and join as a run, in a private temporary store, loaded back."""
    from oaa_concur.review.snapshot import SnapshotStore

    with tempfile.TemporaryDirectory(prefix="oaa-concur-discovery-") as tmp:
        store = SnapshotStore(Path(tmp))
        with store.spool(progress) as spool:
            found = discover_to_spool(spool, settings, secrets, runtime=runtime, policy=policy)
            spool.complete(found.company, found.stats, ())
        return store.load(spool.snap)
