"""Every documented token response through ``parse_token_response`` (one test per example,
named after its page and section; tests/fixtures/concur_docs/README.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oaa_concur import redact
from oaa_concur.concur.auth import parse_token_response
from tests.fakes.docserver import FIXTURES, fixture

NOW = 1_750_000_000.0
RESPONSES = sorted(
    p.name
    for p in FIXTURES.glob("*.json")
    if "access_token" in fixture(p.name) and "Operations" not in fixture(p.name)
)


@pytest.fixture(autouse=True)
def _forget_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Parsing registers the tokens as secrets process-wide; the documented ones are words
    ("access_token", "refresh_token") that later tests must still see unmasked."""
    monkeypatch.setattr(redact, "_secrets", set(redact._secrets))
    monkeypatch.setattr(redact, "_pattern", redact._pattern)
    yield


def test_the_corpus_has_the_documented_token_responses() -> None:
    assert len(RESPONSES) == 10


@pytest.mark.parametrize("name", RESPONSES)
def test_every_documented_token_response_parses(name: str) -> None:
    grant = parse_token_response(fixture(name), NOW)
    assert grant.access_token == fixture(name)["access_token"]
    assert grant.expires_in == 3600.0  # "3600" (a string) or 3600 (TMC guide), both
    assert grant.geolocation is not None and grant.geolocation.startswith("https://")
    assert grant.geolocation.count("/") == 2  # scheme + host, nothing after


def test_company_request_token_tool_geolocation_is_a_token_url() -> None:
    """company-refresh-tool.md: the geolocation printed with the token path on it."""
    name = "company-request-token-tool__generating-an-access-refresh-token__response.json"
    assert parse_token_response(fixture(name), NOW).geolocation == (
        "https://us.api.concursolutions.com"
    )


def test_tmc_overview_numbers_and_a_capital_c() -> None:
    """tmc-overview "Obtain Company Level Refresh Token": expires_in and refresh_expires_in as
    numbers, geolocation "https://us.api.Concursolutions.com"."""
    name = "tmc-overview__obtain-company-level-refresh-token__response.json"
    grant = parse_token_response(fixture(name), NOW)
    assert grant.refresh_expires_at == 1517039403
    assert grant.geolocation == "https://us.api.concursolutions.com"
    assert "openid" in grant.scopes


def test_ereceipts_app_center_flow_placeholders() -> None:
    """e-receipts guide "App Center Flow": refresh_expires_in "{expiration time}" is no date."""
    name = "ereceipts-enterprise-guide__app-center-flow__password-grant-response.json"
    grant = parse_token_response(fixture(name), NOW)
    assert grant.refresh_expires_at is None
    assert grant.geolocation == "https://us2.api.concursolutions.com"


def test_authentication_client_credentials_grant_has_no_refresh_token() -> None:
    name = "authentication__client-credentials-grant__response.json"
    assert parse_token_response(fixture(name), NOW).refresh_token is None
