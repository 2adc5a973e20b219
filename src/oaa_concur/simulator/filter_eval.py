"""Evaluating a parsed SCIM filter (``scim_filter``) against the generated users.

Semantics (``api-guides/profile/identity-search.md``): a comparison on a multi-valued path
(``emails.value``, ``entitlements``) holds when one value satisfies it ("Filter Across Values");
``attr[...]`` holds when one entry satisfies the whole group ("will match one and only one
record to the condition"); ``ne`` is "not eq", so it also matches users without a value ("When
using ne, results can include null values"); ``eq null`` means "not present". Strings compare
case-insensitively; dates chronologically (a date without a time is midnight UTC).

Cheap attributes (``id``, ``active``, ``meta.lastModified``, ``userName``, ``externalId``,
the employee number and the manager) are read without building the user record; any other
attribute builds it once per user and filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oaa_concur.simulator.records import ENTERPRISE, employee_number, external_id, user_name
from oaa_concur.simulator.scim_filter import (
    And,
    Attr,
    Compare,
    FilterError,
    Group,
    Node,
    Not,
    Or,
    Present,
)

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

Test = Callable[[Any], bool]


class UserView:
    """User ``index`` as the filter sees it; the full record is built at most once."""

    __slots__ = ("_record", "index", "tenant")

    def __init__(self, tenant: Tenant, index: int) -> None:
        self.tenant, self.index = tenant, index
        self._record: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        if self._record is None:
            self._record = self.tenant.identity_user(self.index)
        return self._record

    def values(self, attr: Attr) -> list[Any]:
        fast = _FAST.get(attr.path)
        if fast is not None:
            return fast(self.tenant, self.index)
        return walk(self.record(), attr.path)

    def entries(self, attr: Attr) -> list[Any]:
        return [e for e in walk(self.record(), attr.path) if isinstance(e, dict)]


class EntryView:
    """One entry of a complex attribute (an e-mail, an address, the name) inside ``[...]``."""

    __slots__ = ("base", "entry")

    def __init__(self, entry: dict[str, Any], base: str) -> None:
        self.entry, self.base = entry, base

    def values(self, attr: Attr) -> list[Any]:
        return walk(self.entry, attr.path[len(self.base) + 1 :])

    def entries(self, attr: Attr) -> list[Any]:
        return []  # groups do not nest (the parser refuses them)


View = UserView | EntryView


def _manager(tenant: Tenant, index: int, render: Callable[[int], str]) -> list[Any]:
    manager = tenant.manager_of(index)
    return [] if manager is None else [render(manager)]


_FAST: dict[str, Callable[[Tenant, int], list[Any]]] = {
    "id": lambda t, i: [t.user_id(i)],
    "active": lambda t, i: [t.is_active(i)],
    "meta.lastModified": lambda t, i: [t.last_modified(i)],
    "userName": lambda t, i: [user_name(t.person(i))],
    "externalId": lambda t, i: [external_id(i)],
    f"{ENTERPRISE}:employeeNumber": lambda t, i: [employee_number(i)],
    f"{ENTERPRISE}:manager.value": lambda t, i: _manager(t, i, t.user_id),
    f"{ENTERPRISE}:manager.employeeNumber": lambda t, i: _manager(t, i, employee_number),
}


def walk(value: Any, path: str) -> list[Any]:
    """The values at ``path`` (extension URN, then dotted sub-attributes), lists flattened."""
    found = [value]
    head, sep, rest = path.rpartition(":")
    if sep and head.startswith("urn:"):
        found = [value.get(head)] if isinstance(value, dict) else []
        path = rest
    for name in path.split("."):
        found = [_get(item, name) for item in found]
        found = [x for item in found for x in (item if isinstance(item, list) else [item])]
    return [x for x in found if x is not None]


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None


def compile_filter(node: Node, case_exact_ids: bool = False) -> Callable[[View], bool]:
    """A predicate over views; ``case_exact_ids``: ``id`` compares case-exactly (a fault)."""
    if isinstance(node, Compare):
        return _compare(node, case_exact_ids and node.attr.path == "id")
    if isinstance(node, Present):
        attr = node.attr
        return lambda view: any(_has(x) for x in view.values(attr))
    if isinstance(node, Not):
        inner = compile_filter(node.item, case_exact_ids)
        return lambda view: not inner(view)
    if isinstance(node, Group):
        return _group(node, compile_filter(node.inner, case_exact_ids))
    parts = [compile_filter(item, case_exact_ids) for item in node.items]
    if isinstance(node, And):
        return lambda view: all(part(view) for part in parts)
    assert isinstance(node, Or)
    return lambda view: any(part(view) for part in parts)


def _group(node: Group, inner: Callable[[View], bool]) -> Callable[[View], bool]:
    base, attr = node.attr.path, node.attr
    return lambda view: any(inner(EntryView(e, base)) for e in view.entries(attr))


def _has(value: Any) -> bool:
    return value not in ("", [], {})


def _compare(node: Compare, exact: bool) -> Callable[[View], bool]:
    attr, op = node.attr, node.op
    if node.value is None:  # eq null: absent; ne null: present; other operators never hold
        present = compile_filter(Present(attr))
        return (lambda view: not present(view)) if op == "eq" else present if op == "ne" else _no
    test = _test(attr.kind, "eq" if op == "ne" else op, node.value, exact)
    if op == "ne":
        return lambda view: not any(test(x) for x in view.values(attr))
    return lambda view: any(test(x) for x in view.values(attr))


def _no(view: View) -> bool:
    return False


def _test(kind: str, op: str, wanted: str | bool, exact: bool) -> Test:
    if kind == "boolean":
        return lambda x: x is wanted
    if kind == "date":
        return _date_test(op, epoch(str(wanted)))
    text = str(wanted) if exact else str(wanted).lower()
    fold: Callable[[Any], str] = str if exact else (lambda x: str(x).lower())
    tests: dict[str, Test] = {
        "eq": lambda x: fold(x) == text,
        "co": lambda x: text in fold(x),
        "sw": lambda x: fold(x).startswith(text),
        "ew": lambda x: fold(x).endswith(text),
        "gt": lambda x: fold(x) > text,
        "ge": lambda x: fold(x) >= text,
        "lt": lambda x: fold(x) < text,
        "le": lambda x: fold(x) <= text,
    }
    return tests[op]


def _date_test(op: str, limit: float) -> Test:
    def value(x: Any) -> float | None:
        if isinstance(x, int | float):
            return float(x)
        try:
            return epoch(str(x))
        except FilterError:
            return None

    compare: dict[str, Callable[[float, float], bool]] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }
    check = compare[op]
    return lambda x: (v := value(x)) is not None and check(v, limit)


def epoch(text: str) -> float:
    """Epoch seconds of an ISO date or date-time (no zone: UTC)."""
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(f"Invalid date-time [{text}]") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()
