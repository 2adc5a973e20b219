"""Pushing to the fake Veza from the OAA tests: one helper with the test defaults."""

from __future__ import annotations

from typing import Any

from oaa_concur import oaa
from oaa_concur.models import Company, DiscoveryResult, RoleGrant, SpendProfile, User
from tests.fakes.clock import FakeTime
from tests.fakes.veza import FakeVeza

DATA_SOURCE = "Concur - acme-uuid"


def tenant(users: int = 1) -> DiscoveryResult:
    """``users`` users, each with a Spend role: a payload of about 1 KB per user."""
    people = [
        User(id=f"{i:08d}-5555-4555-8555-555555555555", user_name=f"u{i}@acme.example", active=True)
        for i in range(users)
    ]
    spend = {u.id: SpendProfile(u.id, roles=(RoleGrant("EXP_USER"),)) for u in people}
    return DiscoveryResult(
        Company("acme-uuid", "https://us2.api.concursolutions.com"), people, spend
    )


def push_to(fake: FakeVeza, source: Any, time: FakeTime | None = None, **kw: Any) -> oaa.PushResult:
    """``oaa.push(source)`` to ``fake`` with an injected time (instant sleeps)."""
    args: dict[str, Any] = {
        "veza_url": fake.url,
        "api_key": fake.api_key,
        "provider_name": "Concur",
        "data_source_name": DATA_SOURCE,
        "ca_bundle": fake.ca_path,
        "runtime": (time or FakeTime()).runtime(),
    }
    args.update(kw)
    result: oaa.PushResult = oaa.push(source, **args)
    return result
