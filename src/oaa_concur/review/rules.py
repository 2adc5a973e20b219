"""Separation-of-duties rules and exemptions: the shipped defaults plus a user's TOML file.

A rule fires for a user who holds at least one role of every list in ``conflict``; an entry
``"@<category>"`` (e.g. ``"@approver"``) stands for any role of that catalogue category. A
user's file adds rules (same id = replaces the shipped one), disables shipped ones and lists
exemptions ``{user, rule, reason, expires}``; an exemption stops applying the day after it
expires. Anything malformed is a ``ConfigError`` that names the file and the entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn, get_args

from oaa_concur.errors import ConfigError

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Most severe first: ``SEVERITIES.index`` is a finding's rank (docs/review.md)."""
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_RULE_KEYS = {"id", "severity", "title", "why", "conflict"}
_EXEMPTION_KEYS = {"user", "rule", "reason", "expires"}


@dataclass(frozen=True, slots=True)
class SodRule:
    id: str
    severity: Severity
    title: str
    why: str
    """Completes "<user> ...": what the combination lets one person do."""
    conflict: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Exemption:
    user: str
    """A user id, userName or email (compared case-insensitively)."""
    rule: str
    """The finding rule it exempts: an SoD rule id or another finding rule (SELF_APPROVAL...)."""
    reason: str
    expires: date

    def active(self, now: datetime) -> bool:
        return now.date() <= self.expires


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[SodRule, ...]
    exemptions: tuple[Exemption, ...] = ()
    source: str = "shipped defaults"


def default_rules() -> RuleSet:
    """The rules shipped in ``oaa_concur/review/data/sod_rules.toml``."""
    text = resources.files("oaa_concur.review").joinpath("data/sod_rules.toml").read_text("utf-8")
    rules, _, _ = _parse(tomllib.loads(text), "the shipped sod_rules.toml")
    return RuleSet(rules=rules)


def load_rules(path: Path | None) -> RuleSet:
    """The shipped rules merged with the user's file at ``path`` (None: defaults only)."""
    base = default_rules()
    if path is None:
        return base
    rules, disabled, exemptions = _parse(_read(path), str(path))
    own = {r.id for r in rules}
    unknown = disabled - {r.id for r in base.rules}
    if unknown:
        raise ConfigError(
            f"The rules file {path} disables unknown rules {sorted(unknown)}",
            "use the ids listed in docs/review.md",
        )
    kept = tuple(r for r in base.rules if r.id not in own and r.id not in disabled)
    return RuleSet(rules=kept + rules, exemptions=exemptions, source=f"defaults + {path}")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The rules file {path} does not exist", "check --rules") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The rules file {path} is not valid TOML ({exc})", "fix the syntax and run again"
        ) from None
    except OSError as exc:
        raise ConfigError(f"The rules file {path} cannot be read ({exc.strerror})") from None


def _parse(
    data: dict[str, Any], where: str
) -> tuple[tuple[SodRule, ...], set[str], tuple[Exemption, ...]]:
    extra = set(data) - {"rules", "exemptions", "disable"}
    if extra:
        _bad(where, f"has unknown top-level keys {sorted(extra)}")
    rules = tuple(_rule(r, where, i) for i, r in enumerate(_tables(data, "rules", where)))
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        _bad(where, "defines the same rule id twice")
    disabled = data.get("disable", [])
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        _bad(where, "has a `disable` that is not a list of rule ids")
    exemptions = tuple(
        _exemption(e, where, i) for i, e in enumerate(_tables(data, "exemptions", where))
    )
    return rules, set(disabled), exemptions


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        _bad(where, f"has a `{key}` that is not an array of tables ([[{key}]])")
    return list(items)


def _rule(raw: dict[str, Any], where: str, index: int) -> SodRule:
    at = f"rule #{index + 1}"
    _check_keys(raw, _RULE_KEYS, _RULE_KEYS, where, at)
    rule_id = _text(raw, "id", where, at)
    if not _ID.match(rule_id):
        _bad(where, f"{at}: id {rule_id!r} may use only letters, digits, '_', '.' and '-'")
    severity = _severity(_text(raw, "severity", where, at), where, at)
    conflict = raw["conflict"]
    if (
        not isinstance(conflict, list)
        or len(conflict) < 2
        or not all(
            isinstance(side, list) and side and all(isinstance(c, str) and c for c in side)
            for side in conflict
        )
    ):
        _bad(where, f"{at}: conflict must be a list of at least two non-empty lists of role codes")
    return SodRule(
        rule_id,
        severity,
        _text(raw, "title", where, at),
        _text(raw, "why", where, at),
        tuple(tuple(side) for side in conflict),
    )


def _severity(text: str, where: str, at: str) -> Severity:
    for severity in SEVERITIES:
        if text == severity:
            return severity
    _bad(where, f"{at}: severity must be one of {', '.join(SEVERITIES)}")


def _exemption(raw: dict[str, Any], where: str, index: int) -> Exemption:
    at = f"exemption #{index + 1}"
    _check_keys(raw, _EXEMPTION_KEYS, _EXEMPTION_KEYS, where, at)
    expires = raw["expires"]
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            _bad(where, f"{at}: expires must be a date like 2026-12-31")
    if isinstance(expires, datetime):
        expires = expires.date()
    if not isinstance(expires, date):
        _bad(where, f"{at}: expires must be a date like 2026-12-31")
    return Exemption(
        _text(raw, "user", where, at),
        _text(raw, "rule", where, at),
        _text(raw, "reason", where, at),
        expires,
    )


def _check_keys(
    raw: dict[str, Any], allowed: set[str], required: set[str], where: str, at: str
) -> None:
    unknown, missing = set(raw) - allowed, required - set(raw)
    if unknown:
        _bad(where, f"{at}: unknown keys {sorted(unknown)}")
    if missing:
        _bad(where, f"{at}: missing keys {sorted(missing)}")


def _text(raw: dict[str, Any], key: str, where: str, at: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        _bad(where, f"{at}: {key} must be a non-empty string")
    return str(value).strip()


def _bad(where: str, what: str) -> NoReturn:
    raise ConfigError(f"The rules file {where} {what}", "fix it (docs/review.md shows the format)")
