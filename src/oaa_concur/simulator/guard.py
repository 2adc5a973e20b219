"""Bearer-token and scope checks shared by the API routes, plus per-page faults."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
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


def error_response(
    status: int, detail: str, scim_type: str | None = None, *, status_as_int: bool = False
) -> Response:
    body = scim_error(status, detail, scim_type, status_as_int=status_as_int)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def authorize(
    request: Request, state: SimulatorState, any_of: Iterable[str], *, status_as_int: bool = False
) -> AccessGrant:
    """401 without a valid, unexpired bearer token; 403 without one of ``any_of`` scopes."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = state.tokens.check_access(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        response = error_response(
            401,
            "Unauthorized: missing, invalid or expired access token",
            status_as_int=status_as_int,
        )
        response.headers["www-authenticate"] = 'Bearer realm="concur"'
        raise Refused(response)
    if not grant.scopes & set(any_of):
        raise Refused(
            error_response(
                403,
                "Forbidden: the access token lacks the scope this API needs",
                status_as_int=status_as_int,
            )
        )
    return grant


_DETAILS = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class Delayed(Response):
    """``inner`` sent only after ``delay`` seconds, without blocking other requests (a slow
    page, or server time that grows with the records of a page)."""

    def __init__(
        self,
        inner: Response,
        delay: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(status_code=inner.status_code)
        self.inner, self.delay, self.sleep = inner, delay, sleep

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.sleep(self.delay)
        await self.inner(scope, receive, send)


def finish(state: SimulatorState, kind: str, page: int, body: dict[str, Any]) -> Response:
    """A list page: its configured fault, if any, after the server time its records cost
    (``latency_per_record_s`` per record: issue 13, a 1,000-user page costs ten times a
    100-record page)."""
    response = page_fault(state, kind, page, body) or json_response(body)
    records = body.get("Resources")
    return slower(state, response, len(records) if isinstance(records, list) else 0)


def slower(state: SimulatorState, response: Response, records: int) -> Response:
    delay = state.config.latency_per_record_s * records
    return Delayed(response, delay, state.config.sleep) if delay > 0 else response


def _due(
    state: SimulatorState,
    kind: str,
    page: int,
    fault: str,
    where: tuple[str, int] | None,
    times: int | None,
) -> bool:
    """Whether the page fault ``fault`` fires now (and count it when it does)."""
    if where != (kind, page) or (times is not None and state.faults[fault] >= times):
        return False
    state.faults[fault] += 1
    return True


def _wrong_shape(body: dict[str, Any], shape: str) -> dict[str, Any]:
    """JSON that parses but is not a ListResponse the client can use."""
    resources = list(body.get("Resources") or [])
    if shape == "record":
        return {**body, "Resources": ["not-a-user-object", *resources[1:]]}
    return {**body, "Resources": {"items": resources}}


def page_fault(state: SimulatorState, kind: str, page: int, body: Any) -> Response | None:
    """The configured failure, slow answer or bad body for page ``page`` of ``kind``."""
    config = state.config
    if _due(state, kind, page, "fail_page", config.fail_page, config.fail_times):
        status = config.fail_status
        return error_response(
            status, _DETAILS.get(status, "Service error"), status_as_int=kind == "spend"
        )
    if _due(state, kind, page, "wrong_shape", config.wrong_shape_page, None):
        return Response(
            orjson.dumps(_wrong_shape(body, config.wrong_shape)), media_type="application/json"
        )
    if _due(state, kind, page, "slow_page", config.slow_page, config.slow_times):
        return Delayed(json_response(body), config.slow_s, config.sleep)
    if state.config.malformed_page == (kind, page):
        state.faults["malformed_page"] += 1
        if kind == "spend":  # an error page from a proxy, served with 200
            html = b"<html><head><title>Service</title></head><body>Maintenance</body></html>"
            return Response(html, media_type="text/html")
        full = orjson.dumps(body)
        return Response(full[: len(full) // 2], media_type="application/json")
    return None
