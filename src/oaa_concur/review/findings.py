"""Access-review findings over one ``DiscoveryResult``: pure functions, ``now`` injected.

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

from oaa_concur.catalogue import role_info
from oaa_concur.models import DiscoveryResult, IssueKind, UnknownReference, User
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


class _Index:
    """Look-ups shared by the checks."""

    def __init__(self, result: DiscoveryResult, now: datetime) -> None:
        self.now = now
        self.users = {u.id: u for u in result.users}
        self.spend = result.spend
        self.approvers_of: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for profile in result.spend.values():
            for edge in profile.approvers:
                self.approvers_of[edge.user_id][edge.approver_id].append(edge.kind)

    def name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return f"{user.name} ({user_id})" if user else user_id

    def roles(self, user_id: str) -> list[str]:
        profile = self.spend.get(user_id)
        return sorted({g.role_code for g in profile.roles}) if profile else []

    def privileged(self, user_id: str) -> list[str]:
        return [c for c in self.roles(user_id) if role_info(c).privileged]


def find(result: DiscoveryResult, rules: RuleSet, *, now: datetime) -> list[Finding]:
    """Every finding, most severe first, with active exemptions attached."""
    ix = _Index(result, now)
    found: list[Finding] = []
    for check in (
        _terminated_active,
        _termination_due,
        _inactive_privileged,
        _privileged_inventory,
        _approval_chains,
        _delegate_self_approval,
        _no_email,
        _unknown_roles,
    ):
        found.extend(check(ix))
    found.extend(_sod(ix, rules.rules))
    found.extend(_orphan_spend(result))
    found.extend(_unknown_approvers(result, ix))
    exempted = [_exempt(f, rules.exemptions, ix) for f in found]
    return sorted(exempted, key=lambda f: (SEVERITIES.index(f.severity), f.id))


def _terminated_active(ix: _Index) -> Iterator[Finding]:
    for user in ix.users.values():
        if not (user.active and user.terminated(ix.now)):
            continue
        assert user.termination_date is not None
        priv = ix.privileged(user.id)
        extra = f" and holds privileged roles {', '.join(priv)}" if priv else ""
        yield Finding(
            f"TERMINATED_ACTIVE:{user.id}",
            "TERMINATED_ACTIVE",
            "critical" if priv else "high",
            "Terminated but still active",
            f"{ix.name(user.id)} is still active although their termination date "
            f"{user.termination_date.date().isoformat()} has passed{extra}.",
            (user.id,),
            tuple(ix.roles(user.id)),
        )


def _termination_due(ix: _Index) -> Iterator[Finding]:
    for user in ix.users.values():
        end = user.termination_date
        if user.active and end is not None and ix.now < end <= ix.now + DUE_SOON:
            yield Finding(
                f"TERMINATION_DUE:{user.id}",
                "TERMINATION_DUE",
                "low",
                "Termination due soon",
                f"{ix.name(user.id)} is due to leave on {end.date().isoformat()}; check that "
                "their access is removed that day.",
                (user.id,),
                tuple(ix.roles(user.id)),
            )


def _inactive_privileged(ix: _Index) -> Iterator[Finding]:
    for user in ix.users.values():
        priv = ix.privileged(user.id)
        if not user.active and priv:
            yield Finding(
                f"INACTIVE_PRIVILEGED:{user.id}",
                "INACTIVE_PRIVILEGED",
                "medium",
                "Inactive user with privileged roles",
                f"{ix.name(user.id)} is inactive but still holds privileged roles "
                f"{', '.join(priv)}, which return if the account is reactivated.",
                (user.id,),
                tuple(priv),
            )


def _privileged_inventory(ix: _Index) -> Iterator[Finding]:
    holders: dict[str, dict[str, bool]] = defaultdict(dict)  # code -> user -> company-wide
    for profile in ix.spend.values():
        for grant in profile.roles:
            if role_info(grant.role_code).privileged:
                wide = holders[grant.role_code].get(profile.user_id, False)
                holders[grant.role_code][profile.user_id] = wide or grant.company_wide
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


def _sod(ix: _Index, rules: Iterable[SodRule]) -> Iterator[Finding]:
    rules = list(rules)
    for user_id in ix.spend:
        user = ix.users.get(user_id)
        if user is None or not user.active:
            continue
        for rule, sides in conflicts(ix.roles(user_id), rules):
            codes = sorted({c for side in sides for c in side})
            yield Finding(
                f"{rule.id}:{user_id}",
                rule.id,
                rule.severity,
                rule.title,
                f"{ix.name(user_id)} holds {' and '.join(', '.join(s) for s in sides)}, "
                f"so they {rule.why}.",
                (user_id,),
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


def _approval_chains(ix: _Index) -> Iterator[Finding]:
    for user_id, by_approver in ix.approvers_of.items():
        user = ix.users.get(user_id)
        if user is None or not user.active:
            continue
        for approver_id, kinds in by_approver.items():
            finding = _chain_finding(ix, user_id, approver_id, sorted(set(kinds)))
            if finding is not None:
                yield finding


def _chain_finding(ix: _Index, user_id: str, approver_id: str, kinds: list[str]) -> Finding | None:
    what = f"{'/'.join(kinds)} approver"
    who = ix.name(user_id)
    if approver_id == user_id:
        return Finding(
            f"SELF_APPROVAL:{user_id}",
            "SELF_APPROVAL",
            "high",
            "Self-approval",
            f"{who} is their own {what}, so they can approve their own items.",
            (user_id,),
            tuple(ix.roles(user_id)),
        )
    broken = _broken_approver(ix.users.get(approver_id), ix.now)
    if broken is None:
        return None
    rule, severity, state = broken
    return Finding(
        f"{rule}:{user_id}:{approver_id}",
        rule,
        severity,
        "Broken approval chain",
        f"The {what} of {who}, {ix.name(approver_id)}, {state}, so their items may go "
        "unapproved or be approved by someone who has left.",
        (user_id, approver_id),
    )


def _broken_approver(approver: User | None, now: datetime) -> tuple[str, Severity, str] | None:
    """Rule, severity and what is wrong with an approver; None when nothing is."""
    if approver is None:
        return "APPROVER_UNKNOWN", "high", "is not a known Concur user"
    if not approver.active:
        return "APPROVER_INACTIVE", "medium", "is inactive"
    if approver.terminated(now):
        return "APPROVER_TERMINATED", "medium", "has a past termination date"
    return None


def _delegate_self_approval(ix: _Index) -> Iterator[Finding]:
    for profile in ix.spend.values():
        for edge in profile.delegates:
            delegate = ix.users.get(edge.delegate_id)
            in_force = edge.state(ix.now) == "in_force"
            if not (edge.can_approve and delegate and delegate.active and in_force):
                continue
            kinds = ix.approvers_of.get(edge.delegate_id, {}).get(profile.user_id)
            if kinds:
                d, a = edge.delegate_id, profile.user_id
                yield Finding(
                    f"DELEGATE_SELF_APPROVAL:{d}:{a}",
                    "DELEGATE_SELF_APPROVAL",
                    "high",
                    "Delegate can approve for their own approver",
                    f"{ix.name(d)} can approve as delegate of {ix.name(a)}, who is their own "
                    f"{'/'.join(sorted(set(kinds)))} approver, so they can approve their own "
                    "items.",
                    (d, a),
                )


def _no_email(ix: _Index) -> Iterator[Finding]:
    for user in ix.users.values():
        if user.email is None:
            yield Finding(
                f"NO_EMAIL:{user.id}",
                "NO_EMAIL",
                "low" if user.active else "info",
                "No email: cannot be linked to an identity provider",
                f"{ix.name(user.id)} has no email address, so Veza cannot link them to their "
                "identity-provider account.",
                (user.id,),
                tuple(ix.roles(user.id)),
            )


def _unknown_roles(ix: _Index) -> Iterator[Finding]:
    holders: dict[str, set[str]] = defaultdict(set)
    for profile in ix.spend.values():
        for grant in profile.roles:
            if not role_info(grant.role_code).known:
                holders[grant.role_code].add(profile.user_id)
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


def _orphan_spend(result: DiscoveryResult) -> Iterator[Finding]:
    for issue in result.issues:
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


def _unknown_approvers(result: DiscoveryResult, ix: _Index) -> Iterator[Finding]:
    """An approver Identity does not list (by id or by employee number): discovery left the
    edge out of the picture (``concur.references``), and the user's items of those kinds have
    no approver Concur can name. One finding per user and approver, kinds together."""
    kinds: dict[tuple[str, str], list[str]] = defaultdict(list)
    refs: dict[tuple[str, str], UnknownReference] = {}
    for ref in result.unknown_references:
        user = ix.users.get(ref.user_id)
        if ref.relation == "approver" and user is not None and user.active:
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
            f"The {what} approver of {ix.name(ref.user_id)}, {ref.target}, {ref.reason}, so "
            "their items may go unapproved or be approved by someone who has left.",
            (ref.user_id, ref.value) if ref.value else (ref.user_id,),
        )


def _exempt(finding: Finding, exemptions: Iterable[Exemption], ix: _Index) -> Finding:
    subject = finding.user_ids[0] if finding.user_ids else ""
    user = ix.users.get(subject)
    names = {subject.lower()}
    if user is not None:
        names |= {n.lower() for n in (user.user_name, user.email) if n}
    for ex in exemptions:
        if ex.rule == finding.rule and ex.user.lower() in names and ex.active(ix.now):
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
    by = counts(findings)
    exempted = sum(1 for f in findings if f.exemption is not None)
    text = f"{sum(by.values())} findings: " + ", ".join(f"{n} {s}" for s, n in by.items())
    return text + (f" ({exempted} exempted)" if exempted else "")


def at_or_above(findings: Iterable[Finding], severity: Severity) -> list[Finding]:
    """Non-exempted findings of ``severity`` or worse (for ``--fail-on``)."""
    limit = SEVERITIES.index(severity)
    return [f for f in findings if f.exemption is None and SEVERITIES.index(f.severity) <= limit]
