"""Access-review findings: pure functions, ``now`` injected, over a stream of people.

``scan`` walks users with their Spend records one at a time (from a ``DiscoveryResult`` or
from the snapshot store's ``SnapshotReader.people()``) and asks a ``Directory`` about anyone
else (an approver, a delegate), so that a million users never sit in memory; ``find`` is the
same over a ``DiscoveryResult``, sorted.

Each finding has a stable id (``<RULE>:<subject>``, the first user id being the subject), a
severity, a one-sentence explanation and the users and roles involved. The rules (ids and
severities) are listed in docs/review.md. Inactive users are left out of the checks that need
a login (SoD, approval chains, delegates): they are covered by INACTIVE_PRIVILEGED instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import chain
from typing import Protocol

from oaa_concur.catalogue import role_info
from oaa_concur.models import (
    DataIssue,
    DiscoveryResult,
    IssueKind,
    SpendProfile,
    UnknownReference,
    User,
)
from oaa_concur.review.rules import SEVERITIES, Exemption, RuleSet, Severity, SodRule

DUE_SOON = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    rule: str
    severity: Severity
    title: str
    explanation: str
    user_ids: tuple[str, ...]
    role_codes: tuple[str, ...] = ()
    exemption: Exemption | None = None
    """The active exemption that covers this finding; exempted findings never fail a run."""


class Directory(Protocol):
    """What a check needs to know about users other than the one it looks at: an in-memory
    index for a ``DiscoveryResult`` (``ResultDirectory``), SQL over the store for a snapshot
    (``review.scan.StoreDirectory``), so that the findings of a million users stream."""

    def user(self, user_id: str) -> User | None:
        """The user with this id, or None when Identity does not list them."""

    def approver_kinds(self, user_id: str, approver_id: str) -> list[str]:
        """The kinds of ``user_id``'s items that ``approver_id`` approves (may repeat)."""


class ResultDirectory:
    """``Directory`` over a ``DiscoveryResult`` in memory."""

    def __init__(self, result: DiscoveryResult) -> None:
        self.users = {u.id: u for u in result.users}
        self.approvers_of: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for profile in result.spend.values():
            for edge in profile.approvers:
                self.approvers_of[edge.user_id][edge.approver_id].append(edge.kind)

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def approver_kinds(self, user_id: str, approver_id: str) -> list[str]:
        return list(self.approvers_of.get(user_id, {}).get(approver_id, ()))


def result_people(result: DiscoveryResult) -> Iterator[tuple[User, SpendProfile | None]]:
    """A result's users with their Spend records, in the result's order."""
    return ((u, result.spend.get(u.id)) for u in result.users)


class _Scan:
    """One walk over the people: per-user checks as each passes, role inventories after."""

    def __init__(self, directory: Directory, rules: RuleSet, now: datetime) -> None:
        self.dir, self.rules, self.now = directory, rules, now
        self.privileged: dict[str, dict[str, bool]] = defaultdict(dict)  # code -> user -> wide
        self.unknown: dict[str, set[str]] = defaultdict(set)

    def name(self, user_id: str) -> str:
        user = self.dir.user(user_id)
        return _name(user) if user else user_id

    def person(self, user: User, profile: SpendProfile | None) -> Iterator[Finding]:
        roles = sorted({g.role_code for g in profile.roles}) if profile else []
        priv = [c for c in roles if role_info(c).privileged]
        yield from _terminated_active(user, roles, priv, self.now)
        yield from _termination_due(user, roles, self.now)
        yield from _inactive_privileged(user, priv)
        if profile is not None:
            self._inventory(profile)
            if user.active:
                yield from _sod(user, roles, self.rules.rules)
                yield from self._approval_chains(user, profile, roles)
            yield from self._delegate_self_approval(profile)  # whoever's record it is
        yield from _no_email(user, roles)

    def _inventory(self, profile: SpendProfile) -> None:
        for grant in profile.roles:
            info = role_info(grant.role_code)
            if info.privileged:
                wide = self.privileged[grant.role_code].get(profile.user_id, False)
                self.privileged[grant.role_code][profile.user_id] = wide or grant.company_wide
            if not info.known:
                self.unknown[grant.role_code].add(profile.user_id)

    def _approval_chains(
        self, user: User, profile: SpendProfile, roles: list[str]
    ) -> Iterator[Finding]:
        by_approver: dict[str, list[str]] = defaultdict(list)
        for edge in profile.approvers:
            by_approver[edge.approver_id].append(edge.kind)
        for approver_id, kinds in by_approver.items():
            finding = self._chain_finding(user, approver_id, sorted(set(kinds)), roles)
            if finding is not None:
                yield finding

    def _chain_finding(
        self, user: User, approver_id: str, kinds: list[str], roles: list[str]
    ) -> Finding | None:
        what = f"{'/'.join(kinds)} approver"
        who = _name(user)
        if approver_id == user.id:
            return Finding(
                f"SELF_APPROVAL:{user.id}",
                "SELF_APPROVAL",
                "high",
                "Self-approval",
                f"{who} is their own {what}, so they can approve their own items.",
                (user.id,),
                tuple(roles),
            )
        broken = _broken_approver(self.dir.user(approver_id), self.now)
        if broken is None:
            return None
        rule, severity, state = broken
        return Finding(
            f"{rule}:{user.id}:{approver_id}",
            rule,
            severity,
            "Broken approval chain",
            f"The {what} of {who}, {self.name(approver_id)}, {state}, so their items may go "
            "unapproved or be approved by someone who has left.",
            (user.id, approver_id),
        )

    def _delegate_self_approval(self, profile: SpendProfile) -> Iterator[Finding]:
        for edge in profile.delegates:
            if not (edge.can_approve and edge.state(self.now) == "in_force"):
                continue
            delegate = self.dir.user(edge.delegate_id)
            if not (delegate and delegate.active):
                continue
            kinds = self.dir.approver_kinds(edge.delegate_id, profile.user_id)
            if kinds:
                d, a = edge.delegate_id, profile.user_id
                yield Finding(
                    f"DELEGATE_SELF_APPROVAL:{d}:{a}",
                    "DELEGATE_SELF_APPROVAL",
                    "high",
                    "Delegate can approve for their own approver",
                    f"{self.name(d)} can approve as delegate of {self.name(a)}, who is their "
                    f"own {'/'.join(sorted(set(kinds)))} approver, so they can approve their "
                    "own items.",
                    (d, a),
                )

    def inventories(self) -> Iterator[Finding]:
        yield from _privileged_inventory(self.privileged)
        yield from _unknown_roles(self.unknown)


def _name(user: User) -> str:
    return f"{user.name} ({user.id})"


def find(result: DiscoveryResult, rules: RuleSet, *, now: datetime) -> list[Finding]:
    """Every finding, most severe first, with active exemptions attached."""
    found = scan(
        result_people(result),
        ResultDirectory(result),
        result.issues,
        result.unknown_references,
        rules,
        now=now,
    )
    return sorted(found, key=rank)


def rank(f: Finding) -> tuple[int, str]:
    """The report's order: most severe first, then by id."""
    return (SEVERITIES.index(f.severity), f.id)


def scan(
    people: Iterable[tuple[User, SpendProfile | None]],
    directory: Directory,
    issues: Iterable[DataIssue],
    references: Iterable[UnknownReference],
    rules: RuleSet,
    *,
    now: datetime,
) -> Iterator[Finding]:
    """Every finding, as the people stream past (unordered), with exemptions attached.

    Memory: the holders of privileged and unknown roles (for their inventories) and what
    ``directory`` keeps; nothing else grows with the tenant."""
    walk = _Scan(directory, rules, now)
    for user, profile in people:
        for finding in walk.person(user, profile):
            yield _exempt(finding, rules.exemptions, directory, now, user)
    late = chain(walk.inventories(), _orphan_spend(issues), _unknown_approvers(references, walk))
    for finding in late:
        yield _exempt(finding, rules.exemptions, directory, now, None)


def _terminated_active(
    user: User, roles: list[str], priv: list[str], now: datetime
) -> Iterator[Finding]:
    if not (user.active and user.terminated(now)):
        return
    assert user.termination_date is not None
    extra = f" and holds privileged roles {', '.join(priv)}" if priv else ""
    yield Finding(
        f"TERMINATED_ACTIVE:{user.id}",
        "TERMINATED_ACTIVE",
        "critical" if priv else "high",
        "Terminated but still active",
        f"{_name(user)} is still active although their termination date "
        f"{user.termination_date.date().isoformat()} has passed{extra}.",
        (user.id,),
        tuple(roles),
    )


def _termination_due(user: User, roles: list[str], now: datetime) -> Iterator[Finding]:
    end = user.termination_date
    if user.active and end is not None and now < end <= now + DUE_SOON:
        yield Finding(
            f"TERMINATION_DUE:{user.id}",
            "TERMINATION_DUE",
            "low",
            "Termination due soon",
            f"{_name(user)} is due to leave on {end.date().isoformat()}; check that "
            "their access is removed that day.",
            (user.id,),
            tuple(roles),
        )


def _inactive_privileged(user: User, priv: list[str]) -> Iterator[Finding]:
    if not user.active and priv:
        yield Finding(
            f"INACTIVE_PRIVILEGED:{user.id}",
            "INACTIVE_PRIVILEGED",
            "medium",
            "Inactive user with privileged roles",
            f"{_name(user)} is inactive but still holds privileged roles "
            f"{', '.join(priv)}, which return if the account is reactivated.",
            (user.id,),
            tuple(priv),
        )


def _privileged_inventory(holders: dict[str, dict[str, bool]]) -> Iterator[Finding]:
    for code in sorted(holders):
        users = holders[code]
        n_wide = sum(1 for w in users.values() if w)
        yield Finding(
            f"PRIVILEGED_ROLE:{code}",
            "PRIVILEGED_ROLE",
            "info",
            f"Privileged role {code}",
            f"{_users(len(users))} hold the privileged role {role_info(code).name} ({code}): "
            f"{n_wide} company-wide and {len(users) - n_wide} scoped to role groups.",
            tuple(sorted(users)),
            (code,),
        )


def _users(n: int) -> str:
    return "1 user" if n == 1 else f"{n} users"


def _sod(user: User, held: list[str], rules: Iterable[SodRule]) -> Iterator[Finding]:
    for rule, sides in conflicts(held, rules):
        codes = sorted({c for side in sides for c in side})
        yield Finding(
            f"{rule.id}:{user.id}",
            rule.id,
            rule.severity,
            rule.title,
            f"{_name(user)} holds {' and '.join(', '.join(s) for s in sides)}, so they {rule.why}.",
            (user.id,),
            tuple(codes),
        )


def conflicts(
    held: Iterable[str], rules: Iterable[SodRule]
) -> Iterator[tuple[SodRule, list[list[str]]]]:
    """The SoD rules the role codes ``held`` break, each with the codes on each side (a
    rule is broken when every side has one); what the SoD findings and ``diff`` apply."""
    held = sorted(set(held))
    for rule in rules:
        sides = [[c for c in held if _matches(c, entry)] for entry in rule.conflict]
        if all(sides):
            yield rule, sides


def _matches(code: str, side: tuple[str, ...]) -> bool:
    """``code`` is one of ``side``'s codes, or of a category it names as ``@category``."""
    category = role_info(code).category
    return any(entry == code or entry == f"@{category}" for entry in side)


def _broken_approver(approver: User | None, now: datetime) -> tuple[str, Severity, str] | None:
    """Rule, severity and what is wrong with an approver; None when nothing is."""
    if approver is None:
        return "APPROVER_UNKNOWN", "high", "is not a known Concur user"
    if not approver.active:
        return "APPROVER_INACTIVE", "medium", "is inactive"
    if approver.terminated(now):
        return "APPROVER_TERMINATED", "medium", "has a past termination date"
    return None


def _no_email(user: User, roles: list[str]) -> Iterator[Finding]:
    if user.email is None:
        yield Finding(
            f"NO_EMAIL:{user.id}",
            "NO_EMAIL",
            "low" if user.active else "info",
            "No email: cannot be linked to an identity provider",
            f"{_name(user)} has no email address, so Veza cannot link them to their "
            "identity-provider account.",
            (user.id,),
            tuple(roles),
        )


def _unknown_roles(holders: dict[str, set[str]]) -> Iterator[Finding]:
    for code in sorted(holders):
        yield Finding(
            f"UNKNOWN_ROLE:{code}",
            "UNKNOWN_ROLE",
            "low",
            "Unknown role code",
            f"{_users(len(holders[code]))} hold {code}, a role code the catalogue does not know, "
            "so its permissions are shown as uncategorised.",
            tuple(sorted(holders[code])),
            (code,),
        )


def _orphan_spend(issues: Iterable[DataIssue]) -> Iterator[Finding]:
    for issue in issues:
        if issue.kind == IssueKind.ORPHAN_SPEND_RECORD:
            yield Finding(
                f"ORPHAN_SPEND:{issue.subject}",
                "ORPHAN_SPEND",
                "medium",
                "Spend record with no identity",
                f"Concur Spend has a record for {issue.subject} but Identity has no such user, "
                "so its roles are not published.",
                (issue.subject,),
            )


def _unknown_approvers(references: Iterable[UnknownReference], walk: _Scan) -> Iterator[Finding]:
    """An approver Identity does not list (by id or by employee number): discovery left the
    edge out of the picture (``concur.references``), and the user's items of those kinds have
    no approver Concur can name. One finding per user and approver, kinds together (the
    references of one snapshot are bounded like its issues: read once, kept here)."""
    kinds: dict[tuple[str, str], list[str]] = defaultdict(list)
    refs: dict[tuple[str, str], UnknownReference] = {}
    for ref in references:
        if ref.relation != "approver":
            continue
        user = walk.dir.user(ref.user_id)
        if user is not None and user.active:
            key = (ref.user_id, ref.value or f"employeeNumber:{ref.employee_number or ''}")
            kinds[key].append(ref.kind)
            refs.setdefault(key, ref)
    for key, ref in refs.items():
        what = "/".join(sorted(set(kinds[key])))
        yield Finding(
            f"APPROVER_UNKNOWN:{key[0]}:{key[1]}",
            "APPROVER_UNKNOWN",
            "high",
            "Broken approval chain",
            f"The {what} approver of {walk.name(ref.user_id)}, {ref.target}, {ref.reason}, so "
            "their items may go unapproved or be approved by someone who has left.",
            (ref.user_id, ref.value) if ref.value else (ref.user_id,),
        )


def _exempt(
    finding: Finding,
    exemptions: Iterable[Exemption],
    directory: Directory,
    now: datetime,
    current: User | None,
) -> Finding:
    candidates = [ex for ex in exemptions if ex.rule == finding.rule and ex.active(now)]
    if not candidates:
        return finding
    subject = finding.user_ids[0] if finding.user_ids else ""
    user = current if current is not None and current.id == subject else directory.user(subject)
    names = {subject.lower()}
    if user is not None:
        names |= {n.lower() for n in (user.user_name, user.email) if n}
    for ex in candidates:
        if ex.user.lower() in names:
            return replace(finding, exemption=ex)
    return finding


def counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Non-exempted findings per severity, every severity present."""
    result = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        if f.exemption is None:
            result[f.severity] += 1
    return result


def summary_line(findings: list[Finding]) -> str:
    """e.g. ``12 findings: 1 critical, 3 high, 5 medium, 2 low, 1 info (2 exempted)``."""
    return summary_text(counts(findings), sum(1 for f in findings if f.exemption is not None))


def summary_text(by: dict[Severity, int], exempted: int) -> str:
    """``summary_line`` from the counts: open findings per severity and the exempted ones."""
    text = f"{sum(by.values())} findings: " + ", ".join(f"{n} {s}" for s, n in by.items())
    return text + (f" ({exempted} exempted)" if exempted else "")


def at_or_above(findings: Iterable[Finding], severity: Severity) -> list[Finding]:
    """Non-exempted findings of ``severity`` or worse (for ``--fail-on``)."""
    limit = SEVERITIES.index(severity)
    return [f for f in findings if f.exemption is None and SEVERITIES.index(f.severity) <= limit]
