"""Keeping secrets out of every log line, error message and file (design.md §3.6).

Two nets:

* every secret the process learns (client secret, refresh/access/request tokens, the Veza API
  key) is ``register``-ed, and ``redact`` replaces each occurrence with ``[REDACTED]``;
* patterns catch secrets we were never told about: ``Bearer <token>``, ``refresh_token=...``
  form fields and ``"access_token": "..."`` JSON members.

``RedactingFilter`` applies both to every record of every logger it is attached to (the CLI
attaches it to the root handlers, so ``httpx``, ``httpcore``, ``urllib3`` and ``oaaclient``
debug logs are covered too).
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "[REDACTED]"
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

SECRET_NAMES: tuple[str, ...] = (
    "client_secret",
    "refresh_token",
    "request_token",
    "access_token",
    "id_token",
    "veza_api_key",
    "api_key",
    "password",
    "token",
    "authorization",
    "requestToken",
    "CONCUR_CLIENT_SECRET",
    "CONCUR_REFRESH_TOKEN",
    "CONCUR_REQUEST_TOKEN",
    "VEZA_API_KEY",
)
"""Names under which a secret travels: form fields, JSON members, environment variables and
config keys. ``redact`` masks the value after any of them; ``config`` refuses a config file
that has one as a key (design.md §2.2, §3.6)."""
_LOWER_NAMES = frozenset(name.lower() for name in SECRET_NAMES)
_SECRET_FIELDS = "|".join(SECRET_NAMES)
_GENERIC = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(rf"(?i)((?:{_SECRET_FIELDS})=)[^&\s'\"]+"),
    re.compile(rf"(?i)(['\"](?:{_SECRET_FIELDS})['\"]\s*:\s*['\"])[^'\"]*"),
]


def is_secret_name(name: str) -> bool:
    """``name`` (any case, ``-`` or ``_``) is one of ``SECRET_NAMES``."""
    return name.replace("-", "_").lower() in _LOWER_NAMES


def register(secret: str | None) -> None:
    """Remember a secret so that ``redact`` removes it from any text from now on."""
    global _pattern
    if not secret or len(secret) < _MIN_SECRET_LEN:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and every secret-looking value masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for generic in _GENERIC:
        text = generic.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that renders the message, redacts it and freezes the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
