"""`oaa-concur simulator` as a subprocess: env file 0600, URL printed, Ctrl-C/TERM stops it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    for _ in range(400):
        if path.exists() and path.stat().st_size > 0:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.025)
    raise AssertionError("simulator did not write its env file")


def test_cli_runs_writes_env_file_and_stops(tmp_path: Path) -> None:
    env_file = tmp_path / "concur.env"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oaa_concur",
            "simulator",
            "--users",
            "30",
            "--seed",
            "4",
            "--env-file",
            str(env_file),
            "--rotate-refresh-tokens",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(env_file, proc)
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert set(env) == {
            "CONCUR_URL",
            "CONCUR_CLIENT_ID",
            "CONCUR_CLIENT_SECRET",
            "CONCUR_REFRESH_TOKEN",
        }
        response = httpx.post(
            f"{env['CONCUR_URL']}/oauth2/v0/token",
            data={
                "client_id": env["CONCUR_CLIENT_ID"],
                "client_secret": env["CONCUR_CLIENT_SECRET"],
                "grant_type": "refresh_token",
                "refresh_token": env["CONCUR_REFRESH_TOKEN"],
            },
        )
        assert response.status_code == 200
        assert response.json()["refresh_token"] != env["CONCUR_REFRESH_TOKEN"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"listening on {env['CONCUR_URL']}" in out
    assert env["CONCUR_CLIENT_SECRET"] in out and "stopping simulator" in out


def test_cli_rejects_bad_fault_page() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oaa_concur", "simulator", "--fail-page", "users:x"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert result.returncode == 2 and "identity:N" in result.stderr
