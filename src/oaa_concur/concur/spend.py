"""What to fetch from Spend User v4.1: ``GET /profile/spend/v4.1/Users?startIndex=&count=100``.

Spend has only index paging (``count`` <= 100, ``totalResults`` given, concur-api.md §4.2), so
page 1 tells how many pages there are and the rest are fetched in parallel
(``pagination.IndexPaginator``), bounded by the gate discovery gives them
(``settings.concurrency``, less the slot the Identity stream holds while it runs). If a later
page reports a larger ``totalResults`` (users added during the run) the extra pages are
fetched too; the paginator then reconciles the count.

Approval limits: "By default, GET Users or GET single user only returns the config in `Global`
group. In order to get the top 1000 config for a specific user, requests need to add the query
parameter" ``attributes=urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit``
(``v4.1.spend-user-retrieval.md`` "Approver Limit Extension", shown on the single-user GET).
One request per user would multiply the run's requests by 100, so the list itself is asked
with ``attributes``: every extension the client reads, ApproverLimit included (SCIM's
``attributes`` returns only what is named). The list's parameter table does not document
``attributes``; if Concur refuses it (a 400 to the first page), the listing is read without it,
the run says so once, and ``RunStats.limits_global_only`` records that only the Global group's
limits were read.
"""

from __future__ import annotations

import logging
from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import Fetch, IndexPaginator
from oaa_concur.concur.parse import (
    SPEND_APPROVER,
    SPEND_APPROVER_LIMIT,
    SPEND_DELEGATE,
    SPEND_ROLE,
    SPEND_USER,
    SPEND_USER_PREFERENCE,
)
from oaa_concur.config import DEFAULT_MAX_RECORDS
from oaa_concur.errors import ClientError

LOG = logging.getLogger(__name__)
LIST_PATH = "/profile/spend/v4.1/Users"
PAGE_SIZE = 100
ATTRIBUTES = ",".join(
    (
        "id",
        SPEND_USER,
        SPEND_ROLE,
        SPEND_APPROVER,
        SPEND_APPROVER_LIMIT,
        SPEND_DELEGATE,
        SPEND_USER_PREFERENCE,
    )
)
"""What the client reads of a Spend user (``parse.parse_spend``), ApproverLimit in full."""


def spend_paginator(max_records: int = DEFAULT_MAX_RECORDS) -> IndexPaginator:
    return IndexPaginator("Spend", PAGE_SIZE, max_records)


def spend_fetch(api: ConcurApi) -> Fetch:
    """One list page at the paginator's ``startIndex`` and ``count``, with ``attributes`` until
    Concur refuses them on the first page (module docstring)."""
    attributes: dict[str, str] = {"attributes": ATTRIBUTES}
    decided = False

    async def fetch(params: dict[str, Any]) -> dict[str, Any]:
        nonlocal decided
        try:
            body = (await api.get(LIST_PATH, {**params, **attributes})).body
        except ClientError as error:
            if decided or not attributes or error.status != 400:
                raise
            _refused(api, error)
            attributes.clear()
            body = (await api.get(LIST_PATH, params)).body
        decided = True
        return body

    return fetch


def _refused(api: ConcurApi, error: ClientError) -> None:
    api.http.stats.limits_global_only = True
    LOG.warning(
        "Concur refused `attributes` on the Spend user list (%s); reading it without them, so "
        "approval limits are those of the Global group only",
        error.message,
    )
