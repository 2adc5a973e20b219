"""Confirmed by Veza: after the push, a bounded wait for the parse (documented ``parse_status``
route, else the data source's ``status``), with Veza's failure in one sentence.

Time is a ``FakeTime``: the polls' sleeps are recorded, never slept.
"""

from __future__ import annotations

import logging

import pytest

from oaa_concur import oaa
from oaa_concur.errors import VezaError
from oaa_concur.oaa.confirm import Baseline, ParseStatus, WaitPolicy, judge
from oaa_concur.oaa.parts import PayloadBody
from oaa_concur.oaa.push import PushOptions
from tests.fakes.clock import FakeTime
from tests.fakes.veza import FakeVeza, ParseScript
from tests.oaa.pushing import push_to, tenant

POLICY = WaitPolicy(timeout_s=60.0, first_s=2.0, factor=1.5, max_s=10.0)
WAIT = PushOptions(wait=POLICY)


def _app() -> oaa.BuiltApplication:
    return oaa.build_application(tenant(2))


def _parse_reads(fake: FakeVeza) -> int:
    return sum(r.path.endswith("/parse_status") for r in fake.requests)


def test_a_parse_that_succeeds_at_once_needs_no_sleep(
    fake_veza: FakeVeza, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="oaa_concur")
    time = FakeTime()
    result = push_to(fake_veza, _app(), time, options=WAIT)
    assert result.confirmation is not None
    assert result.confirmation.status.state == "COMPLETED"
    assert result.confirmation.status.status == "OK"
    assert time.slept_sync == []
    assert "Veza parsed the payload (parse job " in caplog.text


def test_the_wait_polls_with_a_growing_interval(fake_veza: FakeVeza) -> None:
    fake_veza.parse = ParseScript(pending_polls=5)
    time = FakeTime()
    result = push_to(fake_veza, _app(), time, options=WAIT)
    assert time.slept_sync == [2.0, 3.0, 4.5, 6.75, 10.0]
    assert result.confirmation is not None and result.confirmation.waited_s == sum(time.slept_sync)


def test_a_failed_parse_is_one_sentence_with_veza_s_messages(fake_veza: FakeVeza) -> None:
    fake_veza.parse = ParseScript(
        pending_polls=1,
        status="INTERNAL",
        messages=["local_users[3].custom_properties.start_date: invalid timestamp", "second"],
    )
    with pytest.raises(VezaError) as caught:
        push_to(fake_veza, _app(), options=WAIT)
    text = str(caught.value)
    job = fake_veza.jobs[fake_veza.pushes[0]["data_source_id"]].job_id
    assert text.startswith(
        f"Veza could not parse the pushed payload (parse job {job}: state COMPLETED, "
        "status INTERNAL; local_users[3].custom_properties.start_date: invalid timestamp; "
        "second): "
    )
    assert "\n" not in text and fake_veza.api_key not in text


def test_a_parse_that_never_ends_times_out(fake_veza: FakeVeza) -> None:
    fake_veza.parse = ParseScript(stuck=True)
    time = FakeTime()
    with pytest.raises(VezaError) as caught:
        push_to(fake_veza, _app(), time, options=WAIT)
    assert sum(time.slept_sync) == 60.0 and max(time.slept_sync) <= POLICY.max_s
    assert str(caught.value).startswith(
        "Veza accepted the push but had not parsed it after 60 s (parse job "
    )
    assert "state IN_PROGRESS" in str(caught.value) and "--no-wait" in str(caught.value)


def test_no_wait_does_not_ask(fake_veza: FakeVeza) -> None:
    fake_veza.parse = ParseScript(stuck=True)
    result = push_to(fake_veza, _app(), options=PushOptions(wait=None))
    assert result.confirmation is None and _parse_reads(fake_veza) == 0
    assert len(fake_veza.pushes) == 1


def test_the_previous_push_s_job_is_not_taken_for_this_one(fake_veza: FakeVeza) -> None:
    """The most recent job is the last push's (COMPLETED, OK) until Veza starts ours."""
    push_to(fake_veza, _app(), options=WAIT)
    first = next(iter(fake_veza.jobs.values())).job_id
    fake_veza.parse = ParseScript(pending_polls=2, status="INTERNAL")
    with pytest.raises(VezaError, match="status INTERNAL"):
        push_to(fake_veza, _app(), options=WAIT)
    assert next(iter(fake_veza.jobs.values())).job_id != first


def test_a_transient_error_while_polling_is_retried(fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(1, 503, on="/parse_status", skip=1)  # the baseline read passes
    time = FakeTime()
    result = push_to(fake_veza, _app(), time, options=WAIT)
    assert result.confirmation is not None and len(time.slept_sync) == 1


@pytest.mark.parametrize("outcome", ["OK", "INTERNAL"])
def test_without_the_parse_status_route_the_data_source_status_decides(
    fake_veza: FakeVeza, outcome: str
) -> None:
    """An older Veza (404 on parse_status): the data source record, as oaaclient's tests do."""
    fake_veza.parse_status_route = False
    fake_veza.parse = ParseScript(pending_polls=2, status=outcome, messages=["bad payload"])
    time = FakeTime()
    if outcome == "OK":
        result = push_to(fake_veza, _app(), time, options=WAIT)
        assert result.confirmation is not None
        assert result.confirmation.status.describe() == "data source status SUCCESS"
    else:
        with pytest.raises(VezaError, match=r"\(data source status ERROR; bad payload\)"):
            push_to(fake_veza, _app(), time, options=WAIT)
    assert time.slept_sync == [2.0, 3.0]


def test_an_invalid_payload_fails_veza_s_parse(fake_veza: FakeVeza) -> None:
    with pytest.raises(VezaError, match="status INVALID_ARGUMENT; payload is not a valid OAA"):
        push_to(fake_veza, PayloadBody(data=b'{"applications": [tru'), options=WAIT)


def test_judge_needs_a_new_completed_job() -> None:
    base = Baseline("old", None)
    job = ParseStatus("parse_status", job_id="old", state="COMPLETED", status="OK")
    assert judge(job, base) == "pending"
    new = ParseStatus("parse_status", job_id="new", state="IN_PROGRESS")
    assert judge(new, base) == "pending"
    assert judge(ParseStatus("parse_status", "new", "COMPLETED", "OK"), base) == "parsed"
    assert judge(ParseStatus("parse_status", "new", "COMPLETED", "CANCELED"), base) == "failed"


def test_judge_of_a_data_source_needs_a_change() -> None:
    before = ParseStatus("data_source", status="SUCCESS", parse_end="t1")
    base = Baseline(None, before)
    assert judge(before, base) == "pending"
    later = ParseStatus("data_source", status="SUCCESS", parse_end="t2")
    assert judge(later, base) == "parsed"
    assert judge(ParseStatus("data_source", status="PARSE_FAILED", parse_end="t2"), base) == (
        "failed"
    )
    assert judge(ParseStatus("data_source", status="PENDING", parse_start="t3"), base) == (
        "pending"
    )
    assert judge(None, base) == "pending"
