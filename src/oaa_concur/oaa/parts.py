"""How the payload travels to Veza: one gzipped ``:push``, or Veza's ``:parts`` protocol.

oaaclient 1.2.0 (``client.py``, veza-oaa.md §2.3-2.4):

* ``datasource_push`` gzips and base64-encodes the JSON string and POSTs
  ``{"id", "data_source_id", "json_data", "compression_type": "GZIP"}`` to ``...:push``; it
  refuses an encoded body over ``MAX_PAYLOAD_SIZE`` (100 MB) with ``OVERSIZE``.
* ``push_metadata`` switches to ``datasource_push_parts`` above ``MULTIPART_THRESHOLD_SIZE``
  (50 MB of raw JSON, measured with ``sys.getsizeof`` of the string, i.e. its length plus a
  small header for ASCII). That method POSTs to ``...:parts`` ``{"operation": "start"}`` (the
  answer holds ``upload_id``), then per part ``{"operation": "upload", "upload_id",
  "sequence_number": 1..n, "data": base64 of the raw JSON bytes}`` (not gzipped), then
  ``{"operation": "complete", "upload_id", "sequence_count": n}``, whose answer is the push's
  (with ``warnings``). It needs the whole payload as one string.

Here the same requests are made, but the parts are read from the payload file one at a time
(memory: one part, never the payload), and each request is its own retried step
(``oaa.steps``). Below the threshold the single push is kept, as oaaclient would do. The file
size in bytes decides (a payload is ASCII-heavy JSON: within bytes of oaaclient's measure).

Assumed, not documented: Veza accepts an ``upload`` of the same ``sequence_number`` again
(a retry after a lost answer) in place of the first; the fake Veza does so.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from oaaclient.client import OAAClient

from oaa_concur.errors import ConfigError, VezaError
from oaa_concur.oaa.steps import Steps

MULTIPART_THRESHOLD = int(OAAClient.MULTIPART_THRESHOLD_SIZE)
"""Raw JSON bytes above which the payload goes in parts (oaaclient's 50,000,000)."""
DEFAULT_PART_SIZE = 32_000_000
"""Raw bytes per part: 42.7 MB of base64 on the wire, under Veza's 100 MB request limit."""
MAX_PART_SIZE = int(OAAClient.MAX_PAYLOAD_SIZE) * 3 // 4
"""The largest part whose base64 (4/3 of it) stays within ``MAX_PAYLOAD_SIZE``."""


@dataclass(frozen=True, slots=True)
class PayloadBody:
    """The payload JSON to send: a file (read part by part) or bytes already in memory."""

    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def read(self) -> bytes:
        """All of it (the single push: below the threshold, so at most 50 MB)."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def open(self) -> BinaryIO:
        """A reader over the bytes: the file itself, or the bytes in memory."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")


@dataclass(frozen=True, slots=True)
class Target:
    """The data source a payload goes to."""

    provider_id: str
    data_source_id: str

    @property
    def parts_path(self) -> str:
        return (
            f"/api/v1/providers/custom/{self.provider_id}/datasources/{self.data_source_id}:parts"
        )


@dataclass(frozen=True, slots=True)
class Uploaded:
    """Veza's answer to the push (or to the ``complete`` operation) and how many parts went."""

    response: Any
    parts: int
    """0: the single ``:push``."""


def check_part_size(part_size: int) -> int:
    if not 1 <= part_size <= MAX_PART_SIZE:
        raise ConfigError(
            f"The part size {part_size} bytes is outside 1 to {MAX_PART_SIZE:,} bytes",
            "give --part-size in MB, at most 75",
        )
    return part_size


def upload(
    client: OAAClient,
    steps: Steps,
    target: Target,
    body: PayloadBody,
    *,
    part_size: int = DEFAULT_PART_SIZE,
    threshold: int = MULTIPART_THRESHOLD,
) -> Uploaded:
    """Send ``body`` to ``target``: in parts when it is larger than ``threshold`` bytes."""
    if body.size > threshold:
        return _in_parts(client, steps, target, body, check_part_size(part_size))
    text = body.read().decode("utf-8")
    push = functools.partial(
        client.datasource_push, target.provider_id, target.data_source_id, text
    )
    return Uploaded(steps.run("push", push), 0)


def _in_parts(
    client: OAAClient, steps: Steps, target: Target, body: PayloadBody, part_size: int
) -> Uploaded:
    url = target.parts_path
    total = math.ceil(body.size / part_size)
    started = steps.run(
        "push (start of the multipart upload)",
        functools.partial(client.api_post, url, {"operation": "start"}),
    )
    upload_id = started.get("upload_id") if isinstance(started, dict) else None
    if not isinstance(upload_id, str) or not upload_id:
        raise VezaError(
            "Veza did not start the multipart push (its answer had no upload_id)",
            "try again later; if it persists, contact Veza support",
        )
    with body.open() as reader:
        for number in range(1, total + 1):
            # The raw slice and its base64 bytes are temporaries: one part's text stays alive.
            data = base64.b64encode(reader.read(part_size)).decode("ascii")
            operation = {
                "operation": "upload",
                "upload_id": upload_id,
                "sequence_number": number,
                "data": data,
            }
            step = f"push (part {number} of {total})"
            steps.run(step, functools.partial(client.api_post, url, operation))
            del data, operation
    done = {"operation": "complete", "upload_id": upload_id, "sequence_count": total}
    response = steps.run(
        "push (completion of the multipart upload)",
        functools.partial(client.api_post, url, done),
    )
    return Uploaded(response, total)
