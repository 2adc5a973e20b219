"""Pages that cannot be trusted fail the run closed (exit 1, one sentence, nothing pushed, no
payload file, no snapshot): a page failing persistently, a 200 with HTML or a truncated body,
a wrong-shaped body, a repeating cursor, a totalResults that disagrees with what was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.outcomes import last_line, no_run_left
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env


def _discover_fails(
    config: SimulatorConfig, tmp_path: Path, state: Path, veza: FakeVeza, time: FakeTime
) -> tuple[str, dict[str, int], int]:
    """Run ``oaa-concur discover --save-json`` against ``config``; it must fail closed."""
    out = tmp_path / "out" / "payload.json"
    out.parent.mkdir()
    with running_simulator(config) as sim:
        env = sim_env(sim, state, veza)
        result = run_cli(["discover", "--save-json", str(out)], env, time.runtime())
        faults, spend_total = dict(sim.state.faults), sim.tenant.spend_total
    assert result.exit_code == 1, result.output
    last = last_line(result.stderr)
    assert last.startswith("error: ") and sim.refresh_token not in result.output
    no_run_left(veza, state, out)
    return last, faults, spend_total


@pytest.mark.parametrize(
    ("fault", "kind", "attempts", "expected"),
    [
        ({"fail_page": ("identity", 1)}, "fail_page", 6, "Concur answered 500 to POST"),
        ({"fail_page": ("spend", 3), "fail_status": 503}, "fail_page", 6, "Concur answered 503"),
        ({"malformed_page": ("spend", 2)}, "malformed_page", 3, "not a JSON object"),  # HTML
        ({"malformed_page": ("identity", 1)}, "malformed_page", 3, "not a JSON object"),  # cut
    ],
)
def test_a_page_that_never_reads_fails_closed_after_bounded_retries(
    tmp_path: Path,
    state: Path,
    fake_veza: FakeVeza,
    fault: dict[str, Any],
    kind: str,
    attempts: int,
    expected: str,
) -> None:
    config = SimulatorConfig(users=400, seed=4, **fault)
    time = FakeTime()
    last, faults, _ = _discover_fails(config, tmp_path, state, fake_veza, time)
    assert "could not read every page" in last and expected in last
    assert "nothing was pushed" in last and "concur-correlationid" in last
    assert faults[kind] == attempts
    assert len(time.slept) == attempts - 1  # the other pages read at the first try


def test_resources_that_is_not_a_list_fails_closed_without_retry(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    config = SimulatorConfig(users=400, seed=4, wrong_shape_page=("spend", 2))
    time = FakeTime()
    last, faults, _ = _discover_fails(config, tmp_path, state, fake_veza, time)
    assert "Spend page has a 'Resources' that is not a list" in last
    assert faults["wrong_shape"] == 1 and time.slept == []


@pytest.mark.parametrize("kind", ["identity", "spend"])
def test_a_record_that_is_not_an_object_fails_closed(
    tmp_path: Path, state: Path, fake_veza: FakeVeza, kind: str
) -> None:
    """A record with no usable id is a user (or a user's roles) that cannot be placed: pushing
    without it would delete it in Veza, so the run fails closed (not retried: it is data)."""
    config = SimulatorConfig(users=300, seed=4, wrong_shape_page=(kind, 1), wrong_shape="record")
    time = FakeTime()
    last, faults, _ = _discover_fails(config, tmp_path, state, fake_veza, time)
    assert "could not read 1 Concur record(s) that have no usable id" in last
    assert f"(first at {kind}#" in last and "nothing was pushed" in last
    assert faults["wrong_shape"] == 1 and time.slept == []


def test_a_repeating_cursor_fails_closed_instead_of_looping(
    tmp_path: Path, state: Path, fake_veza: FakeVeza
) -> None:
    # Two Identity pages need more than 1,000 users (the client asks for 1,000 a page).
    config = SimulatorConfig(users=1100, seed=4, repeat_cursor_page=2)
    time = FakeTime()
    last, faults, _ = _discover_fails(config, tmp_path, state, fake_veza, time)
    assert "returned a cursor it had returned before" in last and "after 2 pages" in last
    assert faults["repeat_cursor"] == 1 and time.slept == []


@pytest.mark.parametrize("offset", [150, -50])
def test_a_total_that_disagrees_with_what_was_read_fails_closed(
    tmp_path: Path, state: Path, fake_veza: FakeVeza, offset: int
) -> None:
    config = SimulatorConfig(users=400, seed=4, spend_total_offset=offset)
    time = FakeTime()
    last, faults, spend_total = _discover_fails(config, tmp_path, state, fake_veza, time)
    # With -50 the claimed total must not end on a page boundary, or the lie is undetectable.
    assert (spend_total + offset) % 100 != 0
    assert f"reported {spend_total + offset} records but {spend_total} were read" in last
    assert faults["total_offset"] > 0 and time.slept == []
