"""Planning and paging a filtered Identity query: which users to look at, in creation order.

A plan is a sorted list of candidate indices (or "everyone") plus a predicate (or none, when
the candidates are exactly the matches). Unique attributes compared with ``eq`` give one
candidate; ``id sw "p"`` gives the users of a prefix bucket (``prefix_index``); ``and`` takes
the smallest candidate set of its parts, ``or`` the union when every part has one. So a page
of a partition costs a bisection plus the page, not a scan of the tenant, and a total is
counted once per filter and tenant version.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oaa_concur.simulator.filter_eval import UserView, compile_filter
from oaa_concur.simulator.records import ENTERPRISE
from oaa_concur.simulator.scim_filter import And, Compare, FilterError, Node, Or, parse, tokenize

if TYPE_CHECKING:
    from oaa_concur.simulator.prefix_index import PrefixIndex
    from oaa_concur.simulator.tenant import Tenant


@dataclass(frozen=True)
class Plan:
    """``candidates``: sorted indices (None: every user); ``predicate``: None when every
    candidate matches."""

    text: str
    candidates: Sequence[int] | None
    predicate: Callable[[int], bool] | None


def plan(text: str | None, tenant: Tenant, prefixes: Callable[[], PrefixIndex]) -> Plan:
    """The plan of filter ``text`` (None or blank: every user); ``FilterError`` if invalid."""
    if text is None or not text.strip():
        return Plan("", None, None)
    node = parse(text)
    test = compile_filter(node, tenant.case_exact_ids)
    candidates = _candidates(node, tenant, prefixes)
    exact = isinstance(node, Compare) and _is_prefix(node) and 0 < len(str(node.value)) <= 2
    return Plan(text, candidates, None if exact else (lambda i: test(UserView(tenant, i))))


def _is_prefix(node: Node) -> bool:
    return isinstance(node, Compare) and node.attr.path == "id" and node.op == "sw"


_UNIQUE: dict[str, Callable[[Tenant, str], int | None]] = {
    "id": lambda t, v: t.index_of(v),
    "userName": lambda t, v: t.index_of_username(v),
    "externalId": lambda t, v: t.index_of_external_id(v),
    f"{ENTERPRISE}:employeeNumber": lambda t, v: t.index_of_number(v),
}


def _candidates(
    node: Node, tenant: Tenant, prefixes: Callable[[], PrefixIndex]
) -> Sequence[int] | None:
    if isinstance(node, Compare) and isinstance(node.value, str):
        lookup = _UNIQUE.get(node.attr.path)
        if node.op == "eq" and lookup is not None:
            found = lookup(tenant, node.value)
            return [] if found is None else [found]
        if _is_prefix(node):
            return prefixes().candidates(node.value)
        return None
    if isinstance(node, And):
        known = [c for c in (_candidates(i, tenant, prefixes) for i in node.items) if c is not None]
        return min(known, key=len) if known else None
    if isinstance(node, Or):
        parts = [_candidates(i, tenant, prefixes) for i in node.items]
        if any(p is None for p in parts):
            return None
        return sorted({i for p in parts for i in p or ()})
    return None


def matches(query: Plan, tenant: Tenant, start: int) -> Iterator[int]:
    """Matching indices from ``start`` on, in creation (index) order."""
    users, test = tenant.users, query.predicate
    if query.candidates is None:
        indices: Iterator[int] = iter(range(start, users))
    else:
        seq = query.candidates
        begin = bisect.bisect_left(seq, start)
        indices = (seq[k] for k in range(begin, len(seq)))
    for index in indices:
        if index >= users:
            return
        if test is None or test(index):
            yield index


def page(query: Plan, tenant: Tenant, start: int, count: int) -> tuple[list[int], int | None]:
    """Up to ``count`` matches from ``start``, and the next match after them (or None)."""
    found = matches(query, tenant, start)
    hits = [index for _, index in zip(range(count), found, strict=False)]
    return hits, next(found, None)


CACHED_TOTALS = 256


def total(query: Plan, tenant: Tenant, cache: dict[tuple[str, int], int]) -> int:
    """totalResults: free when the plan is exact, counted directly over a few candidates, else
    counted once per (filter, tenant version) and kept for the last ``CACHED_TOTALS`` filters
    (so a client that looks users up one by one does not grow the server)."""
    if query.candidates is None and query.predicate is None:
        return tenant.users
    if query.predicate is None:
        assert query.candidates is not None
        return bisect.bisect_left(query.candidates, tenant.users)
    if query.candidates is not None and len(query.candidates) <= 1000:
        return sum(1 for _ in matches(query, tenant, 0))
    key = (query.text, tenant.version)
    if key not in cache:
        while len(cache) >= CACHED_TOTALS:
            del cache[next(iter(cache))]
        cache[key] = sum(1 for _ in matches(query, tenant, 0))
    return cache[key]


V4_ATTRIBUTES = {
    "username": "userName",
    "employeenumber": f"{ENTERPRISE}:employeeNumber",
    f"{ENTERPRISE}:employeenumber".lower(): f"{ENTERPRISE}:employeeNumber",
    "externalid": "externalId",
}


def v4_lookup(text: str, tenant: Tenant) -> int | None:
    """Identity v4 ``filter``: ``userName``, ``employeeNumber`` or ``externalId`` with ``eq``
    and a quoted value, nothing else (``v4.identity.md``, "Retrieve Users", Parameters)."""
    tokens = tokenize(text)
    shape = [t.kind for t in tokens] == ["word", "word", "str"]
    name = V4_ATTRIBUTES.get(tokens[0].text.lower()) if shape else None
    if name is None or tokens[1].text.lower() != "eq":
        raise FilterError(
            f'Invalid filter [{text}]: only userName, employeeNumber or externalId eq "value"'
        )
    node = parse(f"{name} eq {tokens[2].text}")
    assert isinstance(node, Compare) and isinstance(node.value, str)
    return _UNIQUE[name](tenant, node.value)
