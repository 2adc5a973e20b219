"""requirements.lock, the production install (deploy/container/Dockerfile): every runtime
dependency of pyproject.toml pinned with ``==`` and its files' sha256, and an install of it
with ``pip install --require-hashes`` into a fresh venv that then runs a real demo with
nothing but the locked packages and the project's wheel.

The install needs the package index: when pip cannot reach it (no network), the install test
skips naming the connection failure; any other pip failure fails it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")
_HASH = re.compile(r"^    --hash=sha256:([0-9a-f]{64})(?: \\)?$")
_OFFLINE = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ProxyError",
)
"""What pip prints when the index cannot be reached at all (then the install test skips)."""


def _pins() -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, sha256s)`` from the lock's pip-compile format."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in LOCK.read_text().splitlines():
        if match := _PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = (match[2], [])
        elif match := _HASH.match(line):
            pins[current][1].append(match[1])
        else:
            assert line.startswith(("#", "    #")) or not line.strip(), line
    return pins


def _runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def test_every_runtime_dependency_is_pinned_within_its_range_and_hashed() -> None:
    pins = _pins()
    assert pins and all(hashes for _, hashes in pins.values())
    for requirement in _runtime_requirements():
        version, _ = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
    assert "oaa-concur" not in pins  # the project's own wheel is installed with --no-deps


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "pip", "--disable-pip-version-check", "--retries", "1"]
    return subprocess.run([*command, "--timeout", "30", *args], capture_output=True, text=True)


def _installed(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    offline = [marker for marker in _OFFLINE if marker in output]
    if offline:
        pytest.skip(f"the package index cannot be reached ({offline[0]}): lock not installed")
    pytest.fail(f"pip failed (exit {done.returncode}):\n{output[-3000:]}")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the lock installed (--require-hashes --no-deps) and then the
    project's wheel (--no-deps), as the Dockerfile does; yields its python."""
    place = tmp_path_factory.mktemp("lock")
    subprocess.run([sys.executable, "-m", "venv", str(place / "venv")], check=True)
    python = place / "venv" / "bin" / "python"
    _installed(_pip(python, "install", "-q", "--require-hashes", "--no-deps", "-r", str(LOCK)))
    source = place / "source"  # the wheel is built from a copy: nothing lands in the worktree
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _installed(_pip(python, "wheel", "-q", "--no-deps", "-w", str(place / "dist"), str(source)))
    (wheel,) = (place / "dist").glob("oaa_concur-*.whl")
    _installed(_pip(python, "install", "-q", "--no-deps", str(wheel)))
    yield python


@pytest.mark.slow
def test_the_lock_installs_with_require_hashes_and_runs_a_demo(venv: Path, tmp_path: Path) -> None:
    check = _pip(venv, "check")
    assert check.returncode == 0, check.stdout + check.stderr  # nothing missing or conflicting
    frozen = _pip(venv, "freeze", "--exclude", "oaa-concur", "--exclude", "pip")
    installed = {
        canonicalize_name(name): version
        for name, version in (line.split("==") for line in frozen.stdout.split())
    }
    assert installed == {name: version for name, (version, _) in _pins().items()}
    out = tmp_path / "demo"
    cli = venv.parent / "oaa-concur"
    demo = subprocess.run(
        [str(cli), "demo", "--users", "20", "--out", str(out)], capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    assert (out / "report.html").is_file()


@pytest.mark.slow
def test_a_file_whose_hash_does_not_match_is_refused(venv: Path, tmp_path: Path) -> None:
    """--require-hashes really checks: one pin with a wrong sha256 is not installed."""
    name, (version, hashes) = next(iter(_pins().items()))
    wrong = "0" * 64 if hashes[0] != "0" * 64 else "1" * 64
    lock = tmp_path / "wrong.lock"
    lock.write_text(f"{name}=={version} \\\n    --hash=sha256:{wrong}\n")
    done = _pip(
        venv, "install", "--require-hashes", "--no-deps", "--force-reinstall", "-r", str(lock)
    )
    if done.returncode != 0 and any(marker in done.stdout + done.stderr for marker in _OFFLINE):
        pytest.skip("the package index cannot be reached: hash check not exercised")
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr, done.stderr[-2000:]
