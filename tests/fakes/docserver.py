"""A small Concur made only of the documented examples (tests/fixtures/concur_docs/).

Concur's docs contain no complete tenant; the fixture README names the only examples whose
Identity and Spend records refer to each other by id ("Files that form a tenant"). ``TENANT_A``
(the Enterprise eReceipt guide) and ``TENANT_B`` (User Provisioning v4 "Retrieve User Profile
Data") are assembled from those files as the README says: every Identity user of the tenant in
one ``.search`` page (the documented ``nextCursor`` is a truncated placeholder, so it is
dropped), the Spend records in one list page whose ``totalResults`` is the number served. The
records and the token response are served byte for byte as documented; nothing else is made up.

``DocServer`` is a Starlette app reached through ``httpx.ASGITransport`` (``transport()``, the
CLI's ``Runtime.concur_transport``): no socket, so the documented hosts can be served as they
are: the first token request arrives at the default ``CONCUR_URL`` and every later call at the
token response's ``geolocation`` (``us2.api.concursolutions.com`` for tenant A). ``script``
queues answers a route gives before its documented one (the 403 and 400 conditions of
``api-reference/http-status-codes.markdown``), ``deprecate`` adds the release notes'
``x-api-warn``/``sunset`` headers to a route, ``refuse_attributes`` answers 400 to a Spend list
asked with ``attributes``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FIXTURES = Path(__file__).parents[1] / "fixtures" / "concur_docs"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TOKEN = "ereceipts-enterprise-guide__app-center-flow__password-grant-response.json"
"""The token answer every tenant gets. Its values are ``{access_token}``-style placeholders;
the authentication page's examples (``"access_token": "access_token"``) would register the
words ``access_token`` and ``refresh_token`` as secrets for the rest of the test process
(``redact.register`` is process-wide), masking them in every later log line."""


def fixture(name: str) -> Any:
    """A documented example, parsed (``.json``) or as text (``.http``)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def header_lines(name: str) -> dict[str, str]:
    """The ``name: value`` lines of an ``.http`` fixture (a status line is skipped)."""
    found = {}
    for line in fixture(name).splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("HTTP/") and " " not in key.strip():
            found[key.strip().lower()] = value.strip()
    return found


@dataclass(frozen=True)
class DocTenant:
    """A token answer, Identity users and Spend records, each as documented."""

    name: str
    token: dict[str, Any]
    identity: list[dict[str, Any]]
    spend: list[dict[str, Any]]

    @property
    def access_token(self) -> str:
        return str(self.token["access_token"])


def tenant_a() -> DocTenant:
    """Company e693e3d8-...: 046b3a2d (Identity only), e81b768e (both), 511a3ed6 (named as
    manager, biManager and approver, but in no Identity example: dangling)."""
    guide = "ereceipts-enterprise-guide__"
    page = fixture(guide + "getting-all-active-users__response.json")
    one = fixture(guide + "get-the-employee-data-using-identity-v4.1__response.json")
    spend = fixture(guide + "maintaining-roster__spend-list-response.json")
    return DocTenant(
        "A",
        fixture(TOKEN),
        [*page["Resources"], one],
        list(spend["Resources"]),
    )


def tenant_b() -> DocTenant:
    """User 8f545a90-...: report and budget approver 7a183cbe-... (dangling); the token answer
    is tenant A's (the UPS page prints none)."""
    ups = "user-provisioning-v4__retrieve-user-profile-data__"
    return DocTenant(
        "B",
        fixture(TOKEN),
        [fixture(ups + "identity-response.json")],
        [fixture(ups + "spend-response.json")],
    )


def identity_like(user_id: str, employee_number: str, name: str) -> dict[str, Any]:
    """The v4.1.identity.md "Retrieve a User's Identity Profile" example user with another id,
    employee number, name and e-mail (ours: the docs print no user these references name)."""
    user: dict[str, Any] = fixture(
        "identity-v4.1__retrieve-a-users-identity-profile__response.json"
    )
    login = f"{name.lower().replace(' ', '.')}@example.com"
    user |= {"id": user_id, "displayName": name, "userName": login}
    user["emails"] = [{"value": login, "type": "work", "verified": False}]
    user[ENTERPRISE] = {**user[ENTERPRISE], "employeeNumber": employee_number}
    return user


def tenant_provisioning() -> DocTenant:
    """Ours, from documented pieces: the only documented Spend shapes with delegates,
    temporary delegations, ApproverLimit and references by employeeNumber are provisioning
    REQUESTS, so their user bodies are served as Spend records (with an id), next to the two
    records of the v4.1 list example (``processorReportAccess`` COMPLETE). The Identity users
    are ``identity_like`` copies carrying the employee numbers the references use, but for
    ``reportApprover``, which stays unknown. Token: ``TOKEN``.

    * ``PROV_CHRIS`` (spend-user-provisioning "Create ... POST"): request approver by
      employeeNumber ``requestApprover`` (primary), report approver ``reportApprover`` (not
      primary, nobody), an expense delegate by ``expenseDelegate`` with all nine flags whose
      ``temporaryDelegatation`` window ended on 2020-02-19;
    * ``PROV_JOHN`` (user-provisioning "Create a new user"): report approver ``d1eb15c1-...``
      (value + employeeNumber 37480) and two approval limits.
    """
    bulk = fixture("spend-user-provisioning__create-post__bulk-request.json")
    chris = {"id": PROV_CHRIS, **bulk["Operations"][0]["data"]}
    john = {"id": PROV_JOHN, **fixture("user-provisioning-v4__create-user__request.json")}
    listed = fixture("spend-user-v4.1__retrieve-all-users__response.json")["Resources"]
    identity = [
        identity_like(PROV_CHRIS, "3749", "Chris Doe"),
        identity_like(PROV_REQUEST_APPROVER, "requestApprover", "Rita Request"),
        identity_like(PROV_DELEGATE, "expenseDelegate", "Dan Delegate"),
        identity_like(PROV_JOHN, "John4_29_4_EmployeeNumber", "John Four"),
        identity_like(PROV_APPROVER, "37480", "Test Employee"),
        *(identity_like(r["id"], f"list-{i}", f"Listed {i}") for i, r in enumerate(listed)),
    ]
    return DocTenant(
        "P",
        fixture(TOKEN),
        identity,
        [chris, john, *listed],
    )


PROV_CHRIS = "00000000-0000-4000-8000-00000000c415"
PROV_JOHN = "00000000-0000-4000-8000-000000000400"
PROV_REQUEST_APPROVER = "00000000-0000-4000-8000-00000000a001"
PROV_DELEGATE = "00000000-0000-4000-8000-00000000d001"
PROV_APPROVER = "d1eb15c1-ac9b-40d6-b5f7-ea2d2f5ae8a7"


@dataclass(frozen=True)
class Seen:
    """One request the server answered."""

    method: str
    url: str
    params: Mapping[str, str]
    body: Any
    authorization: str | None


@dataclass(frozen=True)
class Canned:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class DocServer:
    """The documented tenant behind an ASGI app; records what it was asked."""

    def __init__(self, tenant: DocTenant, *, refuse_attributes: bool = False) -> None:
        self.tenant = tenant
        self.refuse_attributes = refuse_attributes
        self.seen: list[Seen] = []
        self.scripts: dict[str, list[Canned]] = defaultdict(list)
        self.deprecations: dict[str, dict[str, str]] = {}
        self.tokens_issued = 0
        self.app = Starlette(
            routes=[
                Route("/oauth2/v0/token", self._token, methods=["POST"]),
                Route("/profile/identity/v4.1/Users/.search", self._identity, methods=["POST"]),
                Route("/profile/spend/v4.1/Users", self._spend, methods=["GET"]),
            ]
        )

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def env(self, state: Path) -> dict[str, str]:
        """A scheduled run's environment; CONCUR_URL is left to its default."""
        return {
            "CONCUR_CLIENT_ID": "doc-client-id",
            "CONCUR_CLIENT_SECRET": "doc-client-secret-0000",
            "CONCUR_REFRESH_TOKEN": "doc-refresh-token-0000",
            "OAA_CONCUR_STATE_DIR": str(state),
        }

    def script(self, route: str, status: int, body: str | bytes, **headers: str) -> None:
        """``route`` ("token", "identity", "spend") answers this once before its own answer."""
        raw = body.encode() if isinstance(body, str) else body
        self.scripts[route].append(Canned(status, raw, headers))

    def deprecate(self, route: str, headers: Mapping[str, str]) -> None:
        """Every answer of ``route`` carries ``headers`` (``x-api-warn``, ``sunset``)."""
        self.deprecations[route] = dict(headers)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if httpx.URL(s.url).path == path]

    async def _seen(self, request: Request) -> None:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.seen.append(
            Seen(
                request.method,
                str(request.url),
                dict(request.query_params),
                body,
                request.headers.get("authorization"),
            )
        )

    def _canned(self, route: str) -> Response | None:
        if not self.scripts[route]:
            return None
        canned = self.scripts[route].pop(0)
        return Response(canned.body, canned.status, dict(canned.headers), "application/json")

    def _json(self, route: str, body: Any, status: int = 200) -> Response:
        headers = self.deprecations.get(route, {})
        return Response(json.dumps(body), status, headers, "application/json")

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.tenant.access_token}"

    async def _token(self, request: Request) -> Response:
        await self._seen(request)
        canned = self._canned("token")
        if canned is not None:
            return canned
        self.tokens_issued += 1
        return self._json("token", self.tenant.token)

    async def _identity(self, request: Request) -> Response:
        await self._seen(request)
        if not self._authorized(request):
            return self._json("identity", {"detail": "Unauthorized"}, 401)
        users = self.tenant.identity
        page = {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(users),
            "startIndex": 1,
            "itemsPerPage": len(users),
            "Resources": users,
        }
        return self._canned("identity") or self._json("identity", page)

    async def _spend(self, request: Request) -> Response:
        await self._seen(request)
        if not self._authorized(request):
            return self._json("spend", {"detail": "Unauthorized", "status": 401}, 401)
        if self.refuse_attributes and "attributes" in request.query_params:
            body = {"status": 400, "scimType": "invalidValue", "detail": "Invalid attributes"}
            return self._json("spend", body, 400)
        records = self.tenant.spend
        start = int(request.query_params.get("startIndex", "1"))
        page = {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(records),
            "Resources": records[start - 1 : start - 1 + 100],
            "startIndex": start,
            "itemsPerPage": len(records[start - 1 : start - 1 + 100]),
        }
        return self._canned("spend") or self._json("spend", page)
