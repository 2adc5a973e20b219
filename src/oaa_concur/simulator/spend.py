"""Spend User v4.1 routes: the bulk list (index paging, <= 100) and one user (§4.2)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from oaa_concur.simulator.guard import Refused, authorize, error_response, page_fault
from oaa_concur.simulator.state import SimulatorState

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPEND_SCOPE = "spend.user.general.read"
MAX_COUNT = 100


def _int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


async def list_users(request: Request, state: SimulatorState) -> Response:
    """GET /profile/spend/v4.1/Users?startIndex=1&count=100 (count clamped to 100)."""
    try:
        authorize(request, state, [SPEND_SCOPE], status_as_int=True)
    except Refused as refused:
        return refused.response
    params = request.query_params
    start, count = _int(params.get("startIndex"), 1), _int(params.get("count"), MAX_COUNT)
    if start is None or count is None:
        return error_response(
            400, "startIndex and count must be integers", "invalidValue", status_as_int=True
        )
    if "filter" in params:
        return error_response(
            400, "filter is not supported by this simulator", "invalidFilter", status_as_int=True
        )
    start, count = max(1, start), max(0, min(count, MAX_COUNT))
    tenant = state.tenant
    positions = range(start - 1, min(tenant.spend_total, start - 1 + count))
    total = tenant.spend_total
    if state.config.spend_total_offset:
        state.faults["total_offset"] += 1
        total = max(0, total + state.config.spend_total_offset)  # claims more/fewer than served
    body: dict[str, Any] = {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(positions),
        "Resources": [tenant.spend_user_at(p) for p in positions],
    }
    page = (start - 1) // max(count, 1) + 1
    return page_fault(state, "spend", page, body) or Response(
        orjson.dumps(body), media_type="application/json"
    )


async def get_one(request: Request, state: SimulatorState) -> Response:
    """GET /profile/spend/v4.1/Users/{id}; 404 for unknown ids and Travel-only users."""
    try:
        authorize(request, state, [SPEND_SCOPE], status_as_int=True)
    except Refused as refused:
        return refused.response
    record = state.tenant.spend_user_by_id(request.path_params["user_id"])
    if record is None:
        return error_response(404, "User not found", status_as_int=True)
    return Response(orjson.dumps(record), media_type="application/json")
