"""A fake Veza tenant over HTTPS (a trustme CA), serving just the OAA API that oaaclient calls.

Routes: ``GET /api/v1/providers/custom/templates``, ``GET|POST /api/v1/providers/custom``
(``filter=name eq "X"``), ``GET|POST /api/v1/providers/custom/{id}/datasources`` and
``POST .../datasources/{dsid}:push`` (gzip+base64 ``json_data`` is decoded and kept).
Every request needs ``authorization: Bearer <api_key>``, else 401.

Scriptable faults: ``fail_next(n, status, on=":push")`` answers the next ``n`` matching requests
with ``status``; ``details`` adds Veza-style per-field problems to the error body and
``retry_after`` a ``Retry-After`` header. ``warnings`` are returned by every successful push.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

API_KEY = "fake-veza-api-key-7f3a9c1e5b"
_FILTER = re.compile(r'^name eq "(.*)"$')


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None


@dataclass
class _Fault:
    remaining: int
    status: int
    on: str
    details: list[dict[str, Any]] = field(default_factory=list)
    message: str = "fault injected by the fake Veza"
    retry_after: str | None = None


class FakeVeza:
    """State of the fake tenant; ``serve()`` runs it on 127.0.0.1 over TLS."""

    def __init__(self, ca: trustme.CA, ca_path: Path, api_key: str = API_KEY) -> None:
        self.ca, self.ca_path, self.api_key = ca, ca_path, api_key
        self.providers: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, dict[str, dict[str, Any]]] = {}
        self.pushes: list[dict[str, Any]] = []
        """Each push: {"provider_id", "data_source_id", "payload" (decoded), "body"}."""
        self.requests: list[Request] = []
        self.warnings: list[dict[str, str]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- scripting -------------------------------------------------------------------------
    def fail_next(
        self,
        n: int,
        status: int,
        *,
        on: str = ":push",
        details: list[dict[str, Any]] | None = None,
        message: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests whose path contains ``on`` with ``status``."""
        fault = _Fault(n, status, on, details or [], retry_after=retry_after)
        if message:
            fault.message = message
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.on in path:
                    fault.remaining -= 1
                    return fault
        return None

    # --- the API ---------------------------------------------------------------------------
    def handle(self, req: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) of the answer to ``req``."""
        with self._lock:
            self.requests.append(req)
        if req.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"code": "Unauthenticated", "message": "invalid API key", "details": []}, {}
        fault = self._take_fault(req.path)
        if fault is not None:
            body = {"code": "Fault", "message": fault.message, "details": fault.details}
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, body, headers
        return *self._route(req), {}

    def _route(self, req: Request) -> tuple[int, dict[str, Any]]:
        parts = req.path.strip("/").split("/")
        if parts[:4] != ["api", "v1", "providers", "custom"]:
            return 404, {"code": "NotFound", "message": f"no route {req.path}"}
        rest = parts[4:]
        if rest == ["templates"] and req.method == "GET":
            return 200, {"values": [{"id": "application"}, {"id": "identity_provider"}]}
        if not rest:
            return self._providers(req)
        if len(rest) == 2 and rest[1] == "datasources":
            return self._data_sources(req, rest[0])
        if len(rest) == 3 and rest[1] == "datasources" and rest[2].endswith(":push"):
            return self._push(req, rest[0], rest[2].removesuffix(":push"))
        return 404, {"code": "NotFound", "message": f"no route {req.path}"}

    def _providers(self, req: Request) -> tuple[int, dict[str, Any]]:
        if req.method == "POST":
            provider = {
                "id": str(uuid.uuid4()),
                "name": req.body["name"],
                "custom_template": req.body["custom_template"],
            }
            self.providers[provider["id"]] = provider
            self.data_sources[provider["id"]] = {}
            return 200, {"value": provider}
        return 200, {"values": _filtered(list(self.providers.values()), req)}

    def _data_sources(self, req: Request, provider_id: str) -> tuple[int, dict[str, Any]]:
        if provider_id not in self.providers:
            return 404, {"code": "NotFound", "message": "no such provider"}
        sources = self.data_sources[provider_id]
        if req.method == "POST":
            ds = {"id": str(uuid.uuid4()), "name": req.body["name"], "status": "PENDING"}
            sources[ds["id"]] = ds
            return 200, {"value": ds}
        return 200, {"values": _filtered(list(sources.values()), req)}

    def _push(self, req: Request, provider_id: str, ds_id: str) -> tuple[int, dict[str, Any]]:
        if ds_id not in self.data_sources.get(provider_id, {}):
            return 404, {"code": "NotFound", "message": "no such data source"}
        data = req.body["json_data"]
        if req.body.get("compression_type") == "GZIP":
            data = gzip.decompress(base64.b64decode(data)).decode()
        self.pushes.append(
            {
                "provider_id": provider_id,
                "data_source_id": ds_id,
                "payload": json.loads(data),
                "body": req.body,
            }
        )
        return 200, {"id": provider_id, "warnings": list(self.warnings)}

    # --- serving ---------------------------------------------------------------------------
    def serve(self) -> Iterator[FakeVeza]:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _filtered(items: list[dict[str, Any]], req: Request) -> list[dict[str, Any]]:
    wanted = req.query.get("filter", [None])[0]
    match = _FILTER.match(wanted) if wanted else None
    if wanted and not match:
        return []
    return [i for i in items if not match or i["name"] == match.group(1)]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVeza
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        req = Request(
            self.command,
            split.path,
            parse_qs(split.query),
            {k.lower(): v for k, v in self.headers.items()},
            json.loads(raw) if raw else None,
        )
        status, body, headers = self.fake.handle(req)
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="session")
def veza_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("veza-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture
def fake_veza(veza_ca: tuple[trustme.CA, Path]) -> Iterator[FakeVeza]:
    """A running fake Veza: ``.url``, ``.api_key``, ``.ca_path``, ``.pushes``, ``.requests``."""
    ca, path = veza_ca
    yield from FakeVeza(ca, path).serve()
