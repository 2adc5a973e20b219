"""A fake Veza tenant over HTTPS (a trustme CA), serving just the OAA API that oaaclient calls.

Routes: ``GET /api/v1/providers/custom/templates``, ``GET|POST /api/v1/providers/custom``
(``filter=name eq "X"``), ``GET|POST /api/v1/providers/custom/{id}/datasources``,
``POST .../datasources/{dsid}:push`` (gzip+base64 ``json_data`` is decoded and kept),
``POST .../datasources/{dsid}:parts`` (Veza's multipart push as oaaclient 1.2.0 speaks it:
``start`` -> ``upload_id``, ``upload`` with ``sequence_number`` 1..n and base64 ``data``,
``complete`` with ``sequence_count``; sequence numbers are checked, a part sent again replaces
itself, the parts are spooled to disk and assembled at ``complete``) and
``GET /api/v1/providers/datasources/{dsid}/parse_status`` (the documented parse job:
``{"job_status": {"job_id", "job_type": "PARSE", "state", "status", ...}}``).
Every request needs ``authorization: Bearer <api_key>``, else 401.

Each push starts a parse job, scripted by ``parse`` (a ``ParseScript``): some polls ``PENDING``
/ ``IN_PROGRESS``, then ``COMPLETED`` with ``OK`` (the data source's ``status`` becomes
``SUCCESS``) or another status with messages (``ERROR``), or never (``stuck``). A payload that
is not valid JSON fails its parse job (``INVALID_ARGUMENT``), as Veza would fail it.
``parse_status_route = False`` answers that route 404 (an older Veza).

Scriptable faults: ``fail_next(n, status, on=":push")`` answers the next ``n`` matching requests
with ``status``; ``details`` adds Veza-style per-field problems to the error body and
``retry_after`` a ``Retry-After`` header. ``warnings`` are returned by every successful push.

In its own process (``python -m tests.fakes.veza --info FILE``, for the benchmark) it keeps no
payload in memory: ``keep_payloads = False`` validates each assembled payload as a stream
(``ijson``, counting local users) and ``GET /_fake/summary`` says what
arrived.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import json
import re
import signal
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

API_KEY = "fake-veza-api-key-7f3a9c1e5b"
_FILTER = re.compile(r'^name eq "(.*)"$')
Answer = tuple[int, dict[str, Any]]


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
    skip: int = 0
    """Matching requests to let through before the fault starts."""
    processed: bool = False
    """Carry the request out, then answer the fault (an answer lost after the work was done)."""


@dataclass
class ParseScript:
    """How Veza's parse of the next pushes goes."""

    pending_polls: int = 0
    """Status reads that still see the job running (first ``PENDING``, then ``IN_PROGRESS``)."""
    status: str = "OK"
    """The final status: ``OK`` is a good parse; anything else a failed one."""
    messages: list[str] = field(default_factory=list)
    stuck: bool = False
    """Never completes."""


@dataclass
class _Job:
    job_id: str
    script: ParseScript
    polls: int = 0
    status: str | None = None
    """Set by the payload check (a payload that is not JSON fails whatever the script says)."""
    messages: list[str] = field(default_factory=list)
    settled: bool = False
    checking: threading.Event | None = None
    """Set while the payload is still being checked (in its own thread): the job runs."""

    def view(self) -> dict[str, Any]:
        """The documented ``job_status`` object after one more read."""
        self.polls += 1
        checking = self.checking is not None and not self.checking.is_set()
        running = checking or self.script.stuck or self.polls <= self.script.pending_polls
        state = "COMPLETED"
        if running:
            state = "PENDING" if self.polls == 1 else "IN_PROGRESS"
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "job_type": "PARSE",
            "state": state,
            "status": "" if running else (self.status or self.script.status),
            "started_at": "2026-01-01T00:00:00Z",
            "duration": "0.1s",
            "stats": {"started_at": None, "finished_at": None, "steps": []},
        }
        messages = self.messages or self.script.messages
        if not running and messages and body["status"] != "OK":
            body["messages"] = list(messages)
        return body


@dataclass
class _Upload:
    provider_id: str
    ds_id: str
    spool: Path
    sizes: list[int] = field(default_factory=list)
    """Decoded bytes of each part received, by sequence number - 1."""


class FakeVeza:
    """State of the fake tenant; ``serve()`` runs it on 127.0.0.1 over TLS."""

    def __init__(
        self,
        ca: trustme.CA,
        ca_path: Path,
        api_key: str = API_KEY,
        spool_dir: Path | None = None,
    ) -> None:
        self.ca, self.ca_path, self.api_key = ca, ca_path, api_key
        self.providers: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, dict[str, dict[str, Any]]] = {}
        self.pushes: list[dict[str, Any]] = []
        """Each push: {"provider_id", "data_source_id", "payload" (decoded, unless
        ``keep_payloads`` is off), "body" (of a single push), "parts", "bytes", "users"}."""
        self.requests: list[Request] = []
        """Every request (an upload's ``data`` replaced by its length)."""
        self.parts: list[tuple[str, int, int]] = []
        """(upload id, sequence number, decoded bytes) of every part received."""
        self.warnings: list[dict[str, str]] = []
        self.parse = ParseScript()
        self.parse_status_route = True
        self.keep_payloads = True
        self.jobs: dict[str, _Job] = {}
        """The latest parse job per data source id."""
        self._uploads: dict[str, _Upload] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._stamp = 0
        self._spool_owner = tempfile.TemporaryDirectory(prefix="fake-veza-")
        self.spool_dir = spool_dir or Path(self._spool_owner.name)
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
        skip: int = 0,
        processed: bool = False,
    ) -> None:
        """Answer the next ``n`` requests whose path contains ``on`` (after ``skip`` of them)
        with ``status``; ``processed``: do what they ask first."""
        fault = _Fault(n, status, on, details or [], retry_after=retry_after, skip=skip)
        fault.processed = processed
        if message:
            fault.message = message
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.on in path:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.remaining -= 1
                    return fault
        return None

    # --- the API ---------------------------------------------------------------------------
    def handle(self, req: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) of the answer to ``req``."""
        with self._lock:
            self.requests.append(_logged(req))
        if req.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"code": "Unauthenticated", "message": "invalid API key", "details": []}, {}
        fault = self._take_fault(req.path)
        if fault is not None:
            if fault.processed:
                with self._lock:
                    self._route(req)
            body = {"code": "Fault", "message": fault.message, "details": fault.details}
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, body, headers
        with self._lock:
            return *self._route(req), {}

    def _route(self, req: Request) -> Answer:
        parts = req.path.strip("/").split("/")
        if parts == ["_fake", "summary"]:
            return 200, self.summary()
        if parts[:4] == ["api", "v1", "providers", "datasources"]:
            return self._parse_status(req, parts[4:])
        if parts[:4] != ["api", "v1", "providers", "custom"]:
            return _not_found(req)
        rest = parts[4:]
        if rest == ["templates"] and req.method == "GET":
            return 200, {"values": [{"id": "application"}, {"id": "identity_provider"}]}
        if not rest:
            return self._providers(req)
        if len(rest) == 2 and rest[1] == "datasources":
            return self._data_sources(req, rest[0])
        if len(rest) == 3 and rest[1] == "datasources" and req.method == "POST":
            ds_id, _, operation = rest[2].partition(":")
            if operation == "push":
                return self._push(req, rest[0], ds_id)
            if operation == "parts":
                return self._parts(req, rest[0], ds_id)
        return _not_found(req)

    def _providers(self, req: Request) -> Answer:
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

    def _data_sources(self, req: Request, provider_id: str) -> Answer:
        if provider_id not in self.providers:
            return 404, {"code": "NotFound", "message": "no such provider"}
        sources = self.data_sources[provider_id]
        if req.method == "POST":
            ds = {"id": str(uuid.uuid4()), "name": req.body["name"], "status": "PENDING"}
            sources[ds["id"]] = ds
            return 200, {"value": ds}
        for ds in sources.values():
            self._advance(ds)
        return 200, {"values": _filtered(list(sources.values()), req)}

    def _push(self, req: Request, provider_id: str, ds_id: str) -> Answer:
        if ds_id not in self.data_sources.get(provider_id, {}):
            return 404, {"code": "NotFound", "message": "no such data source"}
        data = req.body["json_data"]
        if req.body.get("compression_type") == "GZIP":
            data = gzip.decompress(base64.b64decode(data)).decode()
        path = self.spool_dir / f"push-{uuid.uuid4()}.json"
        path.write_text(data, encoding="utf-8")
        self._received(provider_id, ds_id, path, parts=0, body=req.body)
        return 200, {"id": provider_id, "warnings": list(self.warnings)}

    # --- multipart -------------------------------------------------------------------------
    def _parts(self, req: Request, provider_id: str, ds_id: str) -> Answer:
        if ds_id not in self.data_sources.get(provider_id, {}):
            return 404, {"code": "NotFound", "message": "no such data source"}
        operation = req.body.get("operation") if isinstance(req.body, dict) else None
        if operation == "start":
            upload_id = str(uuid.uuid4())
            spool = self.spool_dir / f"upload-{upload_id}.json"
            spool.touch(mode=0o600)
            self._uploads[upload_id] = _Upload(provider_id, ds_id, spool)
            return 200, {"status": "success", "upload_id": upload_id}
        upload = self._uploads.get(str(req.body.get("upload_id")))
        if upload is None or (upload.provider_id, upload.ds_id) != (provider_id, ds_id):
            return 400, _bad("unknown upload_id")
        if operation == "upload":
            return self._part(req.body, upload)
        if operation == "complete":
            return self._complete(req.body, upload)
        return 400, _bad(f"unknown operation {operation!r}")

    def _part(self, body: dict[str, Any], upload: _Upload) -> Answer:
        number = body.get("sequence_number")
        if not isinstance(number, int) or not 1 <= number <= len(upload.sizes) + 1:
            expected = len(upload.sizes) + 1
            return 400, _bad(f"sequence_number {number!r} out of order (expected {expected})")
        try:
            data = base64.b64decode(body.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            return 400, _bad("data is not base64")
        if number <= len(upload.sizes):  # sent again (a retry): replaces the part
            if number != len(upload.sizes):
                return 400, _bad(f"sequence_number {number} was already completed")
            _truncate(upload.spool, sum(upload.sizes[:-1]))
            upload.sizes.pop()
        with upload.spool.open("ab") as out:
            out.write(data)
        upload.sizes.append(len(data))
        self.parts.append((str(body["upload_id"]), number, len(data)))
        return 200, {"status": "success"}

    def _complete(self, body: dict[str, Any], upload: _Upload) -> Answer:
        count = body.get("sequence_count")
        if count != len(upload.sizes) or not upload.sizes:
            return 400, _bad(f"sequence_count {count!r} but {len(upload.sizes)} parts arrived")
        del self._uploads[str(body["upload_id"])]
        self._received(upload.provider_id, upload.ds_id, upload.spool, parts=len(upload.sizes))
        return 200, {"status": "success", "warnings": list(self.warnings)}

    # --- parsing ---------------------------------------------------------------------------
    def _received(
        self, provider_id: str, ds_id: str, path: Path, *, parts: int, body: Any = None
    ) -> None:
        """A whole payload arrived: check it, record it, start its parse job."""
        push: dict[str, Any] = {
            "provider_id": provider_id,
            "data_source_id": ds_id,
            "body": body,
            "parts": parts,
            "bytes": path.stat().st_size,
        }
        job = _Job(str(uuid.uuid4()), self.parse)
        if self.keep_payloads:
            self._checked(job, path, push)
        else:  # a large payload is checked while the client polls, as Veza parses it
            job.checking = threading.Event()
            threading.Thread(target=self._checked, args=(job, path, push), daemon=True).start()
        self.pushes.append(push)
        self.jobs[ds_id] = job
        ds = self.data_sources[provider_id][ds_id]
        ds.update(status="PENDING", parse_start=self._next_stamp())
        ds.pop("status_message", None)

    def _checked(self, job: _Job, path: Path, push: dict[str, Any]) -> None:
        problem = self._check_payload(path, push)
        if problem is not None:
            job.status, job.messages = "INVALID_ARGUMENT", [problem]
        path.unlink()
        if job.checking is not None:
            job.checking.set()

    def _check_payload(self, path: Path, push: dict[str, Any]) -> str | None:
        """The payload parses as JSON (kept whole, or counted as a stream)."""
        try:
            if self.keep_payloads:
                push["payload"] = json.loads(path.read_bytes())
                users = push["payload"]["applications"][0].get("local_users", [])
                push["users"] = len(users)
            else:
                with path.open("rb") as handle:
                    push["users"] = _count_stream(handle)
        except (ValueError, KeyError, IndexError, TypeError) as err:
            return f"payload is not a valid OAA JSON document: {err}"
        return None

    def _parse_status(self, req: Request, rest: list[str]) -> Answer:
        if len(rest) != 2 or rest[1] != "parse_status" or req.method != "GET":
            return _not_found(req)
        job = self.jobs.get(rest[0])
        if not self.parse_status_route or job is None:
            return 404, {"code": "NotFound", "message": "no parse job", "details": []}
        view = job.view()
        self._settle(rest[0], view)
        return 200, {"job_status": view}

    def _advance(self, ds: dict[str, Any]) -> None:
        """A data source read moves its parse job on when Veza has no parse_status route."""
        job = self.jobs.get(ds["id"])
        if job is not None and not self.parse_status_route:
            self._settle(ds["id"], job.view())

    def _settle(self, ds_id: str, view: dict[str, Any]) -> None:
        """A completed job's outcome shows on its data source record, once."""
        job = self.jobs[ds_id]
        if view["state"] != "COMPLETED" or job.settled:
            return
        job.settled = True
        ds = next(s[ds_id] for s in self.data_sources.values() if ds_id in s)
        ok = view["status"] == "OK"
        ds.update(status="SUCCESS" if ok else "ERROR", parse_end=self._next_stamp())
        if not ok:
            ds["status_message"] = "; ".join(view.get("messages", [])) or view["status"]

    def _next_stamp(self) -> str:
        self._stamp += 1
        return f"2026-01-01T00:{self._stamp // 60:02d}:{self._stamp % 60:02d}Z"

    def summary(self) -> dict[str, Any]:
        """What arrived, without payloads: for a benchmark in another process."""
        keys = ("provider_id", "data_source_id", "parts", "bytes", "users")
        pushes = [{k: p.get(k) for k in keys} for p in self.pushes]
        jobs = {
            ds: {"status": j.status or j.script.status, "polls": j.polls}
            for ds, j in self.jobs.items()
        }
        return {"pushes": pushes, "jobs": jobs, "requests": len(self.requests)}

    # --- serving ---------------------------------------------------------------------------
    def serve(self, port: int = 0) -> Iterator[FakeVeza]:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._spool_owner.cleanup()


def _count_stream(handle: BinaryIO) -> int:
    """The local users of a payload, parsed as a stream in C (``ijson``'s yajl2_c backend): the
    JSON is checked to its last byte without holding it as Python objects (only the ids pass
    into Python, one at a time)."""
    import ijson  # the benchmark's fake only

    return sum(1 for _ in ijson.items(handle, "applications.item.local_users.item.id"))


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


def _logged(req: Request) -> Request:
    """The request as kept in ``requests``: an upload's (large) data left out."""
    body = req.body
    if isinstance(body, dict) and isinstance(body.get("data"), str):
        body = {**body, "data": f"<{len(body['data'])} base64 characters>"}
    return Request(req.method, req.path, req.query, req.headers, body)


def _bad(message: str) -> dict[str, Any]:
    return {"code": "InvalidArgument", "message": message, "details": []}


def _not_found(req: Request) -> Answer:
    return 404, {"code": "NotFound", "message": f"no route {req.path}"}


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
        del raw
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


def main() -> None:
    """Serve a fake Veza in this process until SIGTERM; write its URL, CA and key to --info."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--info", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--spool", type=Path, default=None, help="where parts are spooled")
    args = parser.parse_args()
    ca = trustme.CA()
    ca_path = args.info.with_name("veza-ca.pem")
    ca.cert_pem.write_to_path(str(ca_path))
    fake = FakeVeza(ca, ca_path, spool_dir=args.spool)
    fake.keep_payloads = False
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for running in fake.serve():
        info = {"url": running.url, "ca": str(ca_path), "api_key": running.api_key}
        partial = args.info.with_suffix(".tmp")
        partial.write_text(json.dumps(info), encoding="utf-8")
        partial.replace(args.info)
        stop.wait()


if __name__ == "__main__":
    main()
