"""Spend User v4.1 routes: the bulk list (index paging) and one user.

Doc: ``api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md``. The list takes
``startIndex`` (">= 1") and ``count`` ("100 >= count >= 1"); the page does not say what
happens outside those ranges, so the simulator answers 400 ``invalidValue`` (a strict server
rather than a silent clamp; a client that asks for 101 learns it at once). ``attributes``
works as in SCIM (only those attributes, plus ``schemas`` and ``id``) and is how the whole
ApproverLimit extension is asked for ("Approver Limit Extension"). The documented ``filter``
is not implemented: it is answered 400 ``invalidFilter``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oaa_concur.simulator.guard import (
    Refused,
    authorize,
    error_response,
    finish,
    json_response,
    slower,
)
from oaa_concur.simulator.spend_records import APPROVER_LIMIT, SPEND_SCHEMAS
from oaa_concur.simulator.state import SimulatorState

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPEND_SCOPE = "spend.user.general.read"
MAX_COUNT = 100
_TOP = frozenset({"id", "meta", *SPEND_SCHEMAS[1:], APPROVER_LIMIT})
_KNOWN = {name.lower(): name for name in _TOP}


class _Invalid(Exception):
    """A 400 ``invalidValue`` with its detail."""


def _int(params: Any, name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(f"{name} must be an integer [{raw}]") from None
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise _Invalid(f"{name} must be {bounds} [{raw}]")
    return value


def parse_attributes(raw: str | None) -> dict[str, set[str] | None] | None:
    """``attributes``: top-level names and extension URNs, or ``URN:sub`` paths; else 400."""
    if raw is None:
        return None
    selection: dict[str, set[str] | None] = {}
    for name in (n.strip() for n in raw.split(",")):
        if not name:
            continue
        top = _KNOWN.get(name.lower())
        sub = None
        if top is None:
            head, _, sub = name.rpartition(":")
            top = _KNOWN.get(head.lower())
            if top is None or not sub or not head.startswith("urn:"):
                raise _Invalid(f"Invalid attribute path [{name}]")
        if sub is None or selection.get(top, set()) is None:
            selection[top] = None
        else:
            current = selection.setdefault(top, set())
            assert current is not None
            current.add(sub)
    return selection


def select(record: dict[str, Any], selection: dict[str, set[str] | None] | None) -> dict[str, Any]:
    """Only the selected attributes, with ``schemas`` and ``id`` (SCIM "always" returned)."""
    if selection is None:
        return record
    out = {"schemas": record["schemas"], "id": record["id"]}
    for key, subs in selection.items():
        value = record.get(key, {} if key == APPROVER_LIMIT else None)
        if isinstance(value, dict) and subs is not None:
            value = {k: v for k, v in value.items() if k in subs}
        if value is not None or key in record:
            out[key] = value
    return out


async def list_users(request: Request, state: SimulatorState) -> Response:
    """GET /profile/spend/v4.1/Users?startIndex=1&count=100[&attributes=...]."""
    try:
        authorize(request, state, [SPEND_SCOPE], status_as_int=True)
        params = request.query_params
        start = _int(params, "startIndex", 1, 1, None)
        count = _int(params, "count", MAX_COUNT, 1, MAX_COUNT)
        selection = parse_attributes(params.get("attributes"))
    except Refused as refused:
        return refused.response
    except _Invalid as bad:
        return error_response(400, str(bad), "invalidValue", status_as_int=True)
    if "filter" in params:
        return error_response(
            400, "filter is not supported by this simulator", "invalidFilter", status_as_int=True
        )
    tenant, full = state.tenant, bool(selection and APPROVER_LIMIT in selection)
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
        "Resources": [select(tenant.spend_user_at(p, full), selection) for p in positions],
    }
    return finish(state, "spend", (start - 1) // count + 1, body)


async def get_one(request: Request, state: SimulatorState) -> Response:
    """GET /profile/spend/v4.1/Users/{id}[?attributes=]; 404 for unknown ids and Travel-only
    users."""
    try:
        authorize(request, state, [SPEND_SCOPE], status_as_int=True)
        selection = parse_attributes(request.query_params.get("attributes"))
    except Refused as refused:
        return refused.response
    except _Invalid as bad:
        return error_response(400, str(bad), "invalidValue", status_as_int=True)
    full = bool(selection and APPROVER_LIMIT in selection)
    record = state.tenant.spend_user_by_id(request.path_params["user_id"], full)
    if record is None:
        return error_response(404, "User not found", status_as_int=True)
    return slower(state, json_response(select(record, selection)), 1)
