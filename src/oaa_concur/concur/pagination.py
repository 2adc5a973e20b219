"""Two checked paginators behind one small interface (design.md §3.5, concur-api.md §3.2, §4.2).

* ``CursorPaginator``: Identity v4.1 ``nextCursor`` -> ``cursor``; absent on the last page.
  A cursor seen before is refused ("loop detected") instead of looping forever.
* ``IndexPaginator``: Spend v4.1 ``startIndex``/``count`` (1-based, count <= 100) with
  ``totalResults``. A ``startIndex`` that does not advance is refused; ``plan`` lists the
  remaining pages for parallel fetching; ``finish`` reconciles the count fetched with
  ``totalResults`` (IncompleteDiscovery when they disagree).

Each step is a pure function of the previous request and the decoded page: no HTTP here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from oaa_concur.errors import ConcurError, IncompleteDiscovery


class Paginator(Protocol):
    """first() -> params of page 1; next(page) -> params of the following page, or None."""

    def first(self) -> dict[str, Any]: ...

    def next(self, page: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def finish(self) -> None: ...


def resources(page: Mapping[str, Any], what: str) -> list[Any]:
    """The ``Resources`` list of a SCIM ListResponse (absent -> []); wrong type -> error."""
    found = page.get("Resources", [])
    if found is None:
        return []
    if not isinstance(found, list):
        raise ConcurError(
            f"Concur's {what} page has a 'Resources' that is not a list",
            "run again; if it persists, report it",
        )
    return found


class CursorPaginator:
    """Follows ``nextCursor``; refuses a cursor it has already followed."""

    def __init__(self, what: str, count: int = 1000) -> None:
        self.what = what
        self.count = count
        self.pages = 0
        self.records = 0
        self._seen: set[str] = set()

    def first(self) -> dict[str, Any]:
        return {"count": self.count}

    def next(self, page: Mapping[str, Any]) -> dict[str, Any] | None:
        self.pages += 1
        self.records += len(resources(page, self.what))
        cursor = page.get("nextCursor")
        if cursor is None or cursor == "":
            return None
        if not isinstance(cursor, str):
            raise ConcurError(
                f"Concur's {self.what} page has a nextCursor that is not a string",
                "run again; if it persists, report it",
            )
        if cursor in self._seen:
            raise IncompleteDiscovery(
                f"Concur's {self.what} pagination returned a cursor it had returned before "
                f"(loop detected after {self.pages} pages)",
                "nothing was pushed; run again later and report it to SAP Concur if it persists",
            )
        self._seen.add(cursor)
        return {"count": self.count, "cursor": cursor}

    def finish(self) -> None:
        """Cursor pages carry no reliable total to reconcile (totalResults may lag)."""


def _int(page: Mapping[str, Any], key: str) -> int | None:
    value = page.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "²" or "٣"
        return int(value)
    return None


class IndexPaginator:
    """``startIndex``/``count`` paging with ``totalResults``, sequential or planned in parallel."""

    def __init__(self, what: str, count: int = 100) -> None:
        self.what = what
        self.count = count
        self.total: int | None = None
        self.fetched = 0
        self.pages = 0
        self._start = 1

    def first(self) -> dict[str, Any]:
        self._start = 1
        return {"startIndex": 1, "count": self.count}

    def read(self, start: int, page: Mapping[str, Any]) -> int:
        """Account for the page requested at ``start``; returns how many records it held."""
        got = len(resources(page, self.what))
        answered = _int(page, "startIndex")
        if answered is not None and answered != start:
            raise IncompleteDiscovery(
                f"Concur's {self.what} page asked for startIndex {start} answered {answered}",
                "nothing was pushed; run again",
            )
        total = _int(page, "totalResults")
        if total is None:
            raise ConcurError(
                f"Concur's {self.what} page has no totalResults",
                "run again; if it persists, report it",
            )
        self.total = max(self.total or 0, total)
        self.fetched += got
        self.pages += 1
        return got

    def next(self, page: Mapping[str, Any]) -> dict[str, Any] | None:
        start = self._start
        got = self.read(start, page)
        following = start + got
        if self.total is not None and following > self.total:
            return None
        if following <= start:
            raise IncompleteDiscovery(
                f"Concur's {self.what} paging did not advance at startIndex {start} "
                f"({self.fetched} of {self.total} records read)",
                "nothing was pushed; run again later",
            )
        self._start = following
        return {"startIndex": following, "count": self.count}

    def plan(self, after: int) -> list[int]:
        """startIndexes of the pages still needed after the first ``after`` records."""
        total = self.total or 0
        return list(range(after + 1, total + 1, self.count))

    def finish(self) -> None:
        if self.total is not None and self.fetched != self.total:
            raise IncompleteDiscovery(
                f"Concur's {self.what} listing reported {self.total} records but "
                f"{self.fetched} were read",
                "nothing was pushed; run again (users may have changed during the run)",
            )
