"""What to fetch from Spend User v4.1: ``GET /profile/spend/v4.1/Users?startIndex=&count=100``.

Spend has only index paging (``count`` <= 100, ``totalResults`` given, concur-api.md §4.2), so
page 1 tells how many pages there are and the rest are fetched in parallel
(``pagination.IndexPaginator``), bounded by the gate discovery gives them
(``settings.concurrency``, less the slot the Identity stream holds while it runs). If a later
page reports a larger ``totalResults`` (users added during the run) the extra pages are
fetched too; the paginator then reconciles the count.
"""

from __future__ import annotations

from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import Fetch, IndexPaginator
from oaa_concur.config import DEFAULT_MAX_RECORDS

LIST_PATH = "/profile/spend/v4.1/Users"
PAGE_SIZE = 100


def spend_paginator(max_records: int = DEFAULT_MAX_RECORDS) -> IndexPaginator:
    return IndexPaginator("Spend", PAGE_SIZE, max_records)


def spend_fetch(api: ConcurApi) -> Fetch:
    """One list page at the paginator's ``startIndex`` and ``count``."""

    async def fetch(params: dict[str, Any]) -> dict[str, Any]:
        return (await api.get(LIST_PATH, params)).body

    return fetch
