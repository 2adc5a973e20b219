"""What to fetch from Identity v4.1: every user through ``POST /Users/.search`` and its cursor.

``.search`` with ``count`` 1000 (the maximum) and an explicit ``attributes`` list, because
``entitlements`` is "Request Only" in v4.1 and comes back only when named, which in turn means
every other wanted field must be named too (concur-api.md §3.2, §3.4). Pages are sequential:
each cursor comes from the previous page (``pagination.CursorPaginator``). The follow-up body
is the same query plus the cursor, since a cursor is bound to "a single, unique query" (§3.2).
"""

from __future__ import annotations

from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import CursorPaginator, Fetch
from oaa_concur.concur.parse import ENTERPRISE
from oaa_concur.config import DEFAULT_MAX_RECORDS

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
