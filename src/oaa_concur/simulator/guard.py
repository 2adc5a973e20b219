"""Bearer-token and scope checks shared by the API routes, plus per-page faults."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from oaa_concur.simulator.errors import scim_error
from oaa_concur.simulator.state import SimulatorState
from oaa_concur.simulator.tokens import AccessGrant


class Refused(Exception):
    """A request the API refuses; carries the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_response(status: int, detail: str, scim_type: str | None = None, *,
                   status_as_int: bool = False) -> Response:
    body = scim_error(status, detail, scim_type, status_as_int=status_as_int)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def authorize(request: Request, state: SimulatorState, any_of: Iterable[str], *,
              status_as_int: bool = False) -> AccessGrant:
    """401 without a valid, unexpired bearer token; 403 without one of ``any_of`` scopes."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = state.tokens.check_access(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        response = error_response(401, "Unauthorized: missing, invalid or expired access token",
                                  status_as_int=status_as_int)
        response.headers["www-authenticate"] = 'Bearer realm="concur"'
        raise Refused(response)
    if not grant.scopes & set(any_of):
        raise Refused(error_response(403, "Forbidden: the access token lacks the scope "
                                     "this API needs", status_as_int=status_as_int))
    return grant


def page_fault(state: SimulatorState, kind: str, page: int, body: Any) -> Response | None:
    """The configured persistent failure or malformed body for page ``page`` of ``kind``."""
    if state.config.fail_page == (kind, page):
        state.faults["fail_page"] += 1
        return error_response(500, "Internal server error", status_as_int=kind == "spend")
    if state.config.malformed_page == (kind, page):
        state.faults["malformed_page"] += 1
        if kind == "spend":  # an error page from a proxy, served with 200
            html = b"<html><head><title>Service</title></head><body>Maintenance</body></html>"
            return Response(html, media_type="text/html")
        full = orjson.dumps(body)
        return Response(full[: len(full) // 2], media_type="application/json")
    return None
