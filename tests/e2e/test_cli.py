"""The root command's error handling, decided from the parsed options (design.md §2.3)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from oaa_concur.runtime import Runtime
from tests.support.cli import run_cli

INTERNAL = (
    "error: internal error (RuntimeError: transport exploded); run again with -v and report it."
)


class Exploding(httpx.AsyncBaseTransport):
    """A Concur transport with a bug: every request raises something no layer expects."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport exploded")


def _discover(state: Path, *flags: str) -> tuple[int, str]:
    env = {
        "CONCUR_CLIENT_ID": "client-id",
        "CONCUR_CLIENT_SECRET": "client-secret-123456",
        "CONCUR_REFRESH_TOKEN": "refresh-token-123456",
        "OAA_CONCUR_STATE_DIR": str(state),
    }
    result = run_cli(["discover", "--no-push", *flags], env, Runtime(concur_transport=Exploding()))
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("flags", "traceback"),
    [((), False), (("-v",), True), (("-vv",), True), (("--verbose",), True), (("-v", "-v"), True)],
)
def test_an_internal_error_shows_its_traceback_only_when_verbose(
    state: Path, flags: tuple[str, ...], traceback: bool
) -> None:
    code, stderr = _discover(state, *flags)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == INTERNAL
    assert ("Traceback (most recent call last)" in stderr) is traceback, stderr
    assert "client-secret-123456" not in stderr and "refresh-token-123456" not in stderr


def test_verbosity_from_the_config_file_counts_too(state: Path, tmp_path: Path) -> None:
    config = tmp_path / "oaa-concur.toml"
    config.write_text("verbose = 1\n")
    code, stderr = _discover(state, "--config", str(config))
    assert code == 1 and "Traceback (most recent call last)" in stderr
