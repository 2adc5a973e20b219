"""``--log-format json``: every line a run prints, on stdout and stderr, is a JSON object, the
summary and the fatal error included, so ``>> log 2>&1`` holds one format; ``--format json``
of ``snapshots`` and ``auth check`` is one JSON object on one line."""

from __future__ import annotations

import json
from pathlib import Path

from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import DEFAULT_SCOPES, SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.veza import FakeVeza
from tests.ops.lines import every_line_json, json_lines, last_error
from tests.support.cli import run_cli, sim_env

FIGURES = {"users", "active", "roles", "grants", "data_issues", "warnings", "requests", "seconds"}


def test_a_pushed_run_with_a_retry_prints_json_lines_only(state: Path, fake_veza: FakeVeza) -> None:
    config = SimulatorConfig(
        users=150, seed=5, fail_page=("spend", 1), fail_status=503, fail_times=1
    )
    fake = FakeTime()
    with running_simulator(config) as sim:
        env = sim_env(sim, state, fake_veza)
        result = run_cli(["discover", "--log-format", "json"], env, fake.runtime())
        host = sim.url.removeprefix("http://")
    assert result.exit_code == 0, result.output
    out, err = every_line_json(result)
    [summary] = out
    assert summary["event"] == "summary" and summary["message"] == "run complete"
    assert summary["exit_code"] == 0 and summary["outcome"] == "ok"
    assert summary.keys() >= FIGURES and summary["users"] == 150
    assert summary["pushed"] is True
    assert summary["snapshot_id"] == SnapshotStore(state).list()[-1].id
    [retry] = [r for r in err if r.get("event") == "retry"]
    assert retry["level"] == "warning" and retry["host"] == host
    assert retry["reason"] == "HTTP 503" and (retry["attempt"], retry["attempts"]) == (1, 6)
    assert retry["retry_in_s"] == round(fake.slept[0], 3)
    assert "attempt 1 of 6, retrying in" in retry["message"]


def test_the_retry_warning_in_text_mode_names_host_status_and_attempt(state: Path) -> None:
    config = SimulatorConfig(users=150, seed=5, fail_page=("identity", 1), fail_times=2)
    with running_simulator(config) as sim:
        result = run_cli(["discover", "--no-push"], sim_env(sim, state), FakeTime().runtime())
        host = sim.url.removeprefix("http://")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(warnings) == 2
    first, second = warnings
    assert "WARNING" in first and f"failed at {host} (HTTP 500); attempt 1 of 6" in first
    assert "/profile/identity/v4.1/Users" in first and "attempt 2 of 6" in second


def test_a_usage_error_in_json_mode_is_a_json_record(state: Path) -> None:
    result = run_cli(["discover", "--log-format", "json", "--no-such-option"], {})
    assert result.exit_code == 2
    record = last_error(result)
    assert record["outcome"] == "config" and "--no-such-option" in record["message"]
    assert len(json_lines(result.stderr)) == len(result.stderr.strip().splitlines())


def test_a_failed_run_in_json_mode_ends_with_the_error_record(state: Path) -> None:
    config = SimulatorConfig(users=450, seed=2, fail_page=("spend", 2))
    with running_simulator(config) as sim:
        result = run_cli(
            ["discover", "--no-push", "--log-format", "json"],
            sim_env(sim, state),
            FakeTime().runtime(),
        )
    assert result.exit_code == 1
    out, err = every_line_json(result)
    assert out == []
    error = err[-1]
    assert error["event"] == "error" and error["error"] == "IncompleteDiscovery"
    assert error["exit_code"] == 1 and "nothing was pushed" in error["message"]
    assert "Traceback" not in result.stderr


def test_snapshots_format_json(state: Path) -> None:
    with running_simulator(SimulatorConfig(users=20, seed=1)) as sim:
        env = sim_env(sim, state)
        empty = run_cli(["snapshots", "--format", "json"], env)
        for _ in range(2):
            assert run_cli(["discover", "--no-push"], env).exit_code == 0
        result = run_cli(["snapshots", "--format", "json"], env)
    assert json.loads(empty.stdout)["snapshots"] == []
    assert result.exit_code == 0 and len(result.stdout.strip().splitlines()) == 1
    document = json.loads(result.stdout)
    infos = SnapshotStore(state).list()
    assert document["store"] == str(state / "snapshots.sqlite")
    assert [s["id"] for s in document["snapshots"]] == [i.id for i in infos]
    first = document["snapshots"][0]
    assert first["users"] == 20 and first["pushed_at"] is None
    assert first["taken_at"] == infos[0].taken_at.isoformat()


def test_auth_check_format_json(tmp_path: Path) -> None:
    no_email = tuple(s for s in DEFAULT_SCOPES if s != "identity.user.coresensitive.read")
    with running_simulator(SimulatorConfig(users=1, scopes=no_email)) as sim:
        result = run_cli(["auth", "check", "--format", "json"], sim_env(sim, tmp_path))
    assert result.exit_code == 0, result.output
    [line] = result.stdout.strip().splitlines()
    document = json.loads(line)
    assert document["status"] == "warn" and document["exit_code"] == 0
    assert document["geolocation"] == sim.url and document["company_uuid"] == sim.company_uuid
    assert list(document["scopes"]["missing"]) == ["identity.user.coresensitive.read"]
    assert (
        "cannot be linked to the IdP"
        in document["scopes"]["missing"]["identity.user.coresensitive.read"]
    )
    assert document["message"].startswith("The Concur credentials work, but 1 of the 7")
    assert document["refresh_token"]["expires_in_days"] > 100
