"""Discovery: refresh, then Identity and Spend concurrently, joined by user id.

``run_discovery`` (sync) / ``discover`` (async) hold the state-directory lock, refresh the
token first (SAP's advice, concur-api.md §2.3), stream the Identity cursor pages while the
Spend index pages are fetched in parallel, and join the two by user id. A page that cannot be
read after retries fails the whole run (IncompleteDiscovery): a partial picture is never
returned (design.md §3.3).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from oaa_concur.concur.auth import TokenGrant, TokenManager, client_credentials
from oaa_concur.concur.http import ConcurApi, HttpClient
from oaa_concur.concur.identity import PAGE_SIZE as IDENTITY_PAGE
from oaa_concur.concur.identity import identity_pages
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.pagination import CursorPaginator, IndexPaginator
from oaa_concur.concur.parse import ENTERPRISE, parse_spend, parse_user
from oaa_concur.concur.retry import Clock, RetryPolicy, Sleep
from oaa_concur.concur.scopes import missing_scopes
from oaa_concur.concur.spend import PAGE_SIZE as SPEND_PAGE
from oaa_concur.concur.spend import run_all, spend_pages
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import IncompleteDiscovery, RetriableError
from oaa_concur.models import (
    Company,
    DiscoveryResult,
    IssueKind,
    RunStats,
    SpendProfile,
    User,
)
from oaa_concur.models import ProgressCallback as Progress
from oaa_concur.runtime import Runtime
from oaa_concur.state.credentials import CredentialStore
from oaa_concur.state.lock import state_lock

LOG = logging.getLogger(__name__)
SEND_TURNS = 6  # event-loop turns given to the next Identity request before a page is parsed
GC_THRESHOLD = 50_000  # generation-0 allocations between cyclic GC passes during discovery


class _Collector:
    """Parses pages as they arrive and keeps the records; joins them at the end."""

    def __init__(self, progress: Progress | None) -> None:
        self.sink = IssueSink()
        self.progress = progress
        self.users: list[User] = []
        self.user_ids: set[str] = set()
        self.spend: dict[str, SpendProfile] = {}
        self.organization: str | None = None
        self.spend_total: int | None = None
        self._spend_seen = 0
        self.unreadable: list[str] = []
        """Where records without a usable id stood (``identity#12``): see ``check_complete``."""

    def add_users(self, records: list[Any], total: int | None) -> None:
        for raw in records:
            where = f"identity#{len(self.users)}"
            user = parse_user(raw, where, self.sink)
            if user is None:
                self.unreadable.append(where)
                continue
            if user.id in self.user_ids:
                self.sink.add(IssueKind.DUPLICATE_ID, user.id, "Identity returned this id twice")
                continue
            self.user_ids.add(user.id)
            self.users.append(user)
            if self.organization is None:
                self._organization(raw)
        if self.progress is not None:
            self.progress("identity", len(self.users), total)

    def _organization(self, raw: dict[str, Any]) -> None:
        ext = raw.get(ENTERPRISE)
        name = ext.get("organization") if isinstance(ext, dict) else None
        if isinstance(name, str) and name:
            self.organization = name

    def add_spend(self, records: list[Any]) -> None:
        for raw in records:
            self._spend_seen += 1
            where = f"spend#{self._spend_seen}"
            profile = parse_spend(raw, where, self.sink)
            if profile is None:
                self.unreadable.append(where)
                continue
            if profile.user_id in self.spend:
                self.sink.add(
                    IssueKind.DUPLICATE_ID, profile.user_id, "Spend returned this id twice"
                )
                continue
            self.spend[profile.user_id] = profile
        if self.progress is not None:
            self.progress("spend", self._spend_seen, self.spend_total)

    def check_complete(self) -> None:
        """A record with no usable id (not an object, or no ``id``) is a user, or a user's
        roles, that cannot be placed: pushing without it would delete that user or those
        roles in Veza, so the run fails closed instead (design.md §3.3)."""
        if self.unreadable:
            raise IncompleteDiscovery(
                f"Discovery could not read {len(self.unreadable)} Concur record(s) that have "
                f"no usable id (first at {self.unreadable[0]})",
                "nothing was pushed; run again, and if it persists report it to SAP Concur "
                "support with the run's log (-v)",
            )

    def join(self) -> dict[str, SpendProfile]:
        """Spend profiles of known users; orphans and users without a profile become issues."""
        for uid in [uid for uid in self.spend if uid not in self.user_ids]:
            del self.spend[uid]
            self.sink.add(
                IssueKind.ORPHAN_SPEND_RECORD,
                uid,
                "Spend has a record for an id that Identity does not list",
            )
        for user in self.users:
            if user.id not in self.spend:
                self.sink.add(
                    IssueKind.NO_SPEND_PROFILE,
                    user.id,
                    "no Spend profile (e.g. a Travel-only user): no Spend roles",
                )
        return self.spend


async def _fetch(api: ConcurApi, collector: _Collector, stats: RunStats, concurrency: int) -> None:
    identity = CursorPaginator("Identity", IDENTITY_PAGE)
    spend = IndexPaginator("Spend", SPEND_PAGE)

    # At most ``concurrency`` requests in flight: the Identity cursor stream holds one slot
    # while it runs (Concur answers 429 to clients that exceed its limits, concur-api.md §5.3).
    gate = asyncio.Semaphore(max(1, concurrency - 1))

    async def users() -> None:
        async with aclosing(identity_pages(api, identity)) as pages:
            async for records, total in pages:
                # A few turns of the event loop first, so that the next Identity request
                # (already scheduled by identity_pages) is on the wire while this page is
                # parsed: httpx needs about four turns to write a request.
                for _ in range(SEND_TURNS):
                    await asyncio.sleep(0)
                collector.add_users(records, total)
                stats.identity_pages = identity.pages
        if concurrency > 1:
            gate.release()  # Identity is done: Spend may use its slot

    def spend_sink(records: list[Any]) -> None:
        collector.spend_total = spend.total
        stats.spend_pages = spend.pages
        collector.add_spend(records)

    try:
        await run_all([users(), spend_pages(api, spend, gate, spend_sink)])
    except RetriableError as error:
        raise IncompleteDiscovery(
            f"Discovery could not read every page: {error.message.rstrip('.')} (gave up after "
            "retries)",
            "nothing was pushed; run again later",
            status=error.status,
            correlation_id=error.correlation_id,
        ) from None
    stats.identity_pages, stats.spend_pages = identity.pages, spend.pages


def _company(grant: TokenGrant, tokens: TokenManager, collector: _Collector) -> Company:
    company_id = grant.company_uuid
    if not company_id:
        ids = Counter(u.company_id for u in collector.users if u.company_id)
        company_id = ids.most_common(1)[0][0] if ids else "unknown"
    return Company(id=company_id, geolocation=tokens.geolocation, name=collector.organization)


def _warn_scopes(granted: tuple[str, ...]) -> None:
    if not granted:
        LOG.warning("Concur did not say which scopes were granted; fields may be missing")
        return
    for scope, cost in missing_scopes(granted).items():
        LOG.warning("The Concur app lacks the scope %s: %s", scope, cost)


async def discover(
    settings: Settings,
    secrets: Secrets,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
) -> DiscoveryResult:
    """Read everything from Concur; raise (IncompleteDiscovery, ConcurAuthError, ...) otherwise."""
    client_id, client_secret = client_credentials(secrets)
    clock = clock or time.time
    started = clock()
    stats = RunStats(started_at=datetime.now(UTC))
    with state_lock(settings.state_dir):
        http = HttpClient(
            stats,
            timeout_s=settings.timeout_s,
            ca_bundle=settings.ca_bundle,
            transport=transport,
            policy=policy,
            sleep=sleep,
            clock=clock,
            max_connections=settings.concurrency + 2,
        )
        try:
            tokens = TokenManager(
                http,
                CredentialStore(settings.state_dir),
                client_id=client_id,
                client_secret=client_secret,
                landing_url=settings.concur_url,
                clock=clock,
            )
            tokens.use_refresh_token(secrets.refresh_token)
            grant = await tokens.refresh()
            stats.granted_scopes = grant.scopes
            _warn_scopes(grant.scopes)
            collector = _Collector(progress)
            await _fetch(ConcurApi(http, tokens), collector, stats, settings.concurrency)
        finally:
            await http.aclose()
    collector.check_complete()
    spend = collector.join()
    stats.duration_s = clock() - started
    return DiscoveryResult(
        company=_company(grant, tokens, collector),
        users=collector.users,
        spend=spend,
        issues=collector.sink.issues(),
        stats=stats,
    )


def run_discovery(
    settings: Settings,
    secrets: Secrets,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
    runtime: Runtime | None = None,
) -> DiscoveryResult:
    """Synchronous entry point for the CLI: one complete discovery or an OaaConcurError."""
    box: list[DiscoveryResult] = []
    if runtime is not None:
        transport = transport or runtime.concur_transport
        sleep = sleep or runtime.sleep
        clock = clock or runtime.clock

    async def main() -> None:
        # The result is handed over through ``box``, not as the task's result: on Python 3.11
        # asyncio.run's SIGINT handling repr()s the main task, and with it a 100k-user result
        # (seconds of CPU).
        box.append(
            await discover(
                settings,
                secrets,
                progress=progress,
                transport=transport,
                sleep=sleep,
                clock=clock,
                policy=policy,
            )
        )

    with _fewer_gc_passes():
        asyncio.run(main())
    return box[0]


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Discovery keeps every record it parses, so with CPython's default generation-0 threshold
    (700) the collector re-walks the growing heap about 20 times at 100,000 users (2 of 7.6 CPU
    seconds, measured). A larger threshold still collects the cyclic garbage of each request,
    in bigger batches (peak memory did not grow: 296 MiB either way)."""
    saved = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)
