"""Token parsing, OAuth error sentences, URL rules and failure classification (no network)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import trustme

from oaa_concur.concur.auth import jwt_payload, parse_token_response
from oaa_concur.concur.hosts import TrustedHosts, UntrustedHost, check_base
from oaa_concur.concur.http import HttpClient, classify, tls_verify
from oaa_concur.concur.oauth_errors import oauth_error
from oaa_concur.errors import ClientError, ConfigError, MalformedResponse, RetriableError
from oaa_concur.models import RunStats
from oaa_concur.runtime import Runtime


def _jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


# concur-api.md §2.4: strings for both lifetimes, refresh_expires_in an absolute epoch.
DOC_2_4 = {
    "expires_in": "3600",
    "scope": "openid spend.user.general.read",
    "token_type": "Bearer",
    "access_token": _jwt({"sub": "company-uuid"}),
    "refresh_token": "r-123456",
    "refresh_expires_in": "1735689600",
    "geolocation": "https://us.api.concursolutions.com/oauth2/v0/token",
}


def test_parse_doc_token_response() -> None:
    grant = parse_token_response(DOC_2_4, now=1_700_000_000)
    assert grant.expires_in == 3600.0 and grant.refresh_expires_at == 1735689600
    assert grant.geolocation == "https://us.api.concursolutions.com"
    assert grant.scopes == ("openid", "spend.user.general.read")
    assert grant.company_uuid == "company-uuid"


def test_scopes_from_jwt_when_scope_absent_and_duration_tolerated() -> None:
    body = {
        **DOC_2_4,
        "access_token": _jwt({"sub": "c", "concur.scopes": ["a", "b"]}),
        "refresh_expires_in": "15552000",
    }
    del body["scope"]
    grant = parse_token_response(body, now=1_700_000_000)
    assert grant.scopes == ("a", "b") and grant.refresh_expires_at == 1_715_552_000


def test_jwt_payload_never_raises() -> None:
    assert jwt_payload("not-a-jwt") == {} and jwt_payload("a.!!!.c") == {}
    assert jwt_payload(_jwt({"sub": "x"})) == {"sub": "x"}


@pytest.mark.parametrize(
    ("url", "base"),
    [
        (
            "https://us.api.concursolutions.com/oauth2/v0/token",
            "https://us.api.concursolutions.com",
        ),
        ("us2.api.concursolutions.com", "https://us2.api.concursolutions.com"),
        ("HTTPS://EU2.api.concursolutions.com/", "https://eu2.api.concursolutions.com"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080"),
        ("http://localhost:9", "http://localhost:9"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_check_base(url: str, base: str) -> None:
    assert check_base(url) == base


def test_plain_http_remote_refused() -> None:
    with pytest.raises(ConfigError, match="HTTPS"):
        check_base("http://us2.api.concursolutions.com")


def _client_error(status: int, body: dict[str, object]) -> ClientError:
    return ClientError("x", status=status, correlation_id="cid-1", body=body)


@pytest.mark.parametrize(
    ("grant", "body", "expected"),
    [
        (
            "exchange",
            {"code": 5, "error": "invalid_grant"},
            "The Company Request Token was refused: it has expired (valid 24 h) or is wrong: "
            "generate a new one on Administration > Company > Authentication Admin > "
            "Company Request Token",
        ),
        ("refresh", {"code": 108, "error": "invalid_grant"}, "has expired or was revoked"),
        ("refresh", {"code": "64", "error": "invalid_client"}, "check CONCUR_CLIENT_ID"),
        ("refresh", {"error": "invalid_client"}, "client id or secret"),
        ("refresh", {"code": 16, "error": "invalid_request"}, "set CONCUR_URL"),
        ("refresh", {"code": 54, "error": "invalid_scope"}, "exceeds what the app was granted"),
        ("refresh", {"code": 999, "error": "weird"}, "Concur refused the token refresh (code 999"),
        ("exchange", {}, "Concur refused the token exchange (HTTP 400"),
    ],
)
def test_oauth_error_sentences(grant: str, body: dict[str, object], expected: str) -> None:
    error = oauth_error(_client_error(400, body), grant)
    assert expected in str(error)
    assert str(error).endswith("(concur-correlationid cid-1).")
    assert "\n" not in str(error)


def _response(status: int, content: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=content, headers=headers, request=httpx.Request("GET", "http://127.0.0.1/x")
    )


def test_classify() -> None:
    assert classify(_response(200, b'{"a": 1}'), "GET /x").body == {"a": 1}
    with pytest.raises(MalformedResponse):
        classify(_response(200, b'{"a": '), "GET /x")
    with pytest.raises(MalformedResponse):
        classify(_response(200, b"[1, 2]"), "GET /x")
    with pytest.raises(RetriableError) as info:
        classify(_response(429, b"{}", **{"retry-after": "0"}), "GET /x")
    assert (
        info.value.retry_after == "0"
    )  # as sent; the retrier reads it (tests/concur/test_retry.py)
    with pytest.raises(RetriableError):
        classify(_response(503, b"down"), "GET /x")
    with pytest.raises(ClientError) as client:
        classify(
            _response(403, b'{"detail": "no scope"}', **{"concur-correlationid": "c9"}),
            "GET /profile/spend/v4.1/Users",
        )
    text = str(client.value)
    assert "403" in text and "no scope" in text and "concur-correlationid c9" in text


def test_tls_verify_with_ca_bundle(tmp_path: Path) -> None:
    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    assert tls_verify(None) is True
    assert not isinstance(tls_verify(pem), bool)
    with pytest.raises(ConfigError, match="CA bundle"):
        tls_verify(tmp_path / "missing.pem")


# A token answer without refresh_token and OAuth code 16 without geolocation are tested
# against the simulator in tests/reliability/test_concur_auth_faults.py.


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("http://evil.example.com/oauth2/v0/token", "http://evil.example.com"),
        ("  not a url  ", "not a url"),
        ("", None),
        (42, None),
    ],
)
def test_a_token_answers_geolocation_is_kept_for_the_trust_check_not_refused_early(
    sent: object, kept: str | None
) -> None:
    """Refusing it while parsing threw the rotated refresh token away (issue 11): the parser
    keeps what Concur sent, and ``TokenManager`` saves the token before refusing the host."""
    grant = parse_token_response({**DOC_2_4, "geolocation": sent}, now=1_700_000_000)
    assert grant.geolocation == kept and grant.refresh_token == "r-123456"


def test_the_http_client_sends_nothing_to_an_untrusted_host() -> None:
    """Belt and braces under ``TokenManager``: ``send`` itself checks the host first."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    runtime = Runtime(concur_transport=httpx.MockTransport(record))
    trust = TrustedHosts.of("https://glz.api.concursolutions.com")
    http = HttpClient(RunStats(started_at=datetime.now(UTC)), runtime, trust=trust)

    async def main() -> None:
        try:
            await http.send("GET", "https://us2.api.concursolutions.com/x", what="GET /x")
            with pytest.raises(UntrustedHost):
                await http.send("POST", "https://evil.example/oauth2/v0/token", what="POST")
        finally:
            await http.aclose()

    asyncio.run(main())
    assert [r.url.host for r in sent] == ["us2.api.concursolutions.com"]
