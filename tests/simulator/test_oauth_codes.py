"""Token-endpoint refusals with Concur's documented codes and texts: the "/token" table of
api-reference/authentication/apidoc.markdown ("Response Codes"), written out here."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from oaa_concur.simulator.oauth_codes import TOKEN_CODES
from tests.simulator.helpers import refresh, token_form

# code: (error, error_description) as the page's table has them (backticks dropped)
DOCUMENTED = {
    20: ("invalid_grant", "Logon Denied. Please contact support (typically due to IP restriction)"),
    51: ("invalid_request", "username was not supplied"),
    52: ("invalid_request", "password was not supplied"),
    53: ("invalid_client", "company is not enabled for this client"),
    59: ("access_denied", "client disabled"),
    60: ("invalid_grant", "these are not the grants you are looking for"),
    61: ("invalid_client", "client not found"),
    62: ("invalid_request", "client_id was not supplied"),
    63: ("invalid_request", "client_secret was not supplied"),
    64: ("invalid_client", "Incorrect credentials. Please Retry"),
    65: ("invalid_request", "grant_type was not supplied"),
    106: ("invalid_request", "refresh_token was not supplied"),
    107: ("invalid_request", "refresh disallowed for app"),
    108: ("invalid_grant", "bad or expired refresh token"),
    120: ("invalid_request", "credtype is invalid"),
    135: ("invalid_request", "unsupported request format"),
}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _token(http: httpx.Client, sim: RunningSimulator, form: dict[str, str]) -> httpx.Response:
    return http.post(f"{sim.url}/oauth2/v0/token", data=form)


def _exchange_form(sim: RunningSimulator, **overrides: str) -> dict[str, str]:
    form = token_form(
        sim,
        grant_type="password",
        credtype="authtoken",
        username=sim.company_uuid,
        password=sim.request_token,
    )
    return {k: v for k, v in {**form, **overrides}.items() if v != "-"}


def _check(answer: httpx.Response, code: int, status: int) -> None:
    error, description = DOCUMENTED[code]
    assert answer.status_code == status, answer.text
    assert answer.json() == {"code": code, "error": error, "error_description": description}


def test_the_table_matches_the_page() -> None:
    for code, entry in DOCUMENTED.items():
        assert TOKEN_CODES[code] == entry, code
    # The literal JSON example ("example bad login") capitalises Credentials.
    assert TOKEN_CODES[5] == ("invalid_grant", "Incorrect Credentials. Please Retry")


def test_refusals_about_the_request(http: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=3)) as sim:
        refresh_form = token_form(sim, grant_type="refresh_token", refresh_token=sim.refresh_token)
        as_json = http.post(f"{sim.url}/oauth2/v0/token", json=refresh_form)
        _check(as_json, 135, 400)
        _check(_token(http, sim, {**refresh_form, "client_id": ""}), 62, 400)
        _check(_token(http, sim, {**refresh_form, "client_secret": ""}), 63, 400)
        _check(_token(http, sim, {**refresh_form, "client_id": "nobody"}), 61, 401)
        _check(_token(http, sim, {**refresh_form, "client_secret": "wrong"}), 64, 401)
        _check(_token(http, sim, token_form(sim, refresh_token=sim.refresh_token)), 65, 400)
        _check(_token(http, sim, token_form(sim, grant_type="client_credentials")), 60, 400)
        _check(_token(http, sim, token_form(sim, grant_type="authorization_code")), 60, 400)
        _check(_token(http, sim, _exchange_form(sim, username="-")), 51, 400)
        _check(_token(http, sim, _exchange_form(sim, password="-")), 52, 400)
        _check(_token(http, sim, _exchange_form(sim, credtype="magic")), 120, 400)
        _check(_token(http, sim, token_form(sim, grant_type="refresh_token")), 106, 400)
        _check(refresh(http, sim, token="not-a-token"), 108, 400)
        assert refresh(http, sim).status_code == 200


@pytest.mark.parametrize(
    ("config", "code", "status"),
    [
        (SimulatorConfig(users=3, client_disabled=True), 59, 403),
        (SimulatorConfig(users=3, ip_restricted=True), 20, 400),
        (SimulatorConfig(users=3, company_disabled=True), 53, 401),
        (SimulatorConfig(users=3, allowed_grants=("password",)), 107, 400),
    ],
)
def test_refusals_about_the_app_and_company(
    http: httpx.Client, config: SimulatorConfig, code: int, status: int
) -> None:
    with running_simulator(config) as sim:
        _check(refresh(http, sim), code, status)
        exchange = _token(http, sim, _exchange_form(sim))
    if code == 107:
        assert exchange.status_code == 200  # the exchange is still allowed
    else:
        _check(exchange, code, status)


def test_a_forced_code_then_healing(http: httpx.Client) -> None:
    config = SimulatorConfig(users=3, token_error=134, token_error_times=2)
    with running_simulator(config) as sim:
        answers = [refresh(http, sim) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 200]
    assert answers[0].json() == {
        "code": 134,
        "error": "invalid_request",
        "error_description": "Company undergoing scheduled maintenance.",
    }


def test_client_credentials_when_allowed_has_no_refresh_token(http: httpx.Client) -> None:
    """apidoc "Client Credentials grant": the response has an access token, no refresh."""
    config = SimulatorConfig(users=3, allowed_grants=("refresh_token", "client_credentials"))
    with running_simulator(config) as sim:
        body = _token(http, sim, token_form(sim, grant_type="client_credentials")).json()
        usable = http.get(
            f"{sim.api_url}/profile/identity/v4.1/Users",
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
    assert set(body) == {"expires_in", "scope", "token_type", "access_token", "geolocation"}
    assert usable.status_code == 200
