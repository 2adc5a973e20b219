"""HTTP answers the docs describe, through ``classify`` and a real Concur session over the doc
server: the 403 and 400 conditions of ``api-reference/http-status-codes.markdown`` ("HTTP
Error Codes"), the documented error bodies, and the deprecation headers of the API release
notes of 2026-02-04 / 2026-03-03 ("API Deprecation Headers")."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from oaa_concur.concur.http import TokenRejected, classify, deprecation
from oaa_concur.concur.session import concur_session
from oaa_concur.concur.spend import LIST_PATH
from oaa_concur.config import DEFAULT_CONCUR_URL, Secrets, Settings
from oaa_concur.errors import ClientError, RetriableError
from oaa_concur.models import Deprecation, RunStats
from tests.fakes.clock import FakeTime
from tests.fakes.docserver import DocServer, fixture, header_lines, tenant_a

# The two conditions as the status-code table words them (no body is documented for either).
TOKEN_GONE = "The Oauth token has expired or been revoked."
REQUEST_LIMIT = "The number of requests received exceed the request limit."
DEADLOCK = "The request encountered a database deadlock."


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers or {})


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": TOKEN_GONE}},
        {"detail": TOKEN_GONE.upper()},
        f"<Error><Message>{TOKEN_GONE}</Message></Error>".encode(),  # the page's legacy XML era
        fixture("ereceipts-enterprise-guide__error-handling__403-response.json"),
        {"error": "invalid_token", "error_description": "token_revoked"},
    ],
)
def test_http_status_codes_403_token_expired_or_revoked_is_token_rejected(body: Any) -> None:
    """403 "The Oauth token has expired or been revoked." (also the e-receipt guide's "Error
    403" body: "bad or expired refresh token"): one refresh and one resend are due."""
    with pytest.raises(TokenRejected) as error:
        classify(_response(403, body), "GET /x")
    assert error.value.status == 403


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "Forbidden: the access token lacks the scope this API needs"},
        {"error": "access_denied", "error_description": "company not enabled"},
        b"",
    ],
)
def test_other_403s_are_not_retried(body: Any) -> None:
    with pytest.raises(ClientError) as error:
        classify(_response(403, body), "GET /x")
    assert not isinstance(error.value, TokenRejected)


def test_401_is_token_rejected() -> None:
    """HTTP "401 Unauthorized": "The Authorization header is not included in the request."."""
    with pytest.raises(TokenRejected):
        classify(_response(401, {"detail": "Unauthorized"}), "GET /x")


@pytest.mark.parametrize(
    "body",
    [
        {"detail": REQUEST_LIMIT},
        {"message": "Request limit exceeded"},
        REQUEST_LIMIT.lower().encode(),
        {"detail": DEADLOCK + " Resend the request a short time later."},
        fixture("list-item-bulk-v4__rate-limit-error__response.json"),  # "Too many requests"
    ],
)
def test_http_status_codes_400_request_limit_is_retried_like_429(body: Any) -> None:
    """400 "The number of requests received exceed the request limit." (and "... database
    deadlock ... resend the request a short time later"): a RetriableError, Retry-After kept."""
    with pytest.raises(RetriableError) as error:
        classify(_response(400, body, {"retry-after": "3"}), "GET /x")
    assert error.value.status == 400 and error.value.retry_after == "3"


@pytest.mark.parametrize(
    "name",
    [
        "legal-entity-v4.1__error__response.json",
        "user-retrieval-v4__error-sample__response.json",
        "list-item-bulk-v4__validation-error__response.json",
        "ereceipts-user-guide__being-geo-aware__code-16-response.json",
    ],
)
def test_documented_400_bodies_are_client_errors(name: str) -> None:
    """The documented 400 bodies are not rate limits: not retried, their text kept."""
    with pytest.raises(ClientError) as error:
        classify(_response(400, fixture(name)), "GET /x")
    assert not isinstance(error.value, RetriableError) and error.value.body == fixture(name)


def test_list_item_bulk_v4_rate_limit_error_429() -> None:
    """list-item-bulk "Rate Limit Error": 429 with retry-after 0 and the correlation id."""
    headers = header_lines("list-item-bulk-v4__rate-limit-error__response-headers.http")
    body = fixture("list-item-bulk-v4__rate-limit-error__response.json")
    with pytest.raises(RetriableError) as error:
        classify(_response(429, body, headers), "POST /list")
    assert error.value.retry_after == "0"
    assert error.value.correlation_id == "610425c5-4c2e-4bdb-ab5d-02775e23c7c9"


def test_release_notes_2026_03_03_api_deprecation_headers() -> None:
    headers = header_lines("release-notes-2026-03-03__api-deprecation-headers__headers.http")
    found = classify(_response(200, {"Resources": []}, headers), "GET /api/v3.1/travelrequest/")
    assert found.deprecation == Deprecation(
        endpoint="GET /api/v3.1/travelrequest/",
        replacement="/travelrequest/v4/",
        sunset="2020-03-01",
        warning=headers["x-api-warn"],
    )
    assert found.deprecation.line() == (
        "GET /api/v3.1/travelrequest/ is deprecated (use '/travelrequest/v4/', sunset 2020-03-01)"
    )


def test_deprecation_headers_in_other_shapes() -> None:
    assert deprecation({}, "GET /x") is None
    only_sunset = deprecation({"sunset": "2027-01-31"}, "GET /x")
    assert only_sunset == Deprecation("GET /x", None, "2027-01-31", None)
    odd = deprecation({"x-api-warn": "retiring\x1b[31m soon; use /v5/Users."}, "GET /x")
    assert odd is not None and odd.replacement == "/v5/Users" and "\x1b" not in (odd.warning or "")


# ---- a real session (token manager, retries) over the doc server --------------------------


def _session_get(server: DocServer, state: Path, calls: int = 1) -> tuple[RunStats, FakeTime]:
    time = FakeTime(start=1_750_000_000)
    settings = Settings(state_dir=state, concurrency=2)
    secrets = Secrets.from_env(server.env(state))

    async def main() -> RunStats:
        async with concur_session(settings, secrets, time.runtime(server.transport())) as s:
            s.tokens.use_refresh_token(secrets.refresh_token)
            await s.tokens.refresh()
            for _ in range(calls):
                await s.api.get(LIST_PATH, {"startIndex": 1, "count": 100})
            return s.stats

    return asyncio.run(main()), time


def test_a_403_token_expired_earns_one_refresh_and_one_resend(state: Path) -> None:
    server = DocServer(tenant_a())
    server.script("spend", 403, json.dumps({"message": TOKEN_GONE}))
    _session_get(server, state)
    assert server.tokens_issued == 2  # the first refresh, then one after the 403
    assert len(server.requests_to(LIST_PATH)) == 2
    token_host = httpx.URL(server.requests_to("/oauth2/v0/token")[0].url).host
    assert f"https://{token_host}" == DEFAULT_CONCUR_URL  # release notes 2025-01-09


def test_a_second_403_token_expired_is_not_resent_again(state: Path) -> None:
    server = DocServer(tenant_a())
    for _ in range(2):
        server.script("spend", 403, json.dumps({"message": TOKEN_GONE}))
    with pytest.raises(TokenRejected):
        _session_get(server, state)
    assert server.tokens_issued == 2 and len(server.requests_to(LIST_PATH)) == 2


def test_a_400_request_limit_is_retried_after_a_backoff(state: Path) -> None:
    server = DocServer(tenant_a())
    server.script("spend", 400, json.dumps({"detail": REQUEST_LIMIT}), **{"retry-after": "7"})
    stats, time = _session_get(server, state)
    assert stats.retries == 1 and time.slept == [7.0]  # Retry-After honoured above the floor
    assert len(server.requests_to(LIST_PATH)) == 2 and server.tokens_issued == 1


def test_deprecation_is_warned_once_per_endpoint(
    state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = DocServer(tenant_a())
    headers = header_lines("release-notes-2026-03-03__api-deprecation-headers__headers.http")
    server.deprecate("spend", headers)
    with caplog.at_level(logging.WARNING, logger="oaa_concur"):
        stats, _ = _session_get(server, state, calls=3)
    warnings = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert len(warnings) == 1
    assert f"GET {LIST_PATH} is deprecated" in warnings[0]
    assert "use '/travelrequest/v4/'" in warnings[0] and "sunset 2020-03-01" in warnings[0]
    assert [d.endpoint for d in stats.deprecations] == [f"GET {LIST_PATH}"]
