"""Hole 4 of issue 11: unbounded against a hostile Concur. Each breach is a failed page: the run
exits 1 with one sentence, records nothing, and ends in bounded time and memory.

The hostile Concur (tests/fakes/hostile.py) runs on loopback. Caps are made small through a
config file so the tests stay fast; the defaults are checked on their own. Bounded time shows
as requests counted (a breach is not retried), bounded memory as the bytes the server managed
to hand over before the client hung up. The drip tests use a real short deadline: the drip
never ends, so the deadline is always what stops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from oaa_concur.concur.pagination import MAX_CURSOR_CHARS, CursorPaginator, IndexPaginator
from oaa_concur.config import MIB, Settings
from tests.fakes.clock import FakeTime, full_backoff
from tests.fakes.hostile import (
    IDENTITY,
    SPEND,
    Answer,
    Hostile,
    client_env,
    drip,
    endless_body,
    endless_cursor,
    error,
    gzip_bomb,
    hostile_concur,
    identity,
    routes,
    spend,
    user,
)
from tests.support.cli import run_cli

SMALL_BODY = "max-response-bytes = 1048576\n"


@dataclass
class Run:
    result: Result
    concur: Hostile
    state: Path

    def failed(self, expected: str) -> str:
        """The run failed closed: exit 1, one sentence naming ``expected``, no snapshot."""
        assert self.result.exit_code == 1, self.result.output
        assert "Traceback" not in self.result.output
        last = self.result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and expected in last, last
        assert "internal error" not in last
        assert not (self.state / "snapshots.sqlite").exists()
        return last

    def asked(self, path: str) -> int:
        return self.concur.paths().count(path)


def discover(
    tmp_path: Path, config: str = "", time: FakeTime | None = None, **answers: Answer
) -> Run:
    caps = tmp_path / "caps.toml"
    caps.write_text(config)
    state = tmp_path / "state"
    with hostile_concur(routes(None, **answers)) as concur:
        args = ["discover", "--no-push", "--config", str(caps)]
        result = run_cli(args, client_env(concur, str(state)), time.runtime() if time else None)
    return Run(result, concur, state)


def test_a_never_ending_cursor_stops_at_the_chain_cap(tmp_path: Path) -> None:
    run = discover(tmp_path, "max-records = 3000\n", identity=endless_cursor())
    run.failed("Identity pagination did not end after 3 pages")
    assert run.asked(IDENTITY) == 3


def test_the_default_caps() -> None:
    """64 MiB a body, 120 s a request, no run deadline, 2,000,000 records: a cursor chain of
    Identity (count 1,000) ends after 2,000 pages; Spend plans at most 20,000."""
    settings = Settings(state_dir=Path("x"))
    assert settings.max_response_bytes == 64 * MIB
    assert settings.request_deadline_s == 120.0 and settings.run_deadline_s is None
    assert settings.max_records == 2_000_000
    assert CursorPaginator("Identity", 1000).max_chain_pages == 2_000


@pytest.mark.parametrize("total", [10**8, 10**12])
def test_a_huge_total_results_fails_fast_without_planning_pages(tmp_path: Path, total: int) -> None:
    run = discover(tmp_path, spend=spend([{"id": "u1"}], total=total))
    run.failed(f"Spend listing reports or returns {total} records, more than the 2000000")
    assert run.asked(SPEND) == 1


def test_a_page_of_more_records_than_asked_is_refused(tmp_path: Path) -> None:
    run = discover(tmp_path, identity=identity([user(f"u{i}") for i in range(1001)]))
    run.failed("Identity page holds 1001 records where 1000 were asked for")


def test_a_spend_page_of_more_records_than_asked_is_refused(tmp_path: Path) -> None:
    run = discover(tmp_path, spend=identity([{"id": f"u{i}"} for i in range(101)]))
    run.failed("Spend page holds 101 records where 100 were asked for")


def test_a_listing_returning_more_than_max_records_is_refused(tmp_path: Path) -> None:
    run = discover(tmp_path, "max-records = 1500\n", identity=endless_cursor(1000))
    run.failed("Identity listing reports or returns 2000 records, more than the 1500")


def test_an_over_long_cursor_is_refused(tmp_path: Path) -> None:
    page = identity([user("u1")], nextCursor="c" * (MAX_CURSOR_CHARS + 1))
    discover(tmp_path, identity=page).failed(f"nextCursor of {MAX_CURSOR_CHARS + 1} characters")


def test_an_endless_body_is_cut_off_at_the_byte_cap(tmp_path: Path) -> None:
    run = discover(tmp_path, SMALL_BODY, identity=endless_body())
    run.failed("answer to POST /profile/identity/v4.1/Users/.search is larger than 1 MiB")
    assert run.asked(IDENTITY) == 1  # not retried
    assert run.concur.sent < 32 * MIB  # it stopped reading; the server stopped sending


def test_a_declared_two_gib_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    run = discover(tmp_path, SMALL_BODY, identity=endless_body(declared=2 * 1024 * MIB))
    run.failed("is larger than 1 MiB")
    assert run.concur.sent < 32 * MIB


def test_a_gzip_bomb_is_cut_off_at_the_byte_cap_of_decoded_bytes(tmp_path: Path) -> None:
    run = discover(tmp_path, SMALL_BODY, identity=gzip_bomb(16 * MIB))
    run.failed("is larger than 1 MiB")
    assert run.concur.sent < MIB  # the compressed bomb itself is small


def test_a_dripping_body_is_stopped_by_the_request_deadline(tmp_path: Path) -> None:
    run = discover(tmp_path, "request-deadline-s = 0.3\n", identity=drip(0.05))
    run.failed("did not finish answering POST /profile/identity/v4.1/Users/.search within 0.3 s")
    assert run.asked(IDENTITY) == 1  # a trickle is not retried


def test_a_dripping_body_is_stopped_by_the_run_deadline(tmp_path: Path) -> None:
    run = discover(tmp_path, "run-deadline-s = 0.3\n", identity=drip(0.05))
    run.failed("The run passed its deadline of 0.3 s during POST /profile/identity/v4.1")


def test_retries_stop_at_the_run_deadline(tmp_path: Path) -> None:
    """503s are retried 1, 2, 4 s apart (fake time); the fourth attempt would start at 7 s."""
    time = FakeTime(rand=full_backoff)
    run = discover(tmp_path, "run-deadline-s = 5\n", time, spend=error(503, {}))
    run.failed("The run passed its deadline of 5 s during GET /profile/spend/v4.1/Users")
    assert run.asked(SPEND) == 3 and time.slept == [1.0, 2.0, 4.0]


def test_the_run_deadline_option_of_discover(tmp_path: Path) -> None:
    with hostile_concur(routes(spend=error(503, {}))) as concur:
        env = client_env(concur, str(tmp_path / "state"))
        args = ["discover", "--no-push", "--run-deadline", "2"]
        result = run_cli(args, env, FakeTime(rand=full_backoff).runtime())
    assert result.exit_code == 1
    assert "passed its deadline of 2 s" in result.stderr.strip().splitlines()[-1]


def test_the_paginators_refuse_without_http() -> None:
    """The same checks, no network: what ``read_pages`` calls for each answered page."""
    spend_pages = IndexPaginator("Spend", 100, max_records=1000)
    with pytest.raises(Exception, match="more than the 1000"):
        spend_pages.after({"startIndex": 1, "count": 100}, {"totalResults": 1001, "Resources": []})
    cursor = CursorPaginator("Identity", 10, max_records=20)
    follow = cursor.after({"count": 10}, {"Resources": [], "nextCursor": "a"})
    assert follow == [{"count": 10, "cursor": "a"}]
    with pytest.raises(Exception, match="did not end after 2 pages"):
        cursor.after(follow[0], {"Resources": [], "nextCursor": "b"})
