"""The real client against the real simulator over loopback HTTP: discovery end to end."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.errors import ConcurAuthError, ConcurError, ConfigError, IncompleteDiscovery
from oaa_concur.models import IssueKind
from oaa_concur.simulator import DEFAULT_SCOPES, SimulatorConfig, running_simulator
from oaa_concur.state.credentials import CredentialStore, fingerprint

from .conftest import NoWait, client_for


def test_discovery_reads_every_user_with_minimal_requests(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=2300, seed=7)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        seen: list[tuple[str, int, int | None]] = []
        result = run_discovery(settings, secrets, progress=lambda *a: seen.append(a))
        counts = sim.tenant.counts()
        requests = dict(sim.state.requests)
    assert len(result.users) == 2300 == len({u.id for u in result.users})
    orphans = [i for i in result.issues if i.kind is IssueKind.ORPHAN_SPEND_RECORD]
    assert len(orphans) == counts["orphans"] > 0
    assert len(result.spend) == counts["spend_total"] - counts["orphans"]
    assert set(result.spend) <= {u.id for u in result.users}
    assert result.company.id == sim.company_uuid and result.company.name
    stats = result.stats
    assert stats is not None
    assert requests["identity"] == stats.identity_pages == 3
    assert requests["spend"] == stats.spend_pages == math.ceil(counts["spend_total"] / 100)
    assert stats.token_requests == requests["token"] == 1
    assert stats.requests == 1 + 3 + stats.spend_pages and stats.retries == 0
    assert "spend.user.general.read" in stats.granted_scopes
    assert seen[-1][0] in ("identity", "spend")
    assert ("identity", 2300, 2300) in seen
    assert any(u.entitlements for u in result.users)  # entitlements were requested explicitly
    assert any(p.roles and p.roles[0].role_code for p in result.spend.values())


def test_split_geo_rotation_short_ttl_twice_with_original_token(tmp_path: Path) -> None:
    config = SimulatorConfig(
        users=450, split_geolocation=True, rotate_refresh_tokens=True, access_token_ttl=5
    )
    with running_simulator(config) as sim:
        original = sim.refresh_token
        settings, secrets = client_for(sim, tmp_path)
        assert settings.concur_url != sim.api_url
        first = run_discovery(settings, secrets)
        stored = CredentialStore(tmp_path).load()
        assert stored is not None and stored.refresh_token != original
        assert stored.seed_fingerprint == fingerprint(original)
        assert stored.geolocation == sim.api_url
        second = run_discovery(settings, secrets)  # CONCUR_REFRESH_TOKEN is still the original
        again = CredentialStore(tmp_path).load()
    assert len(first.users) == len(second.users) == 450
    assert second.company.geolocation == sim.api_url
    assert again is not None and again.refresh_token not in (original, stored.refresh_token)
    assert original not in (tmp_path / "credentials.json").read_text()


def test_expired_access_token_mid_run_refreshes_once(tmp_path: Path) -> None:
    sim_now = [1_800_000_000.0]
    config = SimulatorConfig(
        users=1500, rotate_refresh_tokens=True, access_token_ttl=600, clock=lambda: sim_now[0]
    )
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait(start=sim_now[0])

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase == "identity" and done == 1000:
                sim_now[0] += 3600  # every access token in flight is now expired

        result = run_discovery(
            settings, secrets, progress=progress, clock=fake.clock, sleep=fake.sleep
        )
        tokens = sim.state.requests["token"]
    assert len(result.users) == 1500
    assert tokens == 2  # the initial refresh plus exactly one after the 401s


def test_faults_are_retried_without_waiting(tmp_path: Path) -> None:
    config = SimulatorConfig(users=1200, rate_429=0.15, rate_5xx=0.1, rate_drop=0.05, seed=3)
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        result = run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        faults = dict(sim.state.faults)
    assert len(result.users) == 1200
    assert result.stats is not None and result.stats.retries == len(fake.slept) > 0
    assert sum(faults.values()) >= result.stats.retries
    assert min(fake.slept) >= 0.5  # retry-after: 0 is floored, backoff never below half base


@pytest.mark.parametrize("page", [("identity", 2), ("spend", 3)])
def test_persistent_page_failure_is_incomplete(tmp_path: Path, page: tuple[str, int]) -> None:
    with running_simulator(SimulatorConfig(users=2100, fail_page=page)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        with pytest.raises(IncompleteDiscovery) as info:
            run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        failures = sim.state.faults["fail_page"]
    assert "could not read every page" in str(info.value)
    assert "concur-correlationid" in str(info.value)
    assert failures == 6 and info.value.exit_code == 1


@pytest.mark.parametrize("page", [("identity", 1), ("spend", 2)])
def test_malformed_page_retried_a_little_then_incomplete(
    tmp_path: Path, page: tuple[str, int]
) -> None:
    with running_simulator(SimulatorConfig(users=1100, malformed_page=page)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        with pytest.raises(IncompleteDiscovery, match="not a JSON object"):
            run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        assert sim.state.faults["malformed_page"] == 3


def test_revoked_refresh_token_says_reexchange(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=10)) as sim:
        sim.state.revoke_all()
        settings, secrets = client_for(sim, tmp_path)
        with pytest.raises(ConcurAuthError) as info:
            run_discovery(settings, secrets)
    assert info.value.code == 108
    assert "expired or was revoked" in str(info.value) and "auth exchange" in str(info.value)
    assert sim.refresh_token not in str(info.value)


def test_bad_client_secret(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=10)) as sim:
        settings, secrets = client_for(sim, tmp_path, CONCUR_CLIENT_SECRET="wrong-secret-123")
        with pytest.raises(ConcurAuthError, match="client id or secret") as info:
            run_discovery(settings, secrets)
    assert "CONCUR_CLIENT_SECRET" in str(info.value) and "wrong-secret-123" not in str(info.value)


def test_missing_spend_scope_fails_with_403_sentence(tmp_path: Path) -> None:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "spend.user.general.read")
    with running_simulator(SimulatorConfig(users=10, scopes=scopes)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        with pytest.raises(ConcurError, match="403") as info:
            run_discovery(settings, secrets)
    assert "scope" in str(info.value) and "concur-correlationid" in str(info.value)


def test_missing_email_scope_still_discovers_without_emails(tmp_path: Path) -> None:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "identity.user.coresensitive.read")
    with running_simulator(SimulatorConfig(users=30, scopes=scopes)) as sim:
        settings, secrets = client_for(sim, tmp_path)
        result = run_discovery(settings, secrets)
    assert len(result.users) == 30 and all(not u.emails for u in result.users)


def test_plain_http_to_a_remote_host_refused(tmp_path: Path) -> None:
    with running_simulator(SimulatorConfig(users=1)) as sim:
        settings, secrets = client_for(sim, tmp_path, CONCUR_URL="http://concur.example.com")
        with pytest.raises(ConfigError, match="HTTPS"):
            run_discovery(settings, secrets)


def test_no_secret_in_any_log_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = SimulatorConfig(
        users=150, split_geolocation=True, rotate_refresh_tokens=True, rate_5xx=0.2
    )
    with running_simulator(config) as sim:
        settings, secrets = client_for(sim, tmp_path)
        fake = NoWait()
        run_discovery(settings, secrets, clock=fake.clock, sleep=fake.sleep)
        stored = CredentialStore(tmp_path).load()
    assert stored is not None and caplog.records
    text = caplog.text
    for secret in (sim.refresh_token, sim.client_secret, stored.refresh_token):
        assert secret not in text
    assert "eyJ" not in text  # no JWT (access or id token)
