"""Identity v4.1 cursors: opaque to clients, bound to their query, keyset on creation order.

Like Concur's (``identity-search.md``, "Cursor"), a cursor base64-decodes to a keyset
(``{"created-id": ..., "startIndex": 101}``); clients must treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from oaa_concur.simulator.projection import BadRequest

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant


def query_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_cursor(
    tenant: Tenant,
    next_index: int,
    position: int,
    page: int,
    query: str,
    attributes: list[str] | None,
) -> str:
    """The cursor of the page that starts at user ``next_index``, result ``position``."""
    body = {
        "created-id": f"{next_index}_{tenant.user_id(next_index)}",
        "startIndex": position,
        "page": page,
        "query": query,
        "hash": query_hash(query),
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
