"""Paginators as pure steps: cursor loop refusal, index advance and reconciliation."""

from __future__ import annotations

import pytest

from oaa_concur.concur.pagination import CursorPaginator, IndexPaginator
from oaa_concur.errors import ConcurError, IncompleteDiscovery


def _page(n: int, **extra: object) -> dict[str, object]:
    return {"Resources": [{"id": str(i)} for i in range(n)], **extra}


def test_cursor_follows_next_cursor_until_absent() -> None:
    p = CursorPaginator("Identity", 2)
    assert p.first() == {"count": 2}
    assert p.next(_page(2, nextCursor="abc")) == {"count": 2, "cursor": "abc"}
    assert p.next(_page(2, nextCursor="def")) == {"count": 2, "cursor": "def"}
    assert p.next(_page(1)) is None
    assert (p.pages, p.records) == (3, 5)


def test_cursor_empty_string_ends() -> None:
    p = CursorPaginator("Identity")
    p.first()
    assert p.next(_page(0, nextCursor="")) is None


def test_cursor_repeated_is_loop_detected() -> None:
    p = CursorPaginator("Identity")
    p.first()
    p.next(_page(1, nextCursor="a"))
    p.next(_page(1, nextCursor="b"))
    with pytest.raises(IncompleteDiscovery, match="loop detected"):
        p.next(_page(1, nextCursor="a"))


def test_cursor_wrong_type_refused() -> None:
    p = CursorPaginator("Identity")
    with pytest.raises(ConcurError, match="not a string"):
        p.next(_page(1, nextCursor=12))


def test_resources_wrong_type_refused() -> None:
    with pytest.raises(ConcurError, match="not a list"):
        CursorPaginator("Identity").next({"Resources": {"id": 1}})


def test_index_sequential_to_total() -> None:
    p = IndexPaginator("Spend", 2)
    assert p.first() == {"startIndex": 1, "count": 2}
    assert p.next(_page(2, totalResults=5, startIndex=1)) == {"startIndex": 3, "count": 2}
    assert p.next(_page(2, totalResults=5, startIndex=3)) == {"startIndex": 5, "count": 2}
    assert p.next(_page(1, totalResults=5, startIndex=5)) is None
    p.finish()
    assert (p.fetched, p.pages) == (5, 3)


def test_index_non_advancing_refused() -> None:
    p = IndexPaginator("Spend", 2)
    p.first()
    p.next(_page(2, totalResults=5))
    with pytest.raises(IncompleteDiscovery, match="did not advance"):
        p.next(_page(0, totalResults=5))


def test_index_wrong_start_echo_refused() -> None:
    p = IndexPaginator("Spend", 2)
    p.first()
    with pytest.raises(IncompleteDiscovery, match="startIndex 1 answered 3"):
        p.next(_page(2, totalResults=5, startIndex=3))


def test_index_missing_total_refused() -> None:
    p = IndexPaginator("Spend", 2)
    with pytest.raises(ConcurError, match="no totalResults"):
        p.read(1, _page(2))


def test_index_plan_and_reconcile() -> None:
    p = IndexPaginator("Spend", 100)
    p.read(1, _page(100, totalResults=250))
    assert p.plan(100) == [101, 201]
    p.read(101, _page(100, totalResults=250))
    p.read(201, _page(49, totalResults=250))
    with pytest.raises(IncompleteDiscovery, match="reported 250 records but 249 were read"):
        p.finish()


def test_index_growing_total_plans_more() -> None:
    p = IndexPaginator("Spend", 100)
    p.read(1, _page(100, totalResults=150))
    p.read(101, _page(100, totalResults=201))
    assert p.plan(200) == [201]
    p.read(201, _page(1, totalResults=201))
    p.finish()


def test_index_empty_listing() -> None:
    p = IndexPaginator("Spend", 100)
    p.first()
    assert p.next(_page(0, totalResults=0)) is None
    p.finish()
    assert p.plan(100) == []
