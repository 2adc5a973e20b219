"""``oaa-concur discover`` end to end: simulator -> payload, snapshot, push to the fake Veza."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import orjson
import pytest

from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

GOLDEN = Path(__file__).parent / "golden" / "payload_users25_seed11.json"


def test_golden_payload_for_a_seeded_tenant(tmp_path: Path, state: Path) -> None:
    """A small seeded tenant produces exactly the pinned payload (UPDATE_GOLDEN=1 rewrites it)."""
    out = tmp_path / "payload.json"
    with running_simulator(SimulatorConfig(users=25, seed=11)) as sim:
        result = run_cli(["discover", "--no-push", "--save-json", str(out)], sim_env(sim, state))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    payload = orjson.loads(out.read_bytes())
    # The simulator listens on a free port: pin the geolocation, then compare the rest.
    app_properties = payload["applications"][0]["custom_properties"]
    assert app_properties["geolocation"] == sim.api_url
    app_properties["geolocation"] = "http://simulator"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    assert payload == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert "25 users" in result.stdout and "not pushed" in result.stdout


def test_discover_pushes_what_it_saved_and_records_a_pushed_snapshot(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    out = tmp_path / "payload.json"
    with running_simulator(SimulatorConfig(users=60, seed=5)) as sim:
        env = sim_env(sim, state, fake_veza)
        result = run_cli(["discover", "--save-json", str(out)], env)
    assert result.exit_code == 0, result.output
    assert "pushed to Veza" in result.stdout
    [provider] = fake_veza.providers.values()
    assert provider["name"] == "Concur"
    [ds] = fake_veza.data_sources[provider["id"]].values()
    assert ds["name"] == f"Concur - {sim.company_uuid}"
    [push] = fake_veza.pushes
    assert push["payload"] == orjson.loads(out.read_bytes())
    [info] = SnapshotStore(state).list()
    assert info.user_count == 60 and info.pushed_at is not None


def test_a_page_that_cannot_be_read_fails_closed(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    """Spend page 2 always fails: exit 1, one sentence, no push, no payload file, no snapshot."""
    out = tmp_path / "payload.json"
    config = SimulatorConfig(users=450, seed=2, fail_page=("spend", 2))
    with running_simulator(config) as sim:
        env = sim_env(sim, state, fake_veza)
        result = run_cli(["discover", "--save-json", str(out)], env, FakeTime().runtime())
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in result.stderr
    assert fake_veza.pushes == []
    assert not out.exists()
    assert SnapshotStore(state).list() == []


def test_shrink_guard_refuses_then_allow_shrink_pushes(state: Path, fake_veza: FakeVeza) -> None:
    """The user count falling by more than 10 % against the last push is refused (exit 4)."""
    with running_simulator(SimulatorConfig(users=100, seed=4)) as sim:
        env = sim_env(sim, state, fake_veza)
        assert run_cli(["discover"], env).exit_code == 0
    # The same company, now with 80 users: a fresh simulator with the same seed and fewer users.
    (state / "credentials.json").unlink()
    with running_simulator(SimulatorConfig(users=80, seed=4)) as sim:
        env = sim_env(sim, state, fake_veza)
        refused = run_cli(["discover"], env)
        assert refused.exit_code == 4  # ExitCode.REFUSED
        assert "Refusing to push" in refused.stderr and "--allow-shrink" in refused.stderr
        assert len(fake_veza.pushes) == 1
        (state / "credentials.json").unlink()
        again = run_cli(["discover"], env)  # the refused run is not the new baseline
        assert again.exit_code == 4
        (state / "credentials.json").unlink()
        allowed = run_cli(["discover", "--allow-shrink"], env)
    assert allowed.exit_code == 0, allowed.output
    assert len(fake_veza.pushes) == 2
    assert [i.user_count for i in SnapshotStore(state).list()] == [100, 80, 80, 80]


@pytest.mark.parametrize(
    ("env_change", "expected", "code"),
    [
        ({"VEZA_URL": None}, "No Veza URL is set", 2),
        ({"VEZA_API_KEY": None}, "VEZA_API_KEY is not set", 2),
        ({"VEZA_API_KEY": "wrong-key-123456"}, "VEZA_API_KEY", 1),
        ({"VEZA_URL": "https://127.0.0.1:9"}, "127.0.0.1:9", 1),
    ],
)
def test_veza_errors_are_one_sentence(
    state: Path, fake_veza: FakeVeza, env_change: dict[str, str | None], expected: str, code: int
) -> None:
    with running_simulator(SimulatorConfig(users=10, seed=3)) as sim:
        env: dict[str, str | None] = {**sim_env(sim, state, fake_veza), **env_change}
        result = run_cli(["discover"], env, FakeTime().runtime())
    assert result.exit_code == code, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last
    assert "Traceback" not in result.output
    assert "wrong-key-123456" not in result.output
