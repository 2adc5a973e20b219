"""``discover`` as a scheduler runs it, through the real CLI against the real simulator and the
fake Veza: the preflight before the first Concur request (a failure records nothing),
``--dry-run`` without side effects beside ``--no-push``, retention (30 by default, the last
pushed snapshot always kept, ``--retention N``), an INFO record per phase with its counts and
duration, and one set of figures in the summary, the ``snapshots`` listing and the report."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

from oaa_concur.config import DEFAULT_RETENTION
from oaa_concur.errors import ExitCode
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from oaa_concur.summary import FIGURES
from tests.fakes.outcomes import last_line, no_run_left
from tests.fakes.veza import FakeVeza
from tests.ops.lines import json_lines
from tests.support.cli import run_cli, sim_env

JSON = ["--log-format", "json"]


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(users=40, seed=15, rotate_refresh_tokens=True)) as s:
        yield s


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _concur_requests(sim: RunningSimulator) -> int:
    return sum(sim.state.requests.values())


def _state_files(state: Path) -> dict[str, str]:
    """Every file in the state directory with a digest of its bytes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in state.iterdir() if p.is_file()
    }


# -- preflight ---------------------------------------------------------------------------


def _preflight_cases(veza: FakeVeza, tmp: Path) -> list[tuple[str, dict[str, str], list[str]]]:
    unreachable = f"https://127.0.0.1:{_closed_port()}"
    (tmp / "afile").write_text("")
    return [
        ("http Veza URL", {"VEZA_URL": veza.url.replace("https", "http")}, []),
        ("no API key", {"VEZA_API_KEY": ""}, []),
        ("Veza unreachable", {"VEZA_URL": unreachable}, []),
        ("wrong API key", {"VEZA_API_KEY": "not-the-key"}, []),
        ("untrusted CA", {"REQUESTS_CA_BUNDLE": certifi.where()}, []),
        ("save-json under a file", {}, ["--save-json", str(tmp / "afile" / "x.json")]),
    ]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("http Veza URL", ExitCode.CONFIG),
        ("no API key", ExitCode.CONFIG),
        ("Veza unreachable", ExitCode.FAILED),
        ("wrong API key", ExitCode.FAILED),
        ("untrusted CA", ExitCode.FAILED),
        ("save-json under a file", ExitCode.CONFIG),
    ],
)
def test_a_preflight_failure_sends_nothing_to_concur_and_records_nothing(
    case: str, code: ExitCode, sim: RunningSimulator, fake_veza: FakeVeza, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    (_, env_change, args) = next(c for c in _preflight_cases(fake_veza, tmp_path) if c[0] == case)
    env = {**sim_env(sim, state, fake_veza), **env_change}
    result = run_cli(["discover", *args], env)
    assert result.exit_code == int(code), result.output
    assert last_line(result.stderr).startswith("error: ")
    assert _concur_requests(sim) == 0  # refused before the token request
    assert fake_veza.pushes == []
    assert not state.exists() or _state_files(state).keys() <= {"oaa-concur.lock"}


def test_a_failed_concur_refresh_records_nothing(
    sim: RunningSimulator, fake_veza: FakeVeza, tmp_path: Path
) -> None:
    state, payload = tmp_path / "state", tmp_path / "out" / "payload.json"
    env = {**sim_env(sim, state, fake_veza), "CONCUR_CLIENT_SECRET": "wrong"}
    result = run_cli(["discover", "--save-json", str(payload)], env)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert sim.state.requests["token"] >= 1 and _concur_requests(sim) == sim.state.requests["token"]
    no_run_left(fake_veza, state, payload)
    assert not (state / "snapshots.sqlite").exists()


def test_a_pushed_run_checks_veza_before_concur(
    sim: RunningSimulator, fake_veza: FakeVeza, state: Path
) -> None:
    result = run_cli(["discover", "-v", *JSON], sim_env(sim, state, fake_veza))
    assert result.exit_code == 0, result.output
    phases = [r for r in json_lines(result.stderr) if r.get("event") == "phase"]
    assert phases[0]["phase"] == "preflight" and phases[0]["checks"] >= 6
    first_push = next(i for i, r in enumerate(fake_veza.requests) if r.method == "POST")
    assert first_push > 0  # the connection test and provider lookup came first


# -- --dry-run and --no-push -------------------------------------------------------------


def test_dry_run_leaves_the_state_directory_as_it_was(
    sim: RunningSimulator, fake_veza: FakeVeza, state: Path, tmp_path: Path
) -> None:
    env = sim_env(sim, state, fake_veza)
    assert run_cli(["discover"], env).exit_code == 0  # a pushed run: the state a dry run finds
    before = _state_files(state)
    text = run_cli(["discover", "--dry-run"], env)
    logged = run_cli(["discover", "--dry-run", *JSON], env)
    assert text.exit_code == 0 and logged.exit_code == 0, text.output + logged.output
    after = _state_files(state)
    assert after.keys() == before.keys()  # no new file: no payload, no temporary store
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= {"credentials.json", "credentials.json.bak"}  # Concur rotated the token
    assert len(SnapshotStore(state).list()) == 1 and len(fake_veza.pushes) == 1
    assert text.stdout.strip().endswith("; dry run, no snapshot; not pushed.")
    [summary] = json_lines(logged.stdout)
    assert summary["snapshot_id"] is None and summary["pushed"] is False
    assert list(tmp_path.glob("**/*payload*.json")) == []


def test_dry_run_refuses_save_json_before_discovery(sim: RunningSimulator, state: Path) -> None:
    payload = state.parent / "payload.json"
    result = run_cli(["discover", "--dry-run", "--save-json", str(payload)], sim_env(sim, state))
    assert result.exit_code == 2
    assert "--dry-run writes no file" in last_line(result.stderr)
    assert not payload.exists() and _concur_requests(sim) == 0


def test_no_push_still_records_a_snapshot_and_writes_the_payload(
    sim: RunningSimulator, state: Path
) -> None:
    payload = state.parent / "payload.json"
    result = run_cli(["discover", "--no-push", "--save-json", str(payload)], sim_env(sim, state))
    assert result.exit_code == 0, result.output
    assert len(SnapshotStore(state).list()) == 1
    assert json.loads(payload.read_text())["applications"]
    assert result.stdout.strip().endswith("; snapshot 1; not pushed.")
    assert "Veza warnings" not in result.stdout  # nothing was pushed: no Veza figure


# -- retention ---------------------------------------------------------------------------


def _ids(state: Path) -> list[int]:
    return [info.id for info in SnapshotStore(state).list()]


def test_retention_keeps_the_newest_n_and_the_last_pushed_one(
    sim: RunningSimulator, fake_veza: FakeVeza, state: Path
) -> None:
    env = sim_env(sim, state, fake_veza)
    assert run_cli(["discover"], env).exit_code == 0  # snapshot 1, pushed
    for _ in range(3):
        assert run_cli(["discover", "--no-push", "--retention", "2"], env).exit_code == 0
    assert _ids(state) == [1, 3, 4]
    logged = run_cli(["discover", "--no-push", "--retention", "2", *JSON], env)
    assert _ids(state) == [1, 4, 5]
    [record] = [r for r in json_lines(logged.stderr) if r.get("event") == "retention"]
    assert (record["deleted"], record["keep"], record["level"]) == (1, 2, "info")


def test_the_default_keeps_30_and_0_keeps_every_snapshot(
    sim: RunningSimulator, state: Path
) -> None:
    assert DEFAULT_RETENTION == 30
    env = sim_env(sim, state)
    assert run_cli(["discover", "--no-push"], env).exit_code == 0
    store = SnapshotStore(state)
    result = store.load(1)
    for _ in range(DEFAULT_RETENTION):  # recorded directly: 30 CLI runs would be slow
        store.record(result)
    assert len(store.list()) == 31
    assert run_cli(["discover", "--no-push", "--retention", "0"], env).exit_code == 0
    assert len(store.list()) == 32
    assert run_cli(["discover", "--no-push"], env).exit_code == 0
    assert _ids(state) == list(range(4, 34))  # the newest 30, nothing pushed to keep


def test_a_negative_retention_is_a_usage_error(sim: RunningSimulator, state: Path) -> None:
    result = run_cli(["discover", "--no-push", "--retention", "-1"], sim_env(sim, state))
    assert result.exit_code == 2 and not state.exists()


# -- phases and figures ------------------------------------------------------------------

PUSHED_PHASES = [
    "preflight",
    "discovering Concur",
    "writing the OAA payload",
    "recording the snapshot",
    "pushing to Veza",
]


def _phases(stderr: str) -> dict[str, dict[str, Any]]:
    return {r["phase"]: r for r in json_lines(stderr) if r.get("event") == "phase"}


def test_every_phase_is_an_info_record_with_counts_and_seconds(
    sim: RunningSimulator, fake_veza: FakeVeza, state: Path
) -> None:
    result = run_cli(["discover", "-v", *JSON], sim_env(sim, state, fake_veza))
    assert result.exit_code == 0, result.output
    phases = _phases(result.stderr)
    assert list(phases) == PUSHED_PHASES
    assert all(r["level"] == "info" and r["seconds"] >= 0 for r in phases.values())
    assert phases["discovering Concur"]["identity_pages"] >= 1
    assert phases["discovering Concur"]["requests"] >= 3
    assert phases["writing the OAA payload"]["users"] == 40
    assert phases["writing the OAA payload"]["bytes"] > 0
    assert phases["pushing to Veza"]["bytes"] == fake_veza.pushes[0]["bytes"]
    [summary] = json_lines(result.stdout)
    recorded = phases["recording the snapshot"]
    assert {name: recorded[name] for name in FIGURES} == {name: summary[name] for name in FIGURES}


def test_text_mode_phase_lines_at_v(sim: RunningSimulator, state: Path) -> None:
    result = run_cli(["discover", "--no-push", "-v"], sim_env(sim, state))
    assert result.exit_code == 0, result.output
    assert " INFO    discovering Concur: 1 identity pages, " in result.stderr
    assert " INFO    recording the snapshot: 40 users, " in result.stderr


def test_one_set_of_figures_in_summary_snapshots_and_report(
    sim: RunningSimulator, fake_veza: FakeVeza, state: Path
) -> None:
    env = sim_env(sim, state, fake_veza)
    run = run_cli(["discover", *JSON], env)
    listed = run_cli(["snapshots", "--format", "json"], env)
    table = run_cli(["snapshots"], env)
    report = run_cli(["report", "--format", "json", "--out", "-"], env)
    text = run_cli(["discover", "--no-push"], env)
    assert {r.exit_code for r in (run, listed, table, report, text)} == {0}
    [summary] = json_lines(run.stdout)
    [snapshot] = json.loads(listed.stdout)["snapshots"][:1]
    reported = json.loads(report.stdout)["summary"]
    figures = {name: summary[name] for name in FIGURES}
    assert figures["grants"] > figures["spend_grants"] > 0 and figures["active"] > 0
    assert {name: snapshot[name] for name in FIGURES} == figures
    assert {name: reported[name] for name in FIGURES} == figures
    assert reported["inactive"] == figures["users"] - figures["active"]
    for header in ("users", "active", "roles", "grants", "spend grants", "data issues"):
        assert f" {header} " in table.stdout
    line = text.stdout
    assert (
        f"{figures['users']} users ({figures['active']} active), {figures['roles']} roles, " in line
    )
    assert f"{figures['grants']} grants ({figures['spend_grants']} spend grants), " in line
