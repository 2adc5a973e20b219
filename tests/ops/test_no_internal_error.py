"""Every command with bad inputs ends in one sentence and its exit code: never an "internal
error", a traceback, a ``GetPassWarning`` or click's "Aborted!" (the real CLI, a real simulator
and a real snapshot store; the inputs are what a user mistypes)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.support.cli import run_cli, sim_env

SIMULATOR = SimulatorConfig(users=5, seed=9)  # `sim` (tests/conftest.py)


@dataclass(frozen=True)
class Place:
    """Paths every case may name: a file, a directory, a state directory with a snapshot."""

    file: Path
    directory: Path
    state: Path
    busy_port: int


@pytest.fixture(scope="module")
def place(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    root = tmp_path_factory.mktemp("bad-inputs")
    (root / "afile").write_text("not toml = = =")
    (root / "adir").mkdir()
    state = root / "state"
    assert run_cli(["discover", "--no-push"], sim_env(sim, state)).exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield Place(root / "afile", root / "adir", state, int(busy.getsockname()[1]))


CASES: list[tuple[str, int]] = [
    ("report --out {dir}", 2),
    ("report --out {file}/x.html", 2),
    ("report --rules {dir}", 2),
    ("report --rules {file}", 2),
    ("report --rules {dir}/missing.toml", 2),
    ("report --snapshot 99", 2),
    ("report --as-of yesterday", 2),
    ("diff 1 99", 2),
    ("diff one", 2),
    ("snapshots --state-dir {file}", 2),
    ("simulator --port {busy}", 2),
    ("simulator --port 70000", 2),
    ("simulator --host 192.0.2.1", 2),
    ("simulator --env-file {dir}", 2),
    ("simulator --env-file {file}/x", 2),
    ("simulator --users -1", 2),
    ("demo --out {file}", 2),
    ("demo --out {file}/sub", 2),
    ("discover --no-push --save-json {dir}", 2),
    ("discover --no-push --save-json {file}/x.json", 2),
    ("discover --no-push --config {dir}", 2),
    ("discover --no-push --config {file}", 2),
    ("discover --no-push --concurrency 0", 2),
    ("discover --no-push --concurrency eight", 2),
    ("discover --no-push --max-shrink 2", 2),
    ("discover --no-push --run-deadline nan", 2),
    ("discover --no-push --ca-bundle {dir}", 2),
    ("discover --no-push --ca-bundle {file}", 2),
    ("discover --concur-url ftp://x --no-push", 2),
    ("discover --concur-url https://[::1 --no-push", 2),
    ("discover --state-dir {file} --no-push", 2),
    ("discover --veza-url ftp://x", 2),
    ("discover --log-format yaml", 2),
    ("check --veza-url http://x", 2),
    ("check --ca-bundle {file}", 2),
    ("check --state-dir {file}", 2),
    ("auth check --state-dir {file}", 2),
    ("auth exchange --company-uuid x", 2),
]


@pytest.mark.parametrize(("command", "code"), CASES, ids=[c for c, _ in CASES])
def test_bad_input_is_one_sentence(
    command: str, code: int, sim: RunningSimulator, place: Place
) -> None:
    args = command.format(file=place.file, dir=place.directory, busy=place.busy_port).split()
    env: dict[str, str | None] = {**sim_env(sim, place.state), "VEZA_API_KEY": "k"}
    result = run_cli(args, env)
    output = result.output
    assert result.exit_code == code, output
    assert isinstance(result.exception, SystemExit), result.exception
    for never in ("internal error", "Traceback", "GetPassWarning", "Aborted!"):
        assert never not in output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(("error: ", "Error: ")), last


def test_a_reader_that_goes_away_is_not_an_internal_error(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """``oaa-concur report --format csv --out - | head -1``: the pipe closes under the CSV; the
    command stops quietly (exit 0) instead of printing "internal error (BrokenPipeError)"."""
    import subprocess
    import sys

    state = tmp_path / "state"
    assert run_cli(["discover", "--no-push"], sim_env(sim, state)).exit_code == 0
    args = [sys.executable, "-m", "oaa_concur", "report", "--format", "csv", "--out", "-"]
    proc = subprocess.Popen(
        [*args, "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)  # a first line, then the reader hangs up
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
