"""Identity v4.1/v4 and Spend v4.1 paging against a running simulator (concur-api.md §3.2, §4.2)."""

from __future__ import annotations

import base64

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.simulator.helpers import ROLE, all_identity, bearer, search

SIMULATOR = SimulatorConfig(users=2345, seed=7)  # the `sim` fixture (tests/conftest.py)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=10) as c:
        yield c


def test_every_identity_user_exactly_once(sim: RunningSimulator, client: httpx.Client) -> None:
    users = all_identity(client, sim, bearer(client, sim), count=1000)
    ids = [u["id"] for u in users]
    assert len(ids) == 2345 and len(set(ids)) == 2345
    assert ids == [sim.tenant.user_id(i) for i in range(2345)]


def test_count_is_clamped_and_last_page_has_no_cursor(
    sim: RunningSimulator, client: httpx.Client
) -> None:
    headers = bearer(client, sim)
    first = search(client, sim, headers, count=5000).json()
    assert first["itemsPerPage"] == 1000 and len(first["Resources"]) == 1000
    assert first["totalResults"] == 2345
    default = client.get(f"{sim.api_url}/profile/identity/v4.1/Users", headers=headers).json()
    assert default["itemsPerPage"] == 100 and "nextCursor" in default
    last = search(client, sim, headers, count=1000, cursor=first["nextCursor"]).json()
    last = search(client, sim, headers, count=1000, cursor=last["nextCursor"]).json()
    assert last["itemsPerPage"] == 345 and "nextCursor" not in last


def test_get_list_follows_cursor_in_query(sim: RunningSimulator, client: httpx.Client) -> None:
    headers = bearer(client, sim)
    url = f"{sim.api_url}/profile/identity/v4.1/Users"
    got: list[str] = []
    params: dict[str, str | int] = {"count": 1000}
    for _ in range(3):
        page = client.get(url, params=params, headers=headers).json()
        got.extend(u["id"] for u in page["Resources"])
        params["cursor"] = page.get("nextCursor", "")
    assert len(set(got)) == len(got) == 2345 and params["cursor"] == ""


def test_cursor_is_opaque_base64_and_bound_to_its_query(
    sim: RunningSimulator, client: httpx.Client
) -> None:
    headers = bearer(client, sim)
    first = search(client, sim, headers, count=10, filter="active eq true").json()
    assert b"startIndex" in base64.b64decode(first["nextCursor"])
    other = search(
        client, sim, headers, count=10, filter="active eq false", cursor=first["nextCursor"]
    )
    assert other.status_code == 400
    assert other.json()["status"] == "400"
    garbage = search(client, sim, headers, count=10, cursor="bm90LWEtY3Vyc29y")
    assert garbage.status_code == 400
    # The follow-up may omit the filter: the cursor carries its query (S14 behaviour).
    follow = search(client, sim, headers, count=10, cursor=first["nextCursor"]).json()
    assert all(u["active"] for u in follow["Resources"])


def test_search_requires_the_search_request_schema(
    sim: RunningSimulator, client: httpx.Client
) -> None:
    response = client.post(
        f"{sim.api_url}/profile/identity/v4.1/Users/.search",
        json={"count": 10},
        headers=bearer(client, sim),
    )
    assert response.status_code == 400 and response.json()["scimType"] == "invalidSyntax"


def test_identity_v4_start_index_paging(sim: RunningSimulator, client: httpx.Client) -> None:
    headers = bearer(client, sim)
    url = f"{sim.api_url}/profile/identity/v4/Users"
    page = client.get(url, params={"startIndex": 101, "count": 500}, headers=headers).json()
    assert page["itemsPerPage"] == 100 and page["startIndex"] == 101
    assert page["totalResults"] == 2345
    assert page["Resources"][0]["id"] == sim.tenant.user_id(100)
    default = client.get(url, headers=headers).json()
    assert default["itemsPerPage"] == 10


def test_spend_paging_total_results(sim: RunningSimulator, client: httpx.Client) -> None:
    headers = bearer(client, sim)
    url = f"{sim.api_url}/profile/spend/v4.1/Users"
    total = sim.tenant.spend_total
    seen: list[str] = []
    start = 1
    while start <= total:
        page = client.get(url, params={"startIndex": start, "count": 100}, headers=headers)
        body = page.json()
        assert body["totalResults"] == total and body["startIndex"] == start
        assert body["itemsPerPage"] <= 100
        seen.extend(r["id"] for r in body["Resources"])
        start += body["itemsPerPage"]
    assert len(seen) == len(set(seen)) == total
    assert total == sim.tenant.counts()["spend_total"]
    first = client.get(url, params={"count": 1}, headers=headers).json()["Resources"][0]
    assert ROLE in first and first == sim.tenant.spend_user_at(0)


def test_spend_get_one_and_404(sim: RunningSimulator, client: httpx.Client) -> None:
    headers = bearer(client, sim)
    uid = sim.tenant.user_id(3)
    one = client.get(f"{sim.api_url}/profile/spend/v4.1/Users/{uid}", headers=headers)
    assert one.status_code == 200 and one.json() == sim.tenant.spend_user(3)
    travel_only = sim.tenant.user_id(9)
    missing = client.get(f"{sim.api_url}/profile/spend/v4.1/Users/{travel_only}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["status"] == 404 and "schemas" in missing.json()


def test_identity_get_one(sim: RunningSimulator, client: httpx.Client) -> None:
    headers = bearer(client, sim)
    uid = sim.tenant.user_id(42)
    one = client.get(f"{sim.api_url}/profile/identity/v4.1/Users/{uid}", headers=headers)
    assert one.json()["userName"] == sim.tenant.identity_user(42)["userName"]
    bad = client.get(f"{sim.api_url}/profile/identity/v4.1/Users/{uid[:-1]}0", headers=headers)
    assert bad.status_code == 404


def test_v41_pages_carry_start_index(sim: RunningSimulator, client: httpx.Client) -> None:
    """identity-search.md "Cursor" example: the second page of 100 has ``startIndex`` 101."""
    headers = bearer(client, sim)
    first = search(client, sim, headers, count=1000).json()
    second = search(client, sim, headers, count=1000, cursor=first["nextCursor"]).json()
    url = f"{sim.api_url}/profile/identity/v4.1/Users"
    listed = client.get(url, params={"count": 100}, headers=headers).json()
    after = client.get(url, params={"cursor": listed["nextCursor"]}, headers=headers).json()
    assert (first["startIndex"], second["startIndex"]) == (1, 1001)
    assert (listed["startIndex"], after["startIndex"]) == (1, 101)
