"""``oaa-concur check``: the preflight of both sides through the real CLI, against the real
simulator and the fake Veza (TLS with its own CA); nothing is discovered or pushed."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from oaa_concur.simulator import DEFAULT_SCOPES, RunningSimulator, SimulatorConfig
from tests.fakes.clock import FakeTime
from tests.fakes.outcomes import last_line
from tests.fakes.veza import FakeVeza
from tests.ops.holder import lock_held_elsewhere
from tests.support.cli import run_cli, sim_env

SIMULATOR = SimulatorConfig(users=30, seed=7)  # `sim` (tests/conftest.py)
CONCUR = ["config", "state_dir", "lock", "concur_app", "concur_refresh", "concur_scopes"]
ALL = [*CONCUR, "refresh_token", "veza_settings", "veza_connection", "veza_provider", "last_run"]


def _check(
    env: Mapping[str, str | None], fake: FakeTime | None = None
) -> tuple[int, dict[str, Any]]:
    result = run_cli(["check", "--format", "json"], env, (fake or FakeTime()).runtime())
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.output
    return result.exit_code, json.loads(lines[0])


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in document["checks"]}


def _one(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in document["checks"] if c["name"] == name]
    assert len(found) == 1, name
    return found[0]


def test_everything_ok_then_the_last_run(
    sim: RunningSimulator, state: Path, fake_veza: FakeVeza
) -> None:
    env = sim_env(sim, state, fake_veza)
    code, document = _check(env)
    assert code == 0 and document["status"] == "ok"
    assert list(_statuses(document)) == ALL and set(_statuses(document).values()) == {"ok"}
    assert _one(document, "veza_provider")["exists"] is False  # nothing was created
    assert fake_veza.providers == {} and fake_veza.pushes == []
    assert _one(document, "last_run")["snapshots"] == 0
    assert not (state / "snapshots.sqlite").exists()

    assert run_cli(["discover"], env).exit_code == 0
    code, document = _check(env)
    assert code == 0
    assert _one(document, "veza_provider")["exists"] is True
    last = _one(document, "last_run")
    assert last["snapshot_id"] == last["last_pushed_snapshot_id"] == 1 and last["users"] == 30


def test_text_table_with_hints_and_counts(sim: RunningSimulator, state: Path) -> None:
    result = run_cli(["check"], sim_env(sim, state))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("config           ok    the settings are valid")
    assert any(line.startswith("veza settings    WARN  Veza is not configured") for line in lines)
    assert any(line.strip().startswith("-> set VEZA_URL and VEZA_API_KEY") for line in lines)
    assert lines[-1] == "check: 8 ok, 1 warning(s), 0 failed (exit 0)"


@pytest.mark.parametrize(
    ("veza_url", "said"),
    [
        ("http://example.vezacloud.com", "is not an https:// URL"),
        ("ftp://example.vezacloud.com", "is not an https:// URL"),
    ],
)
def test_a_wrong_veza_url_scheme_fails_in_seconds(
    sim: RunningSimulator, state: Path, fake_veza: FakeVeza, veza_url: str, said: str
) -> None:
    env = {**sim_env(sim, state, fake_veza), "VEZA_URL": veza_url}
    code, document = _check(env)
    assert code == 2 and document["outcome"] == "config"
    statuses = _statuses(document)
    assert statuses["veza_settings"] == "fail" and "veza_connection" not in statuses
    assert said in _one(document, "veza_settings")["message"]
    assert all(statuses[name] == "ok" for name in CONCUR)  # both sides are checked


def test_a_wrong_api_key_is_named(sim: RunningSimulator, state: Path, fake_veza: FakeVeza) -> None:
    env = {**sim_env(sim, state, fake_veza), "VEZA_API_KEY": "not-the-key-4d2a"}
    result = run_cli(["check"], env, FakeTime().runtime())
    assert result.exit_code == 1
    assert last_line(result.stderr) == (
        "error: check veza_connection failed: Veza refused the API key (HTTP 401): "
        "check VEZA_API_KEY"
    )
    assert "not-the-key-4d2a" not in result.output
    assert "veza provider" not in result.stdout  # not asked without a connection


def test_an_untrusted_certificate_is_named_and_not_retried(
    sim: RunningSimulator, state: Path, fake_veza: FakeVeza
) -> None:
    env = sim_env(sim, state, fake_veza)
    env.pop("REQUESTS_CA_BUNDLE")
    fake = FakeTime()
    code, document = _check(env, fake)
    assert code == 1
    connection = _one(document, "veza_connection")
    assert connection["status"] == "fail" and "TLS certificate" in connection["message"]
    assert "--ca-bundle" in connection["hint"]
    assert fake.slept_sync == []  # a certificate does not get better in a few seconds
    result = run_cli(["check", "--ca-bundle", str(fake_veza.ca_path)], env)
    assert result.exit_code == 0, result.output


def test_a_missing_ca_bundle_is_a_configuration_error(
    sim: RunningSimulator, state: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.pem"
    result = run_cli(
        ["check", "--format", "json", "--ca-bundle", str(missing)], sim_env(sim, state)
    )
    assert result.exit_code == 2
    config = json.loads(result.stdout)["checks"][0]
    assert config["name"] == "config" and config["status"] == "fail"
    assert str(missing) in config["message"]


def _dns_answer(host: str) -> int | None:
    try:
        socket.getaddrinfo(host, 443)
    except socket.gaierror as error:
        return error.errno
    return None


def test_a_veza_host_that_does_not_resolve_is_named(
    sim: RunningSimulator, state: Path, fake_veza: FakeVeza
) -> None:
    """``.invalid`` never resolves (RFC 6761); with no DNS server at all the resolver says
    "temporary failure", which is retried, then named the same way."""
    host = "oaa-concur-check.invalid"
    answer = _dns_answer(host)
    assert answer is not None
    env = {**sim_env(sim, state, fake_veza), "VEZA_URL": f"https://{host}"}
    fake = FakeTime()
    code, document = _check(env, fake)
    assert code == 1
    connection = _one(document, "veza_connection")
    assert connection["message"].startswith(f"cannot find the Veza host {host} (DNS lookup failed")
    if answer == socket.EAI_AGAIN:
        assert len(fake.slept_sync) == 1  # temporary: one more attempt, as for a drop
    else:
        assert fake.slept_sync == []  # no such host: not retried like a dropped connection


def test_a_provider_on_another_template_is_refused(
    sim: RunningSimulator, state: Path, fake_veza: FakeVeza
) -> None:
    fake_veza.providers["p1"] = {
        "id": "p1",
        "name": "Concur",
        "custom_template": "identity_provider",
    }
    code, document = _check(sim_env(sim, state, fake_veza))
    assert code == 2
    provider = _one(document, "veza_provider")
    assert "'identity_provider' template" in provider["message"]
    assert provider["hint"] == "choose another --provider-name"


def test_a_held_lock_fails_the_lock_check_and_skips_the_refresh(
    sim: RunningSimulator, state: Path
) -> None:
    state.mkdir(mode=0o700)
    with lock_held_elsewhere(state) as pid:
        code, document = _check(sim_env(sim, state))
    assert code == 3 and document["outcome"] == "locked"
    lock = _one(document, "lock")
    assert lock["pid"] == pid and f"pid {pid}" in lock["message"]
    assert "concur_refresh" not in _statuses(document)


def test_a_group_writable_state_dir_is_refused(sim: RunningSimulator, state: Path) -> None:
    state.mkdir()
    state.chmod(0o770)
    code, document = _check(sim_env(sim, state))
    assert code == 2
    assert _one(document, "state_dir")["hint"] == f"chmod 700 {state}"
    assert "concur_refresh" not in _statuses(document)


def test_scopes_and_what_each_missing_one_costs(simulators: Any, state: Path) -> None:
    no_spend = tuple(s for s in DEFAULT_SCOPES if s != "spend.user.general.read")
    limited = simulators(SimulatorConfig(users=1, scopes=no_spend))
    code, document = _check(sim_env(limited, state))
    assert code == 2
    scopes = _one(document, "concur_scopes")
    assert scopes["status"] == "fail" and list(scopes["missing"]) == ["spend.user.general.read"]
    assert "discovery cannot read Spend roles" in scopes["message"]


def test_a_refresh_token_near_its_expiry_is_a_warning(simulators: Any, state: Path) -> None:
    expiring = simulators(SimulatorConfig(users=1, refresh_token_ttl=10 * 86400))
    code, document = _check(sim_env(expiring, state))
    assert code == 0 and document["status"] == "warn"
    token = _one(document, "refresh_token")
    assert token["status"] == "warn" and "(in 10 days)" in token["message"]
    assert "auth exchange" in token["hint"]


def test_bad_concur_credentials_fail_the_refresh_check(sim: RunningSimulator, state: Path) -> None:
    env = {**sim_env(sim, state), "CONCUR_CLIENT_SECRET": "wrong-secret-9c2e"}
    code, document = _check(env)
    assert code == 1
    refresh = _one(document, "concur_refresh")
    assert refresh["status"] == "fail" and "client id or secret" in refresh["message"]
    assert "wrong-secret-9c2e" not in json.dumps(document)
