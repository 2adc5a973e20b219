"""The real client against the real simulator: discovery end to end.

Client logic runs the simulator in process (``httpx.ASGITransport``, no socket); the real
HTTP path (connections, drops, logging of the HTTP stack) runs over loopback.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from oaa_concur.concur.discovery import run_discovery
from oaa_concur.errors import ConcurAuthError, ConcurError, ConfigError, IncompleteDiscovery
from oaa_concur.models import DiscoveryResult, IssueKind
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import (
    DEFAULT_SCOPES,
    SimulatorConfig,
    SimulatorState,
    running_simulator,
)
from oaa_concur.state.credentials import CredentialStore, fingerprint
from tests.fakes.clock import FakeTime
from tests.fakes.concur import InProcess, client_for, in_process

START = 1_800_000_000.0


def _discover(
    concur: InProcess, state: Path, time: FakeTime | None = None, **env: str | None
) -> DiscoveryResult:
    settings, secrets = client_for(concur.sim, state, **env)
    runtime = (time or FakeTime()).runtime(concur.transport)
    return run_discovery(settings, secrets, runtime=runtime)


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
    concur = in_process(config)
    original = concur.sim.refresh_token
    first = _discover(concur, tmp_path)
    stored = CredentialStore(tmp_path).load()
    assert stored is not None and stored.refresh_token != original
    assert stored.seed_fingerprint == fingerprint(original)
    assert stored.geolocation == concur.sim.api_url != concur.sim.url
    second = _discover(concur, tmp_path)  # CONCUR_REFRESH_TOKEN is still the original
    again = CredentialStore(tmp_path).load()
    assert len(first.users) == len(second.users) == 450
    assert second.company.geolocation == concur.sim.api_url
    assert again is not None and again.refresh_token not in (original, stored.refresh_token)
    assert original not in (tmp_path / "credentials.json").read_text()


def test_expired_access_token_mid_run_refreshes_once(tmp_path: Path) -> None:
    """Concur's clock jumps an hour once three Spend pages were served: every token in
    flight is expired from then on, the client's own clock does not know it."""
    state: list[SimulatorState] = []

    def concur_clock() -> float:
        return START + (3600 if state and state[0].requests["spend"] >= 3 else 0)

    config = SimulatorConfig(
        users=1500, rotate_refresh_tokens=True, access_token_ttl=600, clock=concur_clock
    )
    concur = in_process(config)
    state.append(concur.sim.state)
    result = _discover(concur, tmp_path, FakeTime(start=START))
    assert len(result.users) == 1500
    assert state[0].requests["token"] == 2  # the first refresh, then one after the 401s
    assert state[0].requests["spend"] > 3


def test_faults_are_retried_without_waiting(tmp_path: Path) -> None:
    config = SimulatorConfig(users=1200, rate_429=0.15, rate_5xx=0.1, rate_drop=0.05, seed=3)
    with running_simulator(config) as sim:  # loopback: a dropped connection needs a socket
        settings, secrets = client_for(sim, tmp_path)
        time = FakeTime()
        result = run_discovery(settings, secrets, runtime=time.runtime())
        faults = dict(sim.state.faults)
    assert len(result.users) == 1200
    assert result.stats is not None and result.stats.retries == len(time.slept) > 0
    assert sum(faults.values()) >= result.stats.retries
    assert min(time.slept) >= 0.5  # retry-after: 0 is floored, backoff never below half base


@pytest.mark.parametrize("page", [("identity", 2), ("spend", 3)])
def test_persistent_page_failure_is_incomplete(tmp_path: Path, page: tuple[str, int]) -> None:
    concur = in_process(SimulatorConfig(users=2100, fail_page=page))
    with pytest.raises(IncompleteDiscovery) as info:
        _discover(concur, tmp_path)
    assert "could not read every page" in str(info.value)
    assert "concur-correlationid" in str(info.value)
    assert concur.sim.state.faults["fail_page"] == 6 and info.value.exit_code == 1


@pytest.mark.parametrize("page", [("identity", 1), ("spend", 2)])
def test_malformed_page_retried_a_little_then_incomplete(
    tmp_path: Path, page: tuple[str, int]
) -> None:
    concur = in_process(SimulatorConfig(users=1100, malformed_page=page))
    with pytest.raises(IncompleteDiscovery, match="not a JSON object"):
        _discover(concur, tmp_path)
    assert concur.sim.state.faults["malformed_page"] == 3


def test_revoked_refresh_token_says_reexchange(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=10))
    concur.sim.state.revoke_all()
    with pytest.raises(ConcurAuthError) as info:
        _discover(concur, tmp_path)
    assert info.value.code == 108
    assert "expired or was revoked" in str(info.value) and "auth exchange" in str(info.value)
    assert concur.sim.refresh_token not in str(info.value)


def test_bad_client_secret(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=10))
    with pytest.raises(ConcurAuthError, match="client id or secret") as info:
        _discover(concur, tmp_path, CONCUR_CLIENT_SECRET="wrong-secret-123")
    assert "CONCUR_CLIENT_SECRET" in str(info.value) and "wrong-secret-123" not in str(info.value)


def test_missing_spend_scope_fails_with_403_sentence(tmp_path: Path) -> None:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "spend.user.general.read")
    concur = in_process(SimulatorConfig(users=10, scopes=scopes))
    with pytest.raises(ConcurError, match="403") as info:
        _discover(concur, tmp_path)
    assert "scope" in str(info.value) and "concur-correlationid" in str(info.value)


def test_missing_email_scope_still_discovers_without_emails(tmp_path: Path) -> None:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "identity.user.coresensitive.read")
    result = _discover(in_process(SimulatorConfig(users=30, scopes=scopes)), tmp_path)
    assert len(result.users) == 30 and all(not u.emails for u in result.users)


def test_plain_http_to_a_remote_host_refused(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=1))
    with pytest.raises(ConfigError, match="HTTPS"):
        _discover(concur, tmp_path, CONCUR_URL="http://concur.example.com")
    assert concur.sim.state.requests == {}


def test_records_are_labelled_by_their_position_in_the_identity_stream(tmp_path: Path) -> None:
    """Records at positions 1, 2 and 5 without a usable id are identity#1, #2 and #5, also
    when they arrive over several pages (the spool, review/spool.py)."""
    with SnapshotStore(tmp_path).spool() as spool:
        good = [{"id": f"u{i}", "userName": f"u{i}@acme.example"} for i in range(3)]
        spool.add_users(["not-a-user", {"userName": "no id"}, good[0]], total=None)
        spool.add_users([good[1], {"id": ""}, good[2]], total=None)
        assert [u.id for u, _ in spool.people()] == ["u0", "u1", "u2"]
        with pytest.raises(IncompleteDiscovery, match=r"3 Concur record\(s\).*first at identity#1"):
            spool.check_complete()
    assert SnapshotStore(tmp_path).list() == []  # never completed: nothing recorded


def test_no_secret_in_any_log_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = SimulatorConfig(
        users=150, split_geolocation=True, rotate_refresh_tokens=True, rate_5xx=0.2
    )
    with running_simulator(config) as sim:  # loopback: the HTTP stack's own logs too
        settings, secrets = client_for(sim, tmp_path)
        run_discovery(settings, secrets, runtime=FakeTime().runtime())
        stored = CredentialStore(tmp_path).load()
    assert stored is not None and caplog.records
    text = caplog.text
    for secret in (sim.refresh_token, sim.client_secret, stored.refresh_token):
        assert secret not in text
    assert "eyJ" not in text  # no JWT (access or id token)
