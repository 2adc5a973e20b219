"""The deployment examples in deploy/ (Kubernetes CronJob, cron, systemd) hold what the README
and errors.ExitCode promise: one run at a time, secrets from a Secret or a 0600 file, the
state directory on persistent storage with the permissions oaa-concur demands, JSON logs, and
retries only for the exit code a retry can fix. The Kubernetes init container's script is run
for real against a state directory that fsGroup made group-writable."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from oaa_concur.errors import ExitCode
from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.fakes.outcomes import last_line
from tests.support.cli import run_cli, sim_env

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SIMULATOR = SimulatorConfig(users=5, seed=15, rotate_refresh_tokens=True)
SECRETS = {"CONCUR_CLIENT_SECRET", "CONCUR_REFRESH_TOKEN", "VEZA_API_KEY"}
GIB = 1024**3


def _manifests() -> dict[str, dict[str, Any]]:
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "cronjob.yaml").read_text()))
    return {doc["kind"]: doc for doc in documents}


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def _container(pod: dict[str, Any], name: str, key: str = "containers") -> dict[str, Any]:
    (found,) = [c for c in pod[key] if c["name"] == name]
    return dict(found)


def _quantity(text: str) -> int:
    """A Kubernetes memory quantity in bytes (the binary suffixes only)."""
    suffixes = {"Ki": 1024, "Mi": 1024**2, "Gi": GIB}
    for suffix, factor in suffixes.items():
        if text.endswith(suffix):
            return int(text.removesuffix(suffix)) * factor
    return int(text)


def test_the_cronjob_runs_one_discovery_at_a_time_with_json_logs() -> None:
    cronjob = _manifests()["CronJob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    discover = _container(_pod(cronjob), "discover")
    assert discover["args"][0] == "discover" and "--no-push" not in discover["args"]
    assert discover["args"][1:3] == ["--log-format", "json"]
    assert _pod(cronjob)["restartPolicy"] == "Never"  # a failed run is a failed pod, no loop


def test_the_memory_limit_is_one_gib_and_never_overcommitted() -> None:
    resources = _container(_pod(_manifests()["CronJob"]), "discover")["resources"]
    assert _quantity(resources["limits"]["memory"]) == GIB
    assert _quantity(resources["requests"]["memory"]) == GIB


def test_secrets_come_from_a_secret_and_nothing_else_holds_one() -> None:
    manifests = _manifests()
    discover = _container(_pod(manifests["CronJob"]), "discover")
    sources = discover["envFrom"]
    assert any("secretRef" in source for source in sources)
    (config_ref,) = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
    assert config_ref == manifests["ConfigMap"]["metadata"]["name"]
    assert not SECRETS & set(manifests["ConfigMap"]["data"])
    assert not SECRETS & {item["name"] for item in discover.get("env", [])}
    assert "Secret" not in manifests  # no example secret values in the file


def test_the_state_directory_is_on_the_persistent_volume() -> None:
    manifests = _manifests()
    pod = _pod(manifests["CronJob"])
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
              if "persistentVolumeClaim" in v}  # fmt: skip
    assert list(claims.values()) == [manifests["PersistentVolumeClaim"]["metadata"]["name"]]
    (volume,) = claims
    state = PurePosixPath(manifests["ConfigMap"]["data"]["OAA_CONCUR_STATE_DIR"])
    for container in (_container(pod, "discover"), _container(pod, "state-dir", "initContainers")):
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume]
        assert state.is_relative_to(mount["mountPath"]) and state != PurePosixPath(
            mount["mountPath"]
        )  # a subdirectory: fsGroup leaves the volume's root group-writable
    init = _container(pod, "state-dir", "initContainers")
    assert init["command"][-1] == str(state)


def test_only_a_failed_run_is_retried() -> None:
    job = _manifests()["CronJob"]["spec"]["jobTemplate"]["spec"]
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["containerName"] == "discover"
    assert rule["onExitCodes"]["operator"] == "In"
    no_retry = {ExitCode.CONFIG, ExitCode.LOCKED, ExitCode.REFUSED}
    assert set(rule["onExitCodes"]["values"]) == {int(code) for code in no_retry}
    assert job["backoffLimit"] >= 1  # exit 1 (Concur or Veza failed) is retried


def _fsgroup_mangled(state: Path) -> None:
    """What kubelet's fsGroup does on mount: setgid, group read-write, on every entry."""
    state.chmod(0o2770)
    for path in state.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o660)


def test_the_init_container_makes_a_mangled_state_dir_usable_again(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "volume" / "state"
    env = sim_env(sim, state)
    assert run_cli(["discover", "--no-push"], env).exit_code == 0
    _fsgroup_mangled(state)
    refused = run_cli(["discover", "--no-push"], env)
    assert refused.exit_code == int(ExitCode.CONFIG), refused.output
    assert str(state) in last_line(refused.stderr)
    init = _container(_pod(_manifests()["CronJob"]), "state-dir", "initContainers")
    assert init["command"][:2] == ["python", "-c"]
    subprocess.run([sys.executable, "-c", init["command"][2], str(state)], check=True)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    again = run_cli(["discover", "--no-push"], env)
    assert again.exit_code == 0, again.output


def test_the_init_container_creates_a_missing_state_dir(tmp_path: Path) -> None:
    init = _container(_pod(_manifests()["CronJob"]), "state-dir", "initContainers")
    state = tmp_path / "state"
    old = os.umask(0o002)  # a group-writable umask must not leak into the mode
    try:
        subprocess.run([sys.executable, "-c", init["command"][2], str(state)], check=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_systemd_unit_keeps_its_state_under_var_lib_with_mode_0700() -> None:
    service = _unit("oaa-concur.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["StateDirectory"] == "oaa-concur" and service["StateDirectoryMode"] == "0700"
    assert service["Environment"] == "OAA_CONCUR_STATE_DIR=/var/lib/oaa-concur"
    assert service["ExecStart"].split()[1:] == ["discover", "--log-format", "json"]
    assert service["EnvironmentFile"].startswith("/etc/oaa-concur/")
    assert service["UMask"] == "0077"
    timer = _unit("oaa-concur.timer")
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"]


def test_the_cron_line_exports_the_env_file_and_logs_json() -> None:
    lines = [
        line
        for line in (DEPLOY / "cron" / "oaa-concur").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    (line,) = lines
    fields = line.split(maxsplit=6)
    minute, hour, *_, user, command = fields
    assert minute.isdigit() and hour.isdigit() and user == "oaa-concur"
    assert command.startswith("set -a && . /etc/oaa-concur/env && set +a && exec ")
    assert command.endswith("discover --log-format json >> /var/log/oaa-concur.log 2>&1")
