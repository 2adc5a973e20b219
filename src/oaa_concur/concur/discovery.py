"""Discovery: refresh, then Identity and Spend concurrently, joined by user id.

``run_discovery`` (sync) / ``discover`` (async) open a ``concur_session`` (state-directory
lock, client, tokens), refresh the token first (SAP's advice, concur-api.md §2.3), read the
Identity cursor pages while the Spend index pages are fetched in parallel (one driver,
``pagination.read_pages``), and join the two by user id. A page that cannot be read after
retries fails the whole run (IncompleteDiscovery): a partial picture is never returned
(design.md §3.3).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import Any

from oaa_concur.concur.auth import TokenGrant
from oaa_concur.concur.http import CONCUR_POLICY, ConcurApi
from oaa_concur.concur.identity import IdentityRead, identity_fetch, identity_paginator
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.pagination import read_pages
from oaa_concur.concur.parse import ENTERPRISE, parse_spend, parse_user
from oaa_concur.concur.schedule import SPEND, PriorityGate
from oaa_concur.concur.scopes import missing_scopes
from oaa_concur.concur.session import concur_session
from oaa_concur.concur.spend import spend_fetch, spend_paginator
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import IncompleteDiscovery, RetriableError
from oaa_concur.gc_control import fewer_gc_passes
from oaa_concur.models import (
    Company,
    DiscoveryResult,
    IssueKind,
    RunStats,
    SpendProfile,
    User,
)
from oaa_concur.models import ProgressCallback as Progress
from oaa_concur.retry import RetryPolicy
from oaa_concur.runtime import DEFAULT, Runtime

LOG = logging.getLogger(__name__)


class _Collector:
    """Parses pages as they arrive and keeps the records; joins them at the end."""

    def __init__(self, progress: Progress | None) -> None:
        self.sink = IssueSink()
        self.progress = progress
        self.users: list[User] = []
        self.user_ids: set[str] = set()
        self.spend: dict[str, SpendProfile] = {}
        self.organization: str | None = None
        self._identity_seen = 0
        self._spend_seen = 0
        self.unreadable: list[str] = []
        """Where records without a usable id stood (``identity#12``): see ``check_complete``."""

    def add_users(self, records: list[Any], total: int | None) -> None:
        for raw in records:
            self._identity_seen += 1
            where = f"identity#{self._identity_seen}"  # the record's position in the stream
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

    def add_spend(self, records: list[Any], total: int | None) -> None:
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
            self.progress("spend", self._spend_seen, total)

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
    identity, spend = identity_paginator(), spend_paginator()

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


def _company(grant: TokenGrant, geolocation: str, collector: _Collector) -> Company:
    company_id = grant.company_uuid
    if not company_id:
        ids = Counter(u.company_id for u in collector.users if u.company_id)
        company_id = ids.most_common(1)[0][0] if ids else "unknown"
    return Company(id=company_id, geolocation=geolocation, name=collector.organization)


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
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = CONCUR_POLICY,
) -> DiscoveryResult:
    """Read everything from Concur; raise (IncompleteDiscovery, ConcurAuthError, ...) otherwise."""
    started = runtime.clock()
    collector = _Collector(progress)
    async with concur_session(settings, secrets, runtime, policy=policy) as session:
        session.tokens.use_refresh_token(secrets.refresh_token)
        grant = await session.tokens.refresh()
        stats = session.stats
        stats.granted_scopes = grant.scopes
        _warn_scopes(grant.scopes)
        await _fetch(session.api, collector, stats, settings.concurrency)
        geolocation = session.tokens.geolocation
    collector.check_complete()
    spend = collector.join()
    stats.duration_s = runtime.clock() - started
    return DiscoveryResult(
        company=_company(grant, geolocation, collector),
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
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = CONCUR_POLICY,
) -> DiscoveryResult:
    """Synchronous entry point for the CLI: one complete discovery or an OaaConcurError."""
    with fewer_gc_passes():
        return asyncio.run(
            discover(settings, secrets, progress=progress, runtime=runtime, policy=policy)
        )
