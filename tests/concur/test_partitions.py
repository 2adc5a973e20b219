"""Issue 13: Identity read as disjoint ``id sw`` partitions, or as one cursor when it must.

The real client (``identity.IdentityRead``) against the real simulator in process, with pages
of 100 users so that a few thousand users make 16 pages or more. The filter, operator and
UUID rules are those of ``api-guides/profile/identity-search.md`` ("Allowed Attributes",
"Attribute Operators", "Filter By UUID"); no page shows ``sw`` on ``id``, hence the fallbacks.
"""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from oaa_concur.concur.identity import (
    ID_ALPHABET,
    IdentityRead,
    count_params,
    partition_prefixes,
    prefix_filter,
)
from oaa_concur.concur.pagination import CursorPaginator, Params
from oaa_concur.concur.schedule import PriorityGate
from oaa_concur.errors import IncompleteDiscovery
from oaa_concur.simulator import SimulatorConfig
from tests.fakes.concur import in_process
from tests.perf.identity_reader import Read, read_identity, tenant_ids

HEX = tuple(ID_ALPHABET)


@pytest.mark.parametrize(
    ("users", "concurrency", "expected"),
    [
        (15_000, 8, 0),  # 15 pages: one cursor is cheaper than 16 partial partitions
        (16_000, 8, 16),
        (100_000, 8, 16),  # 16 chains keep 8 slots busy
        (100_000, 1, 0),  # nothing runs beside a single slot
        (100_000, 16, 16),
        (100_000, 17, 16),  # 256 would need 256 pages
        (256_000, 17, 16),  # 256 counts would cost more than 5 % of the requests
        (466_000, 17, 256),
        (1_000_000, 32, 256),
        (1_000_000, 300, 256),  # two characters at most
        (0, 8, 0),
    ],
)
def test_partitions_follow_the_tenant_and_the_concurrency(
    users: int, concurrency: int, expected: int
) -> None:
    prefixes = partition_prefixes(users, concurrency)
    assert len(prefixes) == expected and len(set(prefixes)) == expected
    if expected:
        width = len(prefixes[0])
        assert all(len(p) == width and set(p) <= set(ID_ALPHABET) for p in prefixes)


def test_a_partition_of_256_is_counted_by_a_one_record_search_of_ids() -> None:
    assert prefix_filter("3f") == 'id sw "3f"'
    assert count_params("a") == {"count": 1, "attributes": ["id"], "filter": 'id sw "a"'}


def _identity_requests(read: Read, page: int) -> int:
    """The first page, then every partition's chain (an empty one has one, empty, page)."""
    return 1 + sum(max(1, math.ceil(n / page)) for n in read.reader.counts.values())


def test_partitions_read_every_user_once_with_one_count_per_partition(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    concur = in_process(SimulatorConfig(users=2400, seed=5))
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    assert read.reader.prefixes == HEX and sum(read.reader.counts.values()) == 2400
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim)) and not read.twice()
    requests = concur.sim.state.requests["identity"]
    assert requests == _identity_requests(read, 100) == read.reader.pages
    # the design's allowance: the minimum, one more per partition, and the count (1st page)
    assert requests <= 24 + 16 + 1
    assert [r.getMessage() for r in caplog.records] == [
        'Reading Identity as 16 disjoint cursors (id sw "0" ... id sw "f") for 2400 users'
    ]


def test_a_small_tenant_is_one_cursor_with_no_count(tmp_path: Path) -> None:
    concur = in_process(SimulatorConfig(users=1500, seed=5))
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    assert read.reader.prefixes == () and not read.reader.counts
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim))
    assert concur.sim.state.requests["identity"] == 15 == read.reader.pages


def test_a_refused_filter_falls_back_to_one_cursor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    concur = in_process(SimulatorConfig(users=2400, seed=5, refuse_filters=True))
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    state = concur.sim.state
    assert read.reader.prefixes == ()
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim)) and not read.twice()
    # 24 pages of the single cursor (the first one read before the counts), and the counts
    # that were sent before the first refusal came back
    assert 1 <= state.faults["refused_filter"] <= 16
    assert state.requests["identity"] == 24 + state.faults["refused_filter"]
    assert read.reader.pages == 24
    (line,) = [r for r in caplog.records if "one cursor" in r.getMessage()]
    assert line.levelno == logging.INFO
    assert "Concur refused the id-prefix filter" in line.getMessage()
    assert 'Unsupported filter [id sw "' in line.getMessage()


@pytest.mark.parametrize("style", ["alphabet", "case"])
def test_partitions_that_do_not_add_up_fall_back_to_one_cursor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, style: str
) -> None:
    """Three users whose ids the hex partitions miss: in another alphabet, or upper case
    with ``id`` compared case-exactly. Every one of them still arrives, once."""
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    config = SimulatorConfig(users=2400, seed=5, stray_ids=3, stray_id_style=style)
    concur = in_process(config)
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    expected = tenant_ids(concur.sim)
    strays = {concur.sim.tenant.user_id(i) for i in concur.sim.tenant.stray}
    assert len(strays) == 3 and strays <= expected
    assert all(uid[0] not in ID_ALPHABET for uid in strays)
    assert sorted(read.ids) == sorted(expected) and read.reader.prefixes == ()
    # the first page, the partitions' first pages (dropped), the rest of the single cursor
    assert concur.sim.state.requests["identity"] == 1 + 16 + 23
    (line,) = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (
        "Reading Identity as one cursor: the 16 id-prefix partitions list 2397 users where "
        "the unfiltered search lists 2400 (ids outside 0-9a-f or in another case, or users "
        "created or deleted meanwhile)"
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_users_created_before_the_counts_fall_back_and_the_change_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tenant gains 50 users after the first page: the counts list 2450, the first page
    said 2400. The single cursor goes on and sees them (they come last), and says so."""
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    config = SimulatorConfig(users=2400, seed=5, grow_after_requests=1, grow_users=50)
    concur = in_process(config)
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    assert concur.sim.state.faults["grown"] == 50 and read.reader.prefixes == ()
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim)) and len(read.ids) == 2450
    fallback, changed = _warnings(caplog)
    assert "partitions list 2450 users where the unfiltered search lists 2400" in fallback
    assert changed == (
        "Identity changed during the run: 2400 users were listed when it began, 2450 when "
        "its last pages were read, and 2450 were read; users created or deleted meanwhile "
        "may be missing (the next run reads them)"
    )


def test_users_created_while_partitions_are_read_arrive_at_most_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Growth after the counts: chains still running see their new users, finished ones do
    not (as a single cursor that has passed them would not). Every user that existed
    throughout arrives once, no user twice, and the run says the tenant changed."""
    caplog.set_level(logging.INFO, "oaa_concur.concur.identity")
    config = SimulatorConfig(users=2400, seed=5, grow_after_requests=30, grow_users=40)
    concur = in_process(config)
    read = read_identity(concur.sim, tmp_path, transport=concur.transport)
    tenant = concur.sim.tenant
    original = {tenant.user_id(i) for i in range(2400)}
    grown = {tenant.user_id(i) for i in range(2400, 2440)}
    assert concur.sim.state.faults["grown"] == 40 and read.reader.prefixes == HEX
    assert not read.twice() and original <= set(read.ids) <= original | grown
    late = len(read.ids) - 2400
    assert late > 0  # some chains were still running
    (changed,) = _warnings(caplog)
    assert f"2400 users were listed when it began, {2400 + late} when its last pages" in changed
    assert f"and {2400 + late} were read" in changed


class _IgnoresFilterInPages:
    """A Concur whose counts add up but whose partition pages ignore the filter."""

    def __init__(self) -> None:
        self.users = [f"{c}{i:07d}-0000-4000-8000-000000000000" for c in "0a" for i in range(20)]

    async def __call__(self, params: Params) -> dict[str, Any]:
        await asyncio.sleep(0)
        text = str(params.get("filter", ""))
        prefix = text[len('id sw "') : -1] if text else ""
        total = sum(1 for u in self.users if u.startswith(prefix))
        records = [{"id": u} for u in self.users[: params["count"]]]
        return {"totalResults": total, "Resources": records, "nextCursor": "c" if not text else ""}


def test_a_user_outside_its_partition_fails_closed() -> None:
    """Partitions are disjoint only if Concur filters the pages as it counts them: a user in
    the wrong partition could arrive twice, so the run stops instead."""
    fetch = _IgnoresFilterInPages()
    reader = IdentityRead(CursorPaginator("Identity", 2), concurrency=4)
    ids: list[str] = []

    async def main() -> None:
        await reader.run(fetch, lambda recs: ids.extend(r["id"] for r in recs), PriorityGate(4))

    with pytest.raises(IncompleteDiscovery, match=r'id sw "1" returned a user whose id does not'):
        asyncio.run(main())
    assert ids and all(uid.startswith("0") for uid in ids)  # partition "0" only, then stop


def test_256_partitions_are_counted_first_then_read_once(tmp_path: Path) -> None:
    """Two characters (``--concurrency`` 17, a tenant of 470 pages): 256 ``count: 1``
    searches, then one chain per non-empty partition; pages of 10 keep the tenant small."""
    concur = in_process(SimulatorConfig(users=4700, seed=5))
    read = read_identity(concur.sim, tmp_path, transport=concur.transport, page=10, concurrency=17)
    reader = read.reader
    assert len(reader.prefixes) == 256 and all(len(p) == 2 for p in reader.prefixes)
    assert sorted(read.ids) == sorted(tenant_ids(concur.sim)) and not read.twice()
    chains = sum(math.ceil(n / 10) for n in reader.counts.values())
    assert concur.sim.state.requests["identity"] == 1 + 256 + chains == reader.pages
