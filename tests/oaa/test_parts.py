"""Veza's multipart push (``:parts``, as oaaclient 1.2.0 speaks it) against the fake Veza:
streamed from the payload file, each request retried, one sentence when Veza refuses a part.

The threshold and the part size are lowered so a small tenant (a few KB) goes in several
parts; oaaclient's own values (50 MB, parts of 32 MB) only change how many.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import orjson
import pytest
from oaaclient.client import OAAClient

from oaa_concur import oaa
from oaa_concur.errors import ConfigError, VezaError
from oaa_concur.oaa.parts import MAX_PART_SIZE, MULTIPART_THRESHOLD, PayloadBody
from oaa_concur.oaa.push import PushOptions
from tests.fakes.clock import FakeTime, full_backoff
from tests.fakes.veza import FakeVeza
from tests.oaa.pushing import push_to, tenant

PART = 1_000
SMALL = PushOptions(part_size=PART, multipart_threshold=2_000)


def _payload_file(tmp_path: Path, users: int = 12) -> Path:
    path = tmp_path / "payload.json"
    path.write_bytes(oaa.payload_json(oaa.build_application(tenant(users)), indent=False))
    return path


def _operations(fake: FakeVeza) -> list[str]:
    return [r.body["operation"] for r in fake.requests if r.path.endswith(":parts")]


def test_oaaclient_thresholds_are_the_defaults() -> None:
    assert MULTIPART_THRESHOLD == OAAClient.MULTIPART_THRESHOLD_SIZE == 50_000_000
    assert PushOptions().part_size == 32_000_000
    assert math.ceil(PushOptions().part_size * 4 / 3) <= OAAClient.MAX_PAYLOAD_SIZE


def test_a_large_payload_goes_in_parts_from_the_file(fake_veza: FakeVeza, tmp_path: Path) -> None:
    path = _payload_file(tmp_path)
    size = path.stat().st_size
    result = push_to(fake_veza, path, options=SMALL)
    parts = math.ceil(size / PART)
    assert result.parts == parts and result.payload_bytes == size
    assert _operations(fake_veza) == ["start", *["upload"] * parts, "complete"]
    assert [(n, b) for _, n, b in fake_veza.parts] == [
        (n, min(PART, size - (n - 1) * PART)) for n in range(1, parts + 1)
    ]
    [push] = fake_veza.pushes
    assert push["parts"] == parts and push["payload"] == orjson.loads(path.read_bytes())
    assert not any(r.path.endswith(":push") for r in fake_veza.requests)
    complete = [r.body for r in fake_veza.requests if r.path.endswith(":parts")][-1]
    assert complete["sequence_count"] == parts and complete["upload_id"]


def test_each_part_is_the_base64_of_the_raw_json_bytes(fake_veza: FakeVeza, tmp_path: Path) -> None:
    """Not gzipped (oaaclient's datasource_push_parts): the fake decodes each part as is."""
    path = _payload_file(tmp_path, users=3)
    data = path.read_bytes()
    seen: list[str] = []
    original = fake_veza.handle

    def spy(req: object) -> tuple[int, dict[str, object], dict[str, str]]:
        body = getattr(req, "body", None)
        if isinstance(body, dict) and body.get("operation") == "upload":
            seen.append(body["data"])
        return original(req)  # type: ignore[arg-type]

    fake_veza.handle = spy  # type: ignore[method-assign]
    push_to(fake_veza, path, options=SMALL)
    assert b"".join(base64.b64decode(s) for s in seen) == data


def test_below_the_threshold_one_gzipped_push(fake_veza: FakeVeza, tmp_path: Path) -> None:
    path = _payload_file(tmp_path, users=2)
    result = push_to(fake_veza, path, options=PushOptions(multipart_threshold=path.stat().st_size))
    assert result.parts == 0 and _operations(fake_veza) == []
    [push] = fake_veza.pushes
    assert push["body"]["compression_type"] == "GZIP"
    assert push["payload"] == orjson.loads(path.read_bytes())


def test_bytes_in_memory_go_in_parts_too(fake_veza: FakeVeza) -> None:
    data = oaa.payload_json(oaa.build_application(tenant(6)), indent=False)
    result = push_to(fake_veza, PayloadBody(data=data), options=SMALL)
    assert result.parts == math.ceil(len(data) / PART)
    assert fake_veza.pushes[0]["payload"] == orjson.loads(data)


def test_a_failing_part_is_retried_with_backoff(fake_veza: FakeVeza, tmp_path: Path) -> None:
    """Part 2 answers 503 twice (start and part 1 pass): sent again, 1 s and 2 s later."""
    path = _payload_file(tmp_path)
    fake_veza.fail_next(2, 503, on=":parts", skip=2)
    time = FakeTime(rand=full_backoff)
    result = push_to(fake_veza, path, time, options=SMALL)
    assert time.slept_sync == [1.0, 2.0]
    assert [n for _, n, _ in fake_veza.parts] == list(range(1, result.parts + 1))
    assert fake_veza.pushes[0]["payload"] == orjson.loads(path.read_bytes())


def test_a_part_whose_answer_was_lost_is_sent_again_in_its_place(
    fake_veza: FakeVeza, tmp_path: Path
) -> None:
    """Veza stored part 3 but the answer was a 502: the retry replaces it, nothing doubles."""
    path = _payload_file(tmp_path)
    fake_veza.fail_next(1, 502, on=":parts", skip=3, processed=True)
    result = push_to(fake_veza, path, options=SMALL)
    numbers = [n for _, n, _ in fake_veza.parts]
    assert numbers == [1, 2, 3, *range(3, result.parts + 1)]
    assert fake_veza.pushes[0]["payload"] == orjson.loads(path.read_bytes())


def test_a_lost_start_answer_starts_a_new_upload(fake_veza: FakeVeza, tmp_path: Path) -> None:
    path = _payload_file(tmp_path)
    fake_veza.fail_next(1, 503, on=":parts", processed=True)
    push_to(fake_veza, path, options=SMALL)
    assert _operations(fake_veza)[:2] == ["start", "start"]
    assert len({u for u, _, _ in fake_veza.parts}) == 1 and len(fake_veza.pushes) == 1


def test_a_part_failing_every_time_ends_in_one_sentence(
    fake_veza: FakeVeza, tmp_path: Path
) -> None:
    path = _payload_file(tmp_path)
    fake_veza.fail_next(10, 503, on=":parts", skip=1)
    total = math.ceil(path.stat().st_size / PART)
    with pytest.raises(VezaError) as caught:
        push_to(fake_veza, path, options=SMALL)
    assert str(caught.value) == (
        f"Veza failed the push (part 1 of {total}) with HTTP 503 after 5 attempts: "
        "try again later; if it persists, contact Veza support"
    )
    assert fake_veza.pushes == []


def test_a_refused_part_is_not_retried(fake_veza: FakeVeza, tmp_path: Path) -> None:
    path = _payload_file(tmp_path)
    fake_veza.fail_next(
        1, 400, on=":parts", skip=2, message="part too large", details=[{"message": "limit"}]
    )
    time = FakeTime()
    with pytest.raises(VezaError, match=r"rejected the push \(part 2 of \d+\) \(HTTP 400\)"):
        push_to(fake_veza, path, time, options=SMALL)
    assert time.slept_sync == [] and fake_veza.pushes == []


def test_the_complete_answer_carries_the_warnings(fake_veza: FakeVeza, tmp_path: Path) -> None:
    fake_veza.warnings = [{"message": "Cannot find identity by names u1@acme.example"}]
    result = push_to(fake_veza, _payload_file(tmp_path), options=SMALL)
    assert result.warnings == ["Cannot find identity by names u1@acme.example"]


@pytest.mark.parametrize("size", [0, -1, MAX_PART_SIZE + 1])
def test_a_part_size_out_of_range_is_a_config_error(fake_veza: FakeVeza, size: int) -> None:
    data = oaa.payload_json(oaa.build_application(tenant(3)), indent=False)
    options = PushOptions(part_size=size, multipart_threshold=10)
    with pytest.raises(ConfigError, match="part size"):
        push_to(fake_veza, PayloadBody(data=data), options=options)
    assert fake_veza.pushes == []
