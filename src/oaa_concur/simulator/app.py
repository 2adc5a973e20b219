"""The simulator's HTTP surface: Concur's token, Identity and Spend routes on Starlette."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oaa_concur.simulator import identity as idr
from oaa_concur.simulator import spend as spr
from oaa_concur.simulator.errors import scim_error
from oaa_concur.simulator.oauth_codes import OAuthError
from oaa_concur.simulator.state import SimulatorState


def json_response(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """orjson-encoded response (fast enough for 1,000-user pages)."""
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)


def _lives_elsewhere(state: SimulatorState, form: dict[str, str], content_type: str) -> None:
    state.tokens.check_caller(form, content_type)
    raise OAuthError(16, state.api_url if state.config.elsewhere_geolocation else None)


def create_app(state: SimulatorState, role: str) -> Starlette:
    """One listener's app; ``role`` is "both", "landing" (GLZ-like) or "api" (data center)."""

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        content_type = request.headers.get("content-type", "")
        try:
            if role == "landing" and form.get("grant_type") == "refresh_token":
                # Refreshes go to the company's data center; GLZ says "lives elsewhere" (§2.5).
                _lives_elsewhere(state, form, content_type)
            body = state.tokens.exchange(form, state.api_url, content_type)
        except OAuthError as err:
            return json_response(err.body, err.status)
        return json_response(body, headers={"cache-control": "no-store"})

    def api(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if role == "landing":
                # Data lives on the company's data center only; this listener is the landing
                # zone. We answer 404 (not 401) so that clients do not loop on refresh.
                return json_response(
                    scim_error(
                        404,
                        "This host does not serve the company's "
                        "data; use the geolocation of the token.",
                    ),
                    404,
                )
            return await handler(request, state)  # type: ignore[no-any-return]

        return endpoint

    routes = [
        Route("/oauth2/v0/token", token, methods=["POST"]),
        Route("/profile/identity/v4.1/Users", api(idr.list_v41), methods=["GET"]),
        Route("/profile/identity/v4.1/Users/.search", api(idr.search_v41), methods=["POST"]),
        Route("/profile/identity/v4.1/Users/{user_id}", api(idr.get_one), methods=["GET"]),
        Route("/profile/identity/v4/Users", api(idr.list_v4), methods=["GET"]),
        Route("/profile/identity/v4/Users/{user_id}", api(idr.get_one), methods=["GET"]),
        Route("/profile/spend/v4.1/Users", api(spr.list_users), methods=["GET"]),
        Route("/profile/spend/v4.1/Users/{user_id}", api(spr.get_one), methods=["GET"]),
    ]
    return Starlette(routes=routes)
