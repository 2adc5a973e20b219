"""A tiny HTTP proxy on loopback for the proxy tests: CONNECT tunnels and plain-HTTP forwarding.

``CONNECT host:port`` is answered 200 and bytes are tunnelled both ways (TLS stays end to end).
A plain request in absolute form (``POST http://127.0.0.1:8000/path``) is rewritten to origin
form with ``Connection: close`` and relayed, one request per client connection. ``connects``
and ``forwarded`` record what went through, so a test can prove the client used the proxy.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

_LIMIT = 64 * 1024


class _Handler(socketserver.BaseRequestHandler):
    proxy: LocalProxy

    def handle(self) -> None:
        head = _read_head(self.request)
        if not head:
            return
        line, _, rest = head.partition(b"\r\n")
        method, target, _version = line.decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            self._connect(target)
        else:
            self._forward(method, target, rest)

    def _connect(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        with self.proxy.lock:
            self.proxy.connects.append(target)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        _pipe(self.request, upstream)

    def _forward(self, method: str, target: str, rest: bytes) -> None:
        url = urlsplit(target)
        with self.proxy.lock:
            self.proxy.forwarded.append(f"{method} {url.netloc}{url.path}")
        headers, _, body = rest.partition(b"\r\n\r\n")
        kept = [
            h
            for h in headers.split(b"\r\n")
            if h
            and not h.lower().startswith((b"connection:", b"proxy-connection:", b"keep-alive:"))
        ]
        length = next(
            (int(h.split(b":", 1)[1]) for h in kept if h.lower().startswith(b"content-length:")), 0
        )
        while len(body) < length:
            chunk = self.request.recv(_LIMIT)
            if not chunk:
                break
            body += chunk
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        head = (
            f"{method} {path} HTTP/1.1\r\n".encode()
            + b"\r\n".join([*kept, b"Connection: close"])
            + b"\r\n\r\n"
        )
        upstream = socket.create_connection((url.hostname or "", url.port or 80), timeout=10)
        upstream.sendall(head + body)
        _pipe(self.request, upstream)


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _LIMIT:
        chunk = sock.recv(_LIMIT)
        if not chunk:
            return b""
        data += chunk
    return data


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until one side closes."""

    def copy(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(_LIMIT):
                dst.sendall(chunk)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=copy, args=(upstream, client), daemon=True)
    other.start()
    copy(client, upstream)
    other.join(timeout=10)
    upstream.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class LocalProxy:
    """``with LocalProxy.running() as proxy``: ``proxy.url``, ``.connects``, ``.forwarded``."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        self.forwarded: list[str] = []
        self.lock = threading.Lock()
        self.url = ""

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[LocalProxy]:
        proxy = cls()
        handler = type("Handler", (_Handler,), {"proxy": proxy})
        server = _Server(("127.0.0.1", 0), handler)
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
