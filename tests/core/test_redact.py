"""The redaction net: registered secrets and secret-looking values never survive a log line."""

import logging

import pytest

from oaa_concur import redact


def test_registered_secret_is_masked_everywhere() -> None:
    redact.register("s3cr3t-value-123")
    text = redact.redact("token s3cr3t-value-123 and again s3cr3t-value-123")
    assert "s3cr3t" not in text
    assert text.count(redact.REDACTED) == 2


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer eyJhbGciOi.payload.sig",
        "POST body grant_type=refresh_token&refresh_token=abcdef123456&client_id=x",
        '{"access_token": "abcdefghijkl", "expires_in": "3600"}',
        "client_secret=zzzzzzzzzz",
        '{"request_token": "abcdef123456"}',
        "VEZA_API_KEY=zzzzzzzzzz",
    ],
)
def test_unregistered_secret_patterns_are_masked(line: str) -> None:
    out = redact.redact(line)
    for secret in ("eyJhbGciOi.payload.sig", "abcdef123456", "abcdefghijkl", "zzzzzzzzzz"):
        assert secret not in out
    assert redact.REDACTED in out


def test_short_values_are_not_registered() -> None:
    redact.register("abc")
    assert redact.redact("abc") == "abc"


def test_filter_redacts_args_and_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    redact.register("filter-secret-999")
    logger = logging.getLogger("test.redact")
    logger.addFilter(redact.RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            logger.info("value %s", "filter-secret-999")
            try:
                raise ValueError("boom filter-secret-999")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert "filter-secret-999" not in caplog.text
    assert all("filter-secret-999" not in (r.exc_text or "") for r in caplog.records)
