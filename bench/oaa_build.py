"""OAA builder benchmark: build, get_payload and serialise a synthetic tenant (no network).

Each user has about 10 Spend roles (30 % scoped to one of 50 role groups), two entitlements,
one approver and one delegate. Prints the seconds of each stage and the payload size.

Usage::

    .venv/bin/python bench/oaa_build.py               # 100,000 users
    .venv/bin/python bench/oaa_build.py --users 10000
"""

from __future__ import annotations

import argparse
import gzip
import random
import time
from datetime import UTC, datetime, timedelta

from oaa_concur import oaa
from oaa_concur.catalogue import CATALOGUE
from oaa_concur.models import (
    ApproverEdge,
    Company,
    DelegateEdge,
    DiscoveryResult,
    Email,
    RoleGrant,
    SpendProfile,
    User,
)


def tenant(n: int, seed: int = 1) -> DiscoveryResult:
    rng = random.Random(seed)
    codes = sorted(CATALOGUE)
    base = datetime(2015, 1, 1, tzinfo=UTC)
    users = [
        User(
            id=f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}",
            user_name=f"user{i}@example.com",
            display_name=f"User {i}",
            active=i % 10 != 0,
            emails=(Email(f"User{i}@Example.com", "work"),),
            employee_number=str(i),
            cost_center=f"CC{i % 97}",
            department="Finance",
            division="EMEA",
            company_id="acme",
            start_date=base + timedelta(days=rng.randrange(3000)),
            created_at=base + timedelta(seconds=rng.randrange(10**8)),
            last_modified_at=base + timedelta(seconds=rng.randrange(10**8)),
            entitlements=("Expense", "Travel"),
        )
        for i in range(n)
    ]
    spend = {}
    for i, user in enumerate(users):
        roles = tuple(
            RoleGrant(c, (f"G{rng.randrange(50)}",) if rng.random() < 0.3 else ())
            for c in rng.sample(codes, 10)
        )
        spend[user.id] = SpendProfile(
            user.id,
            roles=roles,
            approvers=(ApproverEdge(user.id, users[(i + 1) % n].id, "report", True),),
            delegates=(DelegateEdge(user.id, users[(i + 2) % n].id, "expense", ("canApprove",)),),
            non_employee=False,
            test_employee=False,
        )
    return DiscoveryResult(
        Company("acme", "https://us2.api.concursolutions.com", "Acme"), users, spend
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    result = tenant(args.users)
    t0 = time.perf_counter()
    app = oaa.build_application(result)
    t1 = time.perf_counter()
    payload = oaa.payload(app)
    t2 = time.perf_counter()
    data = oaa.payload_json(payload, indent=False)
    t3 = time.perf_counter()
    packed = gzip.compress(data)
    print(
        f"users={args.users:,} build={t1 - t0:.2f}s get_payload={t2 - t1:.2f}s "
        f"json={t3 - t2:.2f}s size={len(data) / 1e6:.1f}MB gzip={len(packed) / 1e6:.1f}MB"
    )


if __name__ == "__main__":
    main()
