"""What to fetch from Identity v4.1: every user through ``POST /Users/.search`` and its cursor.

``.search`` with ``count`` 1000 (the maximum) and an explicit ``attributes`` list, because
``entitlements`` is "Request Only" in v4.1 and comes back only when named, which in turn means
every other wanted field must be named too (concur-api.md §3.2, §3.4). Pages are sequential:
each cursor comes from the previous page. The follow-up body is the same query plus the cursor,
since a cursor is bound to "a single, unique query" (§3.2).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import CursorPaginator, resources
from oaa_concur.concur.parse import ENTERPRISE

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


async def _search(api: ConcurApi, params: dict[str, Any]) -> dict[str, Any]:
    return (await api.post(SEARCH_PATH, search_body(params))).body


async def identity_pages(
    api: ConcurApi, paginator: CursorPaginator
) -> AsyncGenerator[tuple[list[Any], int | None], None]:
    """Yield (Resources, totalResults) of each Identity page, following ``nextCursor``.

    The request for page n+1 is sent as soon as page n's cursor is known, before page n is
    handed on: parsing a 1,000-user page then overlaps the next round trip instead of adding
    to it (the cursor stream is the critical path, design.md §6). Still one request in flight.
    """
    pending: asyncio.Task[dict[str, Any]] | None = asyncio.ensure_future(
        _search(api, paginator.first())
    )
    try:
        while pending is not None:
            page = await pending
            params = paginator.next(page)
            pending = None if params is None else asyncio.ensure_future(_search(api, params))
            total = page.get("totalResults")
            yield resources(page, "Identity"), total if type(total) is int else None
    finally:
        if pending is not None:  # the consumer stopped early or failed: no orphan request
            _drop(pending)
    paginator.finish()


def _drop(task: asyncio.Task[Any]) -> None:
    """Cancel a request nobody will read; a failure it already had is retrieved, not logged."""
    if task.done():
        if not task.cancelled():
            task.exception()
    else:
        task.cancel()
