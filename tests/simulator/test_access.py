"""Geolocation split, scopes, attribute projection and filters (concur-api.md §1, §3)."""

from __future__ import annotations

import httpx
import pytest

from oaa_concur.simulator import (
    DEFAULT_SCOPES,
    RunningSimulator,
    SimulatorConfig,
    running_simulator,
)
from tests.simulator.helpers import ENTERPRISE, all_identity, bearer, refresh, search, token_form


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=10) as c:
        yield c


SIMULATOR = SimulatorConfig(users=1500, seed=11)  # the `sim` fixture (tests/conftest.py)


def test_split_geolocation(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=20, split_geolocation=True)) as sim:
        assert sim.url != sim.api_url
        landing_refresh = refresh(client, sim, host=sim.url)
        exchange = client.post(
            f"{sim.url}/oauth2/v0/token",
            data=token_form(
                sim,
                grant_type="password",
                credtype="authtoken",
                username=sim.company_uuid,
                password=sim.request_token,
            ),
        )
        headers = bearer(client, sim)  # refresh at the data center works
        wrong_host = client.get(f"{sim.url}/profile/identity/v4.1/Users", headers=headers)
        right_host = client.get(f"{sim.api_url}/profile/identity/v4.1/Users", headers=headers)
    assert landing_refresh.status_code == 400
    assert landing_refresh.json()["code"] == 16
    assert landing_refresh.json()["geolocation"] == sim.api_url
    assert exchange.status_code == 200 and exchange.json()["geolocation"] == sim.api_url
    assert wrong_host.status_code == 404 and "schemas" in wrong_host.json()
    assert right_host.status_code == 200


def test_missing_scopes_omit_fields_and_forbid_spend(client: httpx.Client) -> None:
    scopes = tuple(
        s
        for s in DEFAULT_SCOPES
        if s
        not in (
            "identity.user.coresensitive.read",
            "identity.user.enterprise.read",
            "spend.user.general.read",
        )
    )
    with running_simulator(SimulatorConfig(users=20, scopes=scopes)) as sim:
        headers = bearer(client, sim)
        users = search(
            client, sim, headers, attributes=["userName", "emails", "entitlements", ENTERPRISE]
        ).json()["Resources"]
        default = search(client, sim, headers).json()["Resources"]
        spend = client.get(f"{sim.api_url}/profile/spend/v4.1/Users", headers=headers)
    for user in users + default:
        assert "userName" in user and "emails" not in user
        assert "entitlements" not in user and ENTERPRISE not in user
    assert "active" in default[0]
    assert spend.status_code == 403


def test_requested_scope_subset_limits_the_token(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    response = client.post(
        f"{sim.url}/oauth2/v0/token",
        data=token_form(
            sim,
            grant_type="refresh_token",
            refresh_token=sim.refresh_token,
            scope="identity.user.ids.read",
        ),
    )
    assert response.json()["scope"] == "identity.user.ids.read"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    user = search(client, sim, headers, count=1).json()["Resources"][0]
    assert set(user) == {"schemas", "id", "userName", "externalId"}


def test_attributes_projection_and_request_only_entitlements(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    headers = bearer(client, sim)
    default = search(client, sim, headers, count=5).json()["Resources"]
    assert all("entitlements" not in u and ENTERPRISE in u for u in default)
    wanted = ["userName", "name.givenName", "entitlements", f"{ENTERPRISE}:employeeNumber"]
    users = search(client, sim, headers, count=5, attributes=wanted).json()["Resources"]
    expected = sim.tenant.identity_user(0)
    assert set(users[0]) == {"schemas", "id", "userName", "name", "entitlements", ENTERPRISE}
    assert users[0]["name"] == {"givenName": expected["name"]["givenName"]}
    assert users[0][ENTERPRISE] == {"employeeNumber": "E000000"}
    assert users[0]["entitlements"] == expected["entitlements"]
    whole = search(client, sim, headers, count=1, attributes=[ENTERPRISE]).json()["Resources"]
    assert whole[0][ENTERPRISE] == expected[ENTERPRISE]
    got = client.get(
        f"{sim.api_url}/profile/identity/v4.1/Users",
        headers=headers,
        params={"count": 1, "attributes": "userName,entitlements"},
    ).json()
    assert set(got["Resources"][0]) == {"schemas", "id", "userName", "entitlements"}
    excluded = search(client, sim, headers, count=1, excludedAttributes=["emails"])
    assert "emails" not in excluded.json()["Resources"][0]
    unknown = search(client, sim, headers, count=1, attributes=["nosuchattribute"])
    assert unknown.status_code == 400 and unknown.json()["scimType"] == "invalidValue"


def test_filters(client: httpx.Client, sim: RunningSimulator) -> None:
    headers = bearer(client, sim)
    tenant = sim.tenant
    inactive = all_identity(client, sim, headers, count=100, filter="active eq false")
    expected = [tenant.user_id(i) for i in range(tenant.users) if not tenant.is_active(i)]
    assert [u["id"] for u in inactive] == expected and expected
    name = tenant.identity_user(77)["userName"]
    one = search(client, sim, headers, filter=f'userName eq "{name}"').json()
    assert one["totalResults"] == 1 and one["Resources"][0]["id"] == tenant.user_id(77)
    cutoff = "2025-01-01T00:00:00Z"
    recent = all_identity(
        client,
        sim,
        headers,
        count=1000,
        filter=f'active eq true and meta.lastModified gt "{cutoff}"',
    )
    assert recent and all(u["active"] and u["meta"]["lastModified"] > "2025-01-01" for u in recent)
    bad = search(client, sim, headers, filter='displayName co "x"')
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"
