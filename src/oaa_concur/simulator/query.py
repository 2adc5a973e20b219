"""Identity v4.1 queries: the filter subset the simulator understands, and opaque cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from oaa_concur.simulator.projection import BadRequest
from oaa_concur.simulator.records import ENTERPRISE

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

_CLAUSE = re.compile(
    r'\s*([A-Za-z0-9:._]+)\s+(eq|gt|ge|lt|le)\s+("(?:[^"\\]|\\.)*"|true|false)\s*', re.IGNORECASE
)
_AND = re.compile(r"and\b", re.IGNORECASE)
_UNIQUE = {
    "username": "userName",
    "id": "id",
    "employeenumber": "employeeNumber",
    f"{ENTERPRISE}:employeenumber".lower(): "employeeNumber",
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


@dataclass
class Query:
    """A parsed filter: an optional single candidate plus per-index predicates."""

    text: str
    only: int | None = None  # a unique-attribute eq picked one user (-1: nobody)
    predicates: tuple[Callable[[int], bool], ...] = ()

    def matches(self, index: int) -> bool:
        return all(p(index) for p in self.predicates)


def parse_filter(text: str | None, tenant: Tenant) -> Query:
    """Parse `active eq`, `userName eq`, `id eq`, `employeeNumber eq` and
    `meta.lastModified gt|ge|lt|le`, joined by `and` (concur-api.md §3.3); else 400."""
    query = Query(text or "")
    pos, text = 0, text or ""
    while text.strip():
        match = _CLAUSE.match(text, pos)
        if match is None:
            raise BadRequest(f"Unsupported or invalid filter [{text}]", "invalidFilter")
        _apply(query, match.group(1), match.group(2).lower(), match.group(3), tenant)
        pos = match.end()
        if pos >= len(text):
            break
        joiner = _AND.match(text, pos)
        if joiner is None:
            raise BadRequest(f"Unsupported or invalid filter [{text}]", "invalidFilter")
        pos = joiner.end()
    return query


def _apply(query: Query, attr: str, op: str, raw: str, tenant: Tenant) -> None:
    name = attr.lower()
    value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw.lower()
    if name == "active" and op == "eq" and value in ("true", "false"):
        wanted = value == "true"
        query.predicates += (lambda i: tenant.is_active(i) == wanted,)
    elif name in _UNIQUE and op == "eq":
        found = _unique(tenant, _UNIQUE[name], value)
        if query.only is not None and query.only != found:
            found = -1
        query.only = -1 if found is None else found
    elif name == "meta.lastmodified" and op in _COMPARE and raw.startswith('"'):
        limit, compare = _timestamp(value), _COMPARE[op]
        query.predicates += (lambda i: compare(tenant.last_modified(i), limit),)
    else:
        raise BadRequest(f"Unsupported filter [{attr} {op} {raw}]", "invalidFilter")


def _unique(tenant: Tenant, attr: str, value: str) -> int | None:
    if attr == "userName":
        return tenant.index_of_username(value)
    if attr == "id":
        index = tenant.index_of(value)
        return index if index is not None and index < tenant.users else None
    match = re.fullmatch(r"E(\d{6,})", value)
    index = int(match.group(1)) if match else None
    return index if index is not None and index < tenant.users else None


def _timestamp(value: str) -> float:
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"Invalid date-time [{value}]", "invalidFilter") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def query_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_cursor(
    tenant: Tenant,
    next_index: int,
    position: int,
    page: int,
    query: Query,
    attributes: list[str] | None,
) -> str:
    """Opaque cursor; like Concur's it base64-decodes to a keyset (concur-api.md §3.2)."""
    body = {
        "created-id": f"{next_index}_{tenant.user_id(next_index)}",
        "startIndex": position,
        "page": page,
        "query": query.text,
        "hash": query_hash(query.text),
        "attributes": attributes,
    }
    return base64.b64encode(orjson.dumps(body)).decode()


def read_cursor(cursor: str) -> dict[str, Any]:
    """Decode a cursor we issued; anything else is a 400."""
    try:
        body = orjson.loads(base64.b64decode(cursor, validate=True))
        index = int(str(body["created-id"]).split("_", 1)[0])
        valid = body["hash"] == query_hash(body["query"]) and index >= 0
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        valid = False
    if not valid:
        raise BadRequest(f"Invalid cursor [{cursor[:40]}]")
    body["next"] = index
    return dict(body)
