"""Identity v4.1 (cursor paging, .search) and v4 (index paging) user routes (concur-api.md §3)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from oaa_concur.simulator import query as q
from oaa_concur.simulator.guard import Refused, authorize, error_response, page_fault
from oaa_concur.simulator.projection import (
    IDENTITY_SCOPES,
    BadRequest,
    Selection,
    parse_attributes,
    project,
)
from oaa_concur.simulator.state import SimulatorState

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest"
MAX_V41, DEFAULT_V41 = 1000, 100
MAX_V4, DEFAULT_V4 = 100, 10


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid value for {name} [{value}]") from None


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v for v in value.split(",") if v.strip()]


async def list_v41(request: Request, state: SimulatorState) -> Response:
    """GET /profile/identity/v4.1/Users: no filter parameter here (use .search)."""
    params = request.query_params
    if "filter" in params:
        return error_response(
            400, "filter is not supported on GET; use POST /Users/.search", "invalidFilter"
        )
    return await _guarded(
        request,
        state,
        None,
        _split(params.get("attributes")),
        _split(params.get("excludedAttributes")),
        params.get("count"),
        params.get("cursor"),
    )


async def search_v41(request: Request, state: SimulatorState) -> Response:
    """POST /profile/identity/v4.1/Users/.search with a SCIM SearchRequest body."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return error_response(400, "The request body is not valid JSON", "invalidSyntax")
    if not isinstance(body, dict) or SEARCH_REQUEST not in (body.get("schemas") or []):
        return error_response(400, f"schemas must contain {SEARCH_REQUEST}", "invalidSyntax")
    attributes, excluded = body.get("attributes"), body.get("excludedAttributes")
    for value in (attributes, excluded):
        if value is not None and not isinstance(value, list):
            return error_response(400, "attributes must be an array", "invalidSyntax")
    return await _guarded(
        request,
        state,
        body.get("filter"),
        attributes,
        excluded,
        body.get("count"),
        body.get("cursor"),
    )


async def _guarded(
    request: Request,
    state: SimulatorState,
    filter_text: str | None,
    attributes: list[str] | None,
    excluded: list[str] | None,
    count: Any,
    cursor: str | None,
) -> Response:
    try:
        grant = authorize(request, state, IDENTITY_SCOPES)
        return _page_v41(state, grant.scopes, filter_text, attributes, excluded, count, cursor)
    except Refused as refused:
        return refused.response
    except BadRequest as bad:
        return error_response(400, bad.detail, bad.scim_type)


def _page_v41(
    state: SimulatorState,
    scopes: frozenset[str],
    filter_text: str | None,
    attributes: list[str] | None,
    excluded: list[str] | None,
    count_raw: Any,
    cursor: str | None,
) -> Response:
    tenant = state.tenant
    start, position, page = 0, 1, 1
    if cursor:
        cur = q.read_cursor(cursor)
        if filter_text is not None and filter_text != cur["query"]:
            raise BadRequest("The cursor belongs to a different query")
        filter_text, start = cur["query"], cur["next"]
        position, page = cur["startIndex"], cur["page"]
        attributes = attributes if attributes is not None else cur["attributes"]
    count = max(0, min(_int(count_raw, "count", DEFAULT_V41), MAX_V41))
    query = q.parse_filter(filter_text, tenant)
    selection = None if attributes is None else parse_attributes(attributes)
    drop = None if excluded is None else parse_attributes(excluded)
    hits, following = _select(state, query, start, count)
    body: dict[str, Any] = {
        "schemas": [LIST_RESPONSE],
        "totalResults": _total(state, query),
        "itemsPerPage": len(hits),
        "Resources": [project(tenant.identity_user(i), scopes, selection, drop) for i in hits],
    }
    if following is not None and count > 0:
        body["nextCursor"] = q.make_cursor(
            tenant, following, position + len(hits), page + 1, query, attributes
        )
    if cursor and state.config.repeat_cursor_page == page:
        state.faults["repeat_cursor"] += 1
        body["nextCursor"] = cursor  # a server-side loop: the cursor that asked for this page
    return page_fault(state, "identity", page, body) or _json(body)


def _select(
    state: SimulatorState, query: q.Query, start: int, count: int
) -> tuple[list[int], int | None]:
    """Up to ``count`` matching indices from ``start``, and the next match after them."""
    users = state.tenant.users
    if query.only is not None:
        only = query.only
        hit = only >= 0 and start <= only < users and query.matches(only) and count > 0
        return ([only] if hit else []), None
    if not query.predicates:
        end = min(users, start + count)
        return list(range(start, end)), (end if end < users else None)
    hits: list[int] = []
    index = start
    while index < users and len(hits) < count:
        if query.matches(index):
            hits.append(index)
        index += 1
    while index < users and not query.matches(index):
        index += 1
    return hits, (index if index < users else None)


def _total(state: SimulatorState, query: q.Query) -> int:
    if query.only is not None:
        return 1 if 0 <= query.only < state.tenant.users and query.matches(query.only) else 0
    if not query.predicates:
        return state.tenant.users
    if query.text not in state.totals:
        state.totals[query.text] = sum(1 for i in range(state.tenant.users) if query.matches(i))
    return state.totals[query.text]


async def list_v4(request: Request, state: SimulatorState) -> Response:
    """GET /profile/identity/v4/Users?startIndex=&count= (index paging, count <= 100)."""
    try:
        grant = authorize(request, state, IDENTITY_SCOPES)
        params = request.query_params
        start = max(1, _int(params.get("startIndex"), "startIndex", 1))
        count = max(0, min(_int(params.get("count"), "count", DEFAULT_V4), MAX_V4))
        selection = _selection(params.get("attributes"))
    except Refused as refused:
        return refused.response
    except BadRequest as bad:
        return error_response(400, bad.detail, bad.scim_type)
    tenant = state.tenant
    hits = range(start - 1, min(tenant.users, start - 1 + count))
    return _json(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": tenant.users,
            "startIndex": start,
            "itemsPerPage": len(hits),
            "Resources": [project(tenant.identity_user(i), grant.scopes, selection) for i in hits],
        }
    )


def _selection(attributes: str | None) -> Selection | None:
    names = _split(attributes)
    return None if names is None else parse_attributes(names)


async def get_one(request: Request, state: SimulatorState) -> Response:
    """GET /profile/identity/v4[.1]/Users/{id}; 404 SCIM error when no such user."""
    try:
        grant = authorize(request, state, IDENTITY_SCOPES)
        selection = _selection(request.query_params.get("attributes"))
    except Refused as refused:
        return refused.response
    except BadRequest as bad:
        return error_response(400, bad.detail, bad.scim_type)
    index = state.tenant.index_of(request.path_params["user_id"])
    if index is None or index >= state.tenant.users:
        return error_response(404, "User not found")
    return _json(project(state.tenant.identity_user(index), grant.scopes, selection))
