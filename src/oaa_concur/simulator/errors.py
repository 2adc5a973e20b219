"""Error bodies the simulator answers with: SCIM errors and Concur's rate-limit body."""

from __future__ import annotations

import datetime as dt
from typing import Any

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
CONCUR_ERROR = "urn:ietf:params:scim:api:messages:concur:2.0:Error"
_CODES = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def scim_error(
    status: int, detail: str, scim_type: str | None = None, *, status_as_int: bool = False
) -> dict[str, Any]:
    """SCIM error shaped as concur-api.md §5.2 (status is a string in Identity, int in Spend)."""
    body: dict[str, Any] = {
        "schemas": [SCIM_ERROR, CONCUR_ERROR],
        "status": status if status_as_int else str(status),
        "detail": detail,
        CONCUR_ERROR: {
            "messages": [{"code": _CODES.get(status, "ERROR"), "message": detail, "type": "error"}]
        },
    }
    if scim_type:
        body["scimType"] = scim_type
    return body


def rate_limit_body(path: str) -> dict[str, Any]:
    """The documented 429 body (List v4 example, concur-api.md §5.3)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"
    return {
        "timestamp": now,
        "httpStatus": "429 - Too Many Requests",
        "error": {"id": "security.rate.limit.reached", "message": "Too many requests"},
        "path": path,
    }
