"""The in-memory join discovery ran before issue 12, kept here as the reference the SQL join
(``review.store.join``) must equal: pages parsed, the first of a duplicate id kept, orphans
dropped, users without a profile counted, every reference resolved by ``concur.references``."""

from __future__ import annotations

from typing import Any

from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import parse_spend, parse_user
from oaa_concur.concur.references import IdentityLookups, describe, resolve_profile, resolve_user
from oaa_concur.models import (
    Company,
    DiscoveryResult,
    IssueKind,
    SpendProfile,
    UnknownReference,
    User,
)


def reference_join(
    user_pages: list[list[Any]], spend_pages: list[list[Any]], company: Company
) -> DiscoveryResult | None:
    """What the old collector returned; None when a record had no usable id (it raised)."""
    sink = IssueSink()
    users: list[User] = []
    ids: set[str] = set()
    spend: dict[str, SpendProfile] = {}
    seen = 0
    for page in user_pages:
        for raw in page:
            seen += 1
            user = parse_user(raw, f"identity#{seen}", sink)
            if user is None:
                return None
            if user.id in ids:
                sink.add(IssueKind.DUPLICATE_ID, user.id, "Identity returned this id twice")
                continue
            ids.add(user.id)
            users.append(user)
    seen = 0
    for page in spend_pages:
        for raw in page:
            seen += 1
            profile = parse_spend(raw, f"spend#{seen}", sink)
            if profile is None:
                return None
            if profile.user_id in spend:
                sink.add(IssueKind.DUPLICATE_ID, profile.user_id, "Spend returned this id twice")
                continue
            spend[profile.user_id] = profile
    unknown = _join(users, ids, spend, sink)
    return DiscoveryResult(company, users, spend, sink.issues(), None, unknown)


def _join(
    users: list[User], ids: set[str], spend: dict[str, SpendProfile], sink: IssueSink
) -> list[UnknownReference]:
    for uid in [uid for uid in spend if uid not in ids]:
        del spend[uid]
        sink.add(
            IssueKind.ORPHAN_SPEND_RECORD,
            uid,
            "Spend has a record for an id that Identity does not list",
        )
    for user in users:
        if user.id not in spend:
            sink.add(
                IssueKind.NO_SPEND_PROFILE,
                user.id,
                "no Spend profile (e.g. a Travel-only user): no Spend roles",
            )
    lookups = IdentityLookups(users, ids)
    found: list[UnknownReference] = []
    for i, user in enumerate(users):
        users[i], refs = resolve_user(user, lookups)
        found += refs
    for uid, profile in spend.items():
        spend[uid], refs = resolve_profile(profile, lookups)
        found += refs
    for ref in found:
        sink.add(IssueKind.UNKNOWN_REFERENCE, ref.user_id, describe(ref))
    return found
