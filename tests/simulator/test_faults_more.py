"""The simulator's targeted faults: chosen 5xx statuses, slow, wrong-shaped and looping pages,
a Spend total that lies, token answers without refresh_token, code 16 without geolocation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.helpers import bearer, refresh, search, token_form


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _spend(
    client: httpx.Client, sim: RunningSimulator, headers: dict[str, str], start: int = 1
) -> httpx.Response:
    return client.get(
        f"{sim.api_url}/profile/spend/v4.1/Users",
        params={"startIndex": start, "count": 100},
        headers=headers,
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_fault_statuses_choose_the_5xx(client: httpx.Client, status: int) -> None:
    config = SimulatorConfig(users=20, rate_5xx=1.0, fault_statuses=(status,))
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        answers = [_spend(client, sim, headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [status] * 4
    assert answers[0].json()["status"] == str(status)
    assert sim.state.faults["5xx"] == sim.state.faults[f"status_{status}"] == 4


def test_fail_page_with_status_and_times(client: httpx.Client) -> None:
    config = SimulatorConfig(users=250, fail_page=("spend", 2), fail_status=503, fail_times=2)
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        statuses = [_spend(client, sim, headers, 101).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sim.state.faults["fail_page"] == 2


def test_slow_page_is_slow_the_given_number_of_times(client: httpx.Client) -> None:
    config = SimulatorConfig(users=250, slow_page=("spend", 1), slow_s=0.3, slow_times=1)
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        with pytest.raises(httpx.ReadTimeout):
            client.get(
                f"{sim.api_url}/profile/spend/v4.1/Users",
                headers=headers,
                params={"startIndex": 1, "count": 100},
                timeout=0.05,
            )
        again = _spend(client, sim, headers)
    assert again.status_code == 200 and len(again.json()["Resources"]) == 100
    assert sim.state.faults["slow_page"] == 1


@pytest.mark.parametrize(("kind", "shape"), [("identity", "resources"), ("spend", "record")])
def test_wrong_shape_is_json_of_the_wrong_shape(
    client: httpx.Client, kind: str, shape: str
) -> None:
    config = SimulatorConfig(users=30, wrong_shape_page=(kind, 1), wrong_shape=shape)
    with running_simulator(config) as sim:
        headers = bearer(client, sim)
        response = (
            search(client, sim, headers, count=10)
            if kind == "identity"
            else _spend(client, sim, headers)
        )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and isinstance(body["totalResults"], int)
    if shape == "resources":
        assert isinstance(body["Resources"], dict)
    else:
        assert body["Resources"][0] == "not-a-user-object"
        assert all(isinstance(r, dict) for r in body["Resources"][1:])
    assert sim.state.faults["wrong_shape"] == 1


def test_repeat_cursor_hands_back_the_cursor_that_asked(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=50, repeat_cursor_page=2)) as sim:
        headers = bearer(client, sim)
        first = search(client, sim, headers, count=10).json()
        second = search(client, sim, headers, count=10, cursor=first["nextCursor"]).json()
    assert second["nextCursor"] == first["nextCursor"]
    assert second["Resources"][0]["id"] != first["Resources"][0]["id"]
    assert sim.state.faults["repeat_cursor"] == 1


@pytest.mark.parametrize("offset", [150, -50])
def test_spend_total_offset_lies_about_the_total(client: httpx.Client, offset: int) -> None:
    with running_simulator(SimulatorConfig(users=300, spend_total_offset=offset)) as sim:
        headers = bearer(client, sim)
        body = _spend(client, sim, headers).json()
    assert body["totalResults"] == sim.tenant.spend_total + offset
    assert len(body["Resources"]) == 100


def test_refresh_answer_without_refresh_token(client: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=5, omit_refresh_token=True)) as sim:
        first = refresh(client, sim)
        second = refresh(client, sim)  # the old refresh token still works
    assert first.status_code == second.status_code == 200
    assert "refresh_token" not in first.json() and first.json()["access_token"]
    assert first.json()["refresh_expires_in"].isdigit()


def test_code_16_without_geolocation(client: httpx.Client) -> None:
    config = SimulatorConfig(users=5, split_geolocation=True, elsewhere_geolocation=False)
    with running_simulator(config) as sim:
        form = token_form(sim, grant_type="refresh_token", refresh_token=sim.refresh_token)
        answer = client.post(f"{sim.url}/oauth2/v0/token", data=form)
    assert answer.status_code == 400
    assert answer.json()["code"] == 16 and "geolocation" not in answer.json()
