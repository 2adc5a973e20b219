"""Paginators as pure steps (cursor loop refusal, startIndex echo, reconciliation) and the one
driver, ``read_pages``, over pages served from memory (the simulator's paging is in
tests/reliability and tests/perf)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oaa_concur.concur.pagination import (
    CursorPaginator,
    IndexPaginator,
    Params,
    read_pages,
)
from oaa_concur.errors import ConcurError, IncompleteDiscovery

FIRST = {"startIndex": 1, "count": 100}


def _page(n: int, **extra: object) -> dict[str, Any]:
    return {"Resources": [{"id": str(i)} for i in range(n)], **extra}


def _at(start: int, count: int = 100) -> Params:
    return {"startIndex": start, "count": count}


def test_cursor_follows_next_cursor_until_absent() -> None:
    p = CursorPaginator("Identity", 2)
    [first] = p.starts()
    assert first == {"count": 2}
    assert p.after(first, _page(2, nextCursor="abc")) == [{"count": 2, "cursor": "abc"}]
    assert p.after(first, _page(2, nextCursor="def")) == [{"count": 2, "cursor": "def"}]
    assert p.after(first, _page(1, totalResults=5)) == []
    assert (p.pages, p.records, p.total) == (3, 5, 5)


def test_cursor_follow_up_keeps_the_query_of_its_chain() -> None:
    """A cursor is bound to its query (concur-api.md §3.2): a partition keeps its filter."""
    p = CursorPaginator("Identity")
    asked = {"count": 1000, "filter": 'id sw "a"'}
    assert p.after(asked, _page(1, nextCursor="c1")) == [{**asked, "cursor": "c1"}]


def test_cursor_empty_string_ends() -> None:
    p = CursorPaginator("Identity")
    assert p.after(p.starts()[0], _page(0, nextCursor="")) == []


def test_cursor_repeated_is_loop_detected() -> None:
    p = CursorPaginator("Identity")
    first = p.starts()[0]
    p.after(first, _page(1, nextCursor="a"))
    p.after(first, _page(1, nextCursor="b"))
    with pytest.raises(IncompleteDiscovery, match=r"loop detected after 3 pages"):
        p.after(first, _page(1, nextCursor="a"))


def test_cursor_wrong_type_refused() -> None:
    p = CursorPaginator("Identity")
    with pytest.raises(ConcurError, match="not a string"):
        p.after(p.starts()[0], _page(1, nextCursor=12))


def test_resources_wrong_type_refused() -> None:
    p = CursorPaginator("Identity")
    with pytest.raises(ConcurError, match="not a list"):
        p.after(p.starts()[0], {"Resources": {"id": 1}})


def test_index_page_one_asks_for_every_other_page_at_once() -> None:
    p = IndexPaginator("Spend", 100)
    assert p.starts() == [FIRST]
    assert p.after(FIRST, _page(100, totalResults=250, startIndex=1)) == [_at(101), _at(201)]
    assert p.after(_at(101), _page(100, totalResults=250)) == []
    assert p.after(_at(201), _page(50, totalResults=250)) == []
    p.finish()
    assert (p.fetched, p.pages, p.total) == (250, 3, 250)


def test_index_growing_total_adds_the_pages_it_implies() -> None:
    p = IndexPaginator("Spend", 100)
    p.starts()
    assert p.after(FIRST, _page(100, totalResults=150)) == [_at(101)]
    assert p.after(_at(101), _page(100, totalResults=301)) == [_at(201), _at(301)]
    p.after(_at(201), _page(100, totalResults=301))
    p.after(_at(301), _page(1, totalResults=301))
    p.finish()


def test_index_an_answer_for_another_start_is_refused() -> None:
    """Concur answering page 1 to every startIndex: the listing did not advance."""
    p = IndexPaginator("Spend", 100)
    p.starts()
    p.after(FIRST, _page(100, totalResults=250, startIndex=1))
    with pytest.raises(IncompleteDiscovery, match="asked for startIndex 101 answered 1"):
        p.after(_at(101), _page(100, totalResults=250, startIndex=1))


def test_index_missing_total_refused() -> None:
    p = IndexPaginator("Spend", 2)
    with pytest.raises(ConcurError, match="no totalResults"):
        p.after(p.starts()[0], _page(2))


@pytest.mark.parametrize(("short", "read"), [(49, 249), (0, 200)])
def test_index_reconciles_what_was_read_with_the_total(short: int, read: int) -> None:
    p = IndexPaginator("Spend", 100)
    p.starts()
    p.after(FIRST, _page(100, totalResults=250))
    p.after(_at(101), _page(100, totalResults=250))
    p.after(_at(201), _page(short, totalResults=250))
    with pytest.raises(IncompleteDiscovery, match=f"reported 250 records but {read} were read"):
        p.finish()


def test_index_empty_listing() -> None:
    p = IndexPaginator("Spend", 100)
    assert p.after(p.starts()[0], _page(0, totalResults=0)) == []
    p.finish()


class _Served:
    """Pages by request, as a fake ``Fetch``; records the order of requests."""

    def __init__(self, pages: dict[str, dict[str, Any]], fail: str | None = None) -> None:
        self.pages, self.fail = pages, fail
        self.asked: list[str] = []

    async def __call__(self, params: Params) -> dict[str, Any]:
        key = str(
            next(params[k] for k in ("cursor", "startIndex", "chain", "count") if k in params)
        )
        self.asked.append(key)
        await asyncio.sleep(0)
        if key == self.fail:
            raise ConcurError(f"page {key} failed")
        return self.pages[key]


class _Stop(Exception):
    pass


def _read(paginator: Any, served: _Served, sink: Any = None, gate: int = 4) -> list[str]:
    """Run the driver; whatever happens, no request may be left running afterwards."""
    ids: list[str] = []
    left: list[asyncio.Task[Any]] = []

    def collect(records: list[Any]) -> None:
        ids.extend(r["id"] for r in records)
        if sink is not None:
            sink()

    async def main() -> None:
        try:
            await read_pages(paginator, served, collect, asyncio.Semaphore(gate))
        finally:
            left.extend(t for t in asyncio.all_tasks() if t is not asyncio.current_task())

    try:
        asyncio.run(main())
    finally:
        assert left == []
    return ids


def _chain(*ids: str, cursor: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Resources": [{"id": i} for i in ids]}
    if cursor:
        page["nextCursor"] = cursor
    return page


def test_driver_reads_a_cursor_chain_in_order() -> None:
    served = _Served(
        {"1000": _chain("a", "b", cursor="c2"), "c2": _chain("c", cursor="c3"), "c3": _chain("d")}
    )
    assert _read(CursorPaginator("Identity"), served) == ["a", "b", "c", "d"]
    assert served.asked == ["1000", "c2", "c3"]


def test_driver_reads_every_index_page_and_reconciles() -> None:
    pages = {
        str(s): {"Resources": [{"id": f"{s}-{i}"} for i in range(n)], "totalResults": 250}
        for s, n in ((1, 100), (101, 100), (201, 50))
    }
    paginator = IndexPaginator("Spend", 100)
    assert len(_read(paginator, _Served(pages), gate=2)) == 250
    assert paginator.fetched == 250


def test_driver_refuses_a_looping_chain() -> None:
    served = _Served({"1000": _chain("a", cursor="x"), "x": _chain("b", cursor="x")})
    with pytest.raises(IncompleteDiscovery, match="loop detected"):
        _read(CursorPaginator("Identity"), served)


class _TwoChains(CursorPaginator):
    """Two partitions of one query, each its own cursor chain (as issue 13 will read Identity)."""

    def starts(self) -> list[Params]:
        return [{"count": 2, "chain": "p1"}, {"count": 2, "chain": "p2"}]


def test_driver_reads_several_chains_sharing_the_loop_check() -> None:
    served = _Served(
        {
            "p1": _chain("a", cursor="p1-2"),
            "p1-2": _chain("b"),
            "p2": _chain("c", cursor="p2-2"),
            "p2-2": _chain("d"),
        }
    )
    assert sorted(_read(_TwoChains("Identity"), served)) == ["a", "b", "c", "d"]
    looping = _Served(
        {"p1": _chain("a", cursor="same"), "same": _chain("b"), "p2": _chain("c", cursor="same")}
    )
    with pytest.raises(IncompleteDiscovery, match="loop detected"):
        _read(_TwoChains("Identity"), looping)


def test_a_failed_page_cancels_the_others_and_leaves_no_request_behind() -> None:
    pages = {str(s): _page(100, totalResults=500) for s in range(1, 500, 100)}
    served = _Served(pages, fail="201")
    with pytest.raises(ConcurError, match="page 201 failed"):
        _read(IndexPaginator("Spend", 100), served, gate=1)
    assert "401" not in served.asked  # cancelled before its turn at the gate


def test_a_sink_that_stops_reading_leaves_no_request_behind() -> None:
    served = _Served({"1000": _chain("a", cursor="c2"), "c2": _chain("b")})

    def stop() -> None:
        raise _Stop

    with pytest.raises(_Stop):
        _read(CursorPaginator("Identity"), served, sink=stop)
    assert served.asked == ["1000", "c2"]  # the next page was already asked for, then dropped


def test_the_gate_bounds_the_requests_in_flight() -> None:
    in_flight = [0]
    most = [0]
    pages = {str(s): _page(100, totalResults=1000) for s in range(1, 1000, 100)}
    served = _Served(pages)

    async def counted(params: Params) -> dict[str, Any]:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        try:
            return await served(params)
        finally:
            in_flight[0] -= 1

    async def main() -> None:
        await read_pages(
            IndexPaginator("Spend", 100), counted, lambda r: None, asyncio.Semaphore(3)
        )

    asyncio.run(main())
    assert most[0] == 3 and len(served.asked) == 10
