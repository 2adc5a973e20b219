"""OAuth token endpoint: company request token, refresh, rotation, errors (concur-api.md §2)."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.helpers import refresh, token_form


class FakeClock:
    """The simulator's injected notion of now."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=10) as c:
        yield c


def _exchange(
    client: httpx.Client, sim: RunningSimulator, request_token: str | None = None
) -> httpx.Response:
    form = token_form(
        sim,
        grant_type="password",
        credtype="authtoken",
        username=sim.company_uuid,
        password=request_token or sim.request_token,
    )
    return client.post(f"{sim.url}/oauth2/v0/token", data=form)


def test_request_token_exchange_shapes_and_string_types(client: httpx.Client) -> None:
    clock = FakeClock()
    with running_simulator(SimulatorConfig(users=10, clock=clock)) as sim:
        body = _exchange(client, sim).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "3600"
    assert isinstance(body["refresh_expires_in"], str)
    assert int(body["refresh_expires_in"]) == int(clock.now) + 183 * 86400
    assert body["geolocation"] == sim.api_url
    assert "spend.user.general.read" in body["scope"].split(" ")
    payload = body["access_token"].split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == sim.company_uuid and "concur.scopes" in claims
    id_payload = body["id_token"].split(".")[1]
    id_claims = orjson.loads(base64.urlsafe_b64decode(id_payload + "=" * (-len(id_payload) % 4)))
    assert id_claims["sub"] == sim.company_uuid


def test_request_token_reusable_within_24h_then_code_5(client: httpx.Client) -> None:
    clock = FakeClock()
    with running_simulator(SimulatorConfig(users=10, clock=clock)) as sim:
        first = _exchange(client, sim)
        clock.now += 23 * 3600
        second = _exchange(client, sim)
        clock.now += 2 * 3600
        expired = _exchange(client, sim)
    assert first.status_code == second.status_code == 200
    assert first.json()["refresh_token"] != second.json()["refresh_token"]
    assert expired.status_code == 400
    assert expired.json()["code"] == 5 and expired.json()["error"] == "invalid_grant"


def test_bad_secret_credtype_and_scope(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=10)) as sim:
        url = f"{sim.url}/oauth2/v0/token"
        bad_secret = client.post(
            url,
            data={
                **token_form(sim, grant_type="refresh_token", refresh_token=sim.refresh_token),
                "client_secret": "wrong",
            },
        )
        credtype = client.post(
            url,
            data=token_form(
                sim,
                grant_type="password",
                credtype="magic",
                username=sim.company_uuid,
                password=sim.request_token,
            ),
        )
        scope = client.post(
            url,
            data=token_form(
                sim,
                grant_type="refresh_token",
                refresh_token=sim.refresh_token,
                scope="user.provision.write",
            ),
        )
        bad_refresh = refresh(client, sim, token="not-a-token")
    assert bad_secret.status_code == 401 and bad_secret.json()["code"] == 64
    assert bad_secret.json()["error"] == "invalid_client"
    assert credtype.json()["code"] == 120
    assert scope.json()["code"] == 54 and scope.json()["error"] == "invalid_scope"
    assert bad_refresh.status_code == 400 and bad_refresh.json()["code"] == 108


def test_refresh_sliding_expiry_same_token_without_rotation(client: httpx.Client) -> None:
    clock = FakeClock()
    with running_simulator(SimulatorConfig(users=10, clock=clock)) as sim:
        first = refresh(client, sim).json()
        clock.now += 1000
        second = refresh(client, sim).json()
    assert first["refresh_token"] == second["refresh_token"] == sim.refresh_token
    assert int(second["refresh_expires_in"]) == int(first["refresh_expires_in"]) + 1000


def test_strict_rotation_kills_the_old_token(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=10, rotate_refresh_tokens=True)) as sim:
        first = refresh(client, sim)
        new_token = first.json()["refresh_token"]
        old_again = refresh(client, sim)
        newer = refresh(client, sim, token=new_token)
    assert new_token != sim.refresh_token
    assert old_again.status_code == 400 and old_again.json()["code"] == 108
    assert newer.status_code == 200


def test_refresh_token_expires_after_idle_window(client: httpx.Client) -> None:
    clock = FakeClock()
    config = SimulatorConfig(users=10, clock=clock, refresh_token_ttl=100)
    with running_simulator(config) as sim:
        clock.now += 101
        response = refresh(client, sim)
    assert response.json()["code"] == 108


def test_access_token_expires_with_the_injected_clock(client: httpx.Client) -> None:
    clock = FakeClock()
    with running_simulator(SimulatorConfig(users=10, clock=clock, access_token_ttl=60)) as sim:
        token = refresh(client, sim).json()["access_token"]
        url = f"{sim.api_url}/profile/identity/v4.1/Users"
        headers = {"Authorization": f"Bearer {token}"}
        fresh = client.get(url, headers=headers)
        clock.now += 61
        stale = client.get(url, headers=headers)
        missing = client.get(url)
    assert fresh.status_code == 200
    assert stale.status_code == 401 and stale.json()["status"] == "401"
    assert missing.status_code == 401
    assert "concur-correlationid" in stale.headers


def test_revoke_after_n_refreshes_and_revoke_all(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=10, revoke_after_refreshes=2)) as sim:
        statuses = [refresh(client, sim).status_code for _ in range(3)]
        codes = refresh(client, sim).json()["code"]
    assert statuses == [200, 200, 400] and codes == 108
    with running_simulator(SimulatorConfig(users=10)) as sim:
        assert refresh(client, sim).status_code == 200
        sim.state.revoke_all()
        assert refresh(client, sim).json()["code"] == 108
