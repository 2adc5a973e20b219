"""Identity v4.1 (cursor paging, .search) and v4 (index paging) user routes (concur-api.md §3).

Docs: ``api-reference/profile/v4.1.identity.md`` ("Retrieve All Users", "Search For Users"),
``api-guides/profile/identity-search.md`` (parameters, pagination, filtering) and
``api-reference/profile/v4.identity.md`` ("Retrieve Users": ``startIndex``, ``count`` <= 100,
``filter`` on ``userName``, ``employeeNumber``, ``externalId``).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from oaa_concur.simulator import search
from oaa_concur.simulator.cursors import make_cursor, read_cursor
from oaa_concur.simulator.guard import (
    Refused,
    authorize,
    error_response,
    finish,
    json_response,
    slower,
)
from oaa_concur.simulator.projection import (
    IDENTITY_SCOPES,
    BadRequest,
    Selection,
    parse_attributes,
    project,
)
from oaa_concur.simulator.scim_filter import FilterError
from oaa_concur.simulator.state import SimulatorState

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest"
MAX_V41, DEFAULT_V41 = 1000, 100
MAX_V4, DEFAULT_V4 = 100, 10


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
    filter_text = body.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        return error_response(400, "filter must be a string", "invalidFilter")
    if state.config.refuse_filters and filter_text and filter_text.strip():
        state.faults["refused_filter"] += 1  # issue 13: a tenant that refuses the filter
        return error_response(400, f"Unsupported filter [{filter_text}]", "invalidFilter")
    return await _guarded(
        request, state, filter_text, attributes, excluded, body.get("count"), body.get("cursor")
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
    except FilterError as bad:
        return error_response(400, str(bad), "invalidFilter")
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
    """One page: ``startIndex`` is the 1-based position of its first result among all matches,
    as the search guide's examples show it (``"startIndex": 101`` on the second page of 100)."""
    tenant = state.tenant
    start, position, page = 0, 1, 1
    if cursor:
        cur = read_cursor(cursor)
        if filter_text is not None and filter_text != cur["query"]:
            raise BadRequest("The cursor belongs to a different query")
        filter_text, start = cur["query"], cur["next"]
        position, page = cur["startIndex"], cur["page"]
        attributes = attributes if attributes is not None else cur["attributes"]
    count = max(0, min(_int(count_raw, "count", DEFAULT_V41), MAX_V41))
    query = search.plan(filter_text, tenant, state.prefixes)
    selection = None if attributes is None else parse_attributes(attributes)
    drop = None if excluded is None else parse_attributes(excluded)
    hits, following = search.page(query, tenant, start, count)
    body: dict[str, Any] = {
        "schemas": [LIST_RESPONSE],
        "totalResults": search.total(query, tenant, state.totals),
        "startIndex": position,
        "itemsPerPage": len(hits),
        "Resources": [project(tenant.identity_user(i), scopes, selection, drop) for i in hits],
    }
    if following is not None and count > 0:
        body["nextCursor"] = make_cursor(
            tenant, following, position + len(hits), page + 1, query.text, attributes
        )
    if cursor and state.config.repeat_cursor_page == page:
        state.faults["repeat_cursor"] += 1
        body["nextCursor"] = cursor  # a server-side loop: the cursor that asked for this page
    return finish(state, "identity", page, body)


async def list_v4(request: Request, state: SimulatorState) -> Response:
    """GET /profile/identity/v4/Users?startIndex=&count=[&filter=] (index paging, <= 100)."""
    try:
        grant = authorize(request, state, IDENTITY_SCOPES)
        params = request.query_params
        start = max(1, _int(params.get("startIndex"), "startIndex", 1))
        count = max(0, min(_int(params.get("count"), "count", DEFAULT_V4), MAX_V4))
        selection = _selection(params.get("attributes"))
        matches = _v4_matches(state, params.get("filter"))
    except Refused as refused:
        return refused.response
    except FilterError as bad:
        return error_response(400, str(bad), "invalidFilter")
    except BadRequest as bad:
        return error_response(400, bad.detail, bad.scim_type)
    hits = matches[start - 1 : start - 1 + count]
    tenant = state.tenant
    body = {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(matches),
        "startIndex": start,
        "itemsPerPage": len(hits),
        "Resources": [project(tenant.identity_user(i), grant.scopes, selection) for i in hits],
    }
    return finish(state, "identity_v4", start, body)


def _v4_matches(state: SimulatorState, filter_text: str | None) -> range | list[int]:
    """Every user, or the one user the v4 filter names (or nobody)."""
    if filter_text is None:
        return range(state.tenant.users)
    found = search.v4_lookup(filter_text, state.tenant)
    return [] if found is None else [found]


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
    user = project(state.tenant.identity_user(index), grant.scopes, selection)
    return slower(state, json_response(user), 1)
