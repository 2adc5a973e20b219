"""What to fetch from Spend User v4.1: ``GET /profile/spend/v4.1/Users?startIndex=&count=100``.

Spend has only index paging (``count`` <= 100, ``totalResults`` given, concur-api.md §4.2), so
page 1 tells how many pages there are and the rest are fetched in parallel, bounded by a
semaphore (``settings.concurrency``, less the slot the Identity stream holds while it runs).
If a later page reports a larger ``totalResults`` (users added during the run) the extra pages
are fetched too; the paginator then reconciles the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from oaa_concur.concur.http import ConcurApi
from oaa_concur.concur.pagination import IndexPaginator, resources

LIST_PATH = "/profile/spend/v4.1/Users"
PAGE_SIZE = 100

PageSink = Callable[[list[Any]], None]


async def _page(api: ConcurApi, paginator: IndexPaginator, start: int) -> dict[str, Any]:
    page = (await api.get(LIST_PATH, {"startIndex": start, "count": paginator.count})).body
    paginator.read(start, page)
    return page


async def spend_pages(
    api: ConcurApi, paginator: IndexPaginator, gate: asyncio.Semaphore, sink: PageSink
) -> None:
    """Fetch every Spend page, at most ``gate``'s value at once; ``sink`` gets each page's
    ``Resources`` as it arrives."""
    async with gate:
        first = await _page(api, paginator, 1)
    sink(resources(first, "Spend"))

    async def one(start: int) -> None:
        async with gate:
            page = await _page(api, paginator, start)
        sink(resources(page, "Spend"))

    covered = paginator.count  # page 1 covers startIndex 1..count
    while starts := paginator.plan(covered):
        covered = starts[-1] + paginator.count - 1
        await run_all([one(start) for start in starts])
    paginator.finish()


async def run_all(jobs: list[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines concurrently; on failure cancel the rest and raise the first error."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except BaseExceptionGroup as group_error:
        raise first_error(group_error) from None


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf exception of a (possibly nested) exception group."""
    leaf: BaseException = group
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf
