"""SCIM attribute projection for Identity users: scopes, `attributes`, request-only fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oaa_concur.simulator.records import CORE, ENTERPRISE, SAP


class BadRequest(Exception):
    """A SCIM 400 (invalidValue/invalidFilter/invalidSyntax) with its detail."""

    def __init__(self, detail: str, scim_type: str = "invalidValue") -> None:
        super().__init__(detail)
        self.detail = detail
        self.scim_type = scim_type


IDS, CORE_S = "identity.user.ids.read", "identity.user.core.read"
SENSITIVE, ENT_S = "identity.user.coresensitive.read", "identity.user.enterprise.read"
SAP_S = "identity.user.sap.read"
IDENTITY_SCOPES = frozenset({IDS, CORE_S, SENSITIVE, ENT_S, SAP_S})
# Which scope grants which top-level attribute (concur-api.md §3.7).
FIELD_SCOPE: dict[str, str] = {
    "userName": IDS,
    "externalId": IDS,
    "active": CORE_S,
    "displayName": CORE_S,
    "name": CORE_S,
    "nickName": CORE_S,
    "title": CORE_S,
    "timezone": CORE_S,
    "preferredLanguage": CORE_S,
    "meta": CORE_S,
    "localeOverrides": CORE_S,
    "emails": SENSITIVE,
    "phoneNumbers": SENSITIVE,
    "addresses": SENSITIVE,
    "dateOfBirth": SENSITIVE,
    "emergencyContacts": SENSITIVE,
    "entitlements": ENT_S,
    ENTERPRISE: ENT_S,
    SAP: SAP_S,
}
ALWAYS = ("schemas", "id")
REQUEST_ONLY = frozenset({"entitlements"})  # v4.1 "Request Only" attributes (§3.4)
KNOWN = frozenset(FIELD_SCOPE) | frozenset(ALWAYS)

# Selection: top-level key -> None (whole value) or the set of sub-attribute names.
Selection = dict[str, set[str] | None]


def parse_attributes(names: Iterable[str]) -> Selection:
    """Turn SCIM attribute paths (incl. extension URNs) into a selection; unknown -> 400."""
    selection: Selection = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        key, sub = _split_path(name)
        if key not in KNOWN:
            raise BadRequest(f"Invalid attribute path [{raw}]")
        if sub is None or selection.get(key, set()) is None:
            selection[key] = None
        else:
            current = selection.setdefault(key, set())
            assert current is not None
            current.add(sub)
    return selection


def _split_path(name: str) -> tuple[str, str | None]:
    for urn in (ENTERPRISE, SAP):
        if name.lower() == urn.lower():
            return urn, None
        if name.lower().startswith(urn.lower() + ":"):
            return urn, name[len(urn) + 1 :]
    if name.lower().startswith(CORE.lower() + ":"):
        name = name[len(CORE) + 1 :]
    top, _, sub = name.partition(".")
    canonical = _CANONICAL.get(top.lower(), top)
    return canonical, (sub or None)


_CANONICAL = {k.lower(): k for k in KNOWN}


def project(
    user: dict[str, Any],
    scopes: frozenset[str],
    selection: Selection | None,
    excluded: Selection | None = None,
) -> dict[str, Any]:
    """The user as this app may see it: scope-less fields silently omitted (§3.7)."""
    out: dict[str, Any] = {}
    for key, value in user.items():
        if key not in ALWAYS and FIELD_SCOPE.get(key, IDS) not in scopes:
            continue
        if key in ALWAYS:
            out[key] = value
        elif selection is not None:
            if key in selection:
                out[key] = _sub(value, selection[key])
        elif key not in REQUEST_ONLY and not (excluded and excluded.get(key, 0) is None):
            out[key] = value
    return out


def _sub(value: Any, subs: set[str] | None) -> Any:
    if subs is None or value is None:
        return value
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in subs}
    if isinstance(value, list):
        return [_sub(item, subs) for item in value]
    return value
