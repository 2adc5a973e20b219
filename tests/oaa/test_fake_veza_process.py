"""The fake Veza in its own process, as the benchmark runs it: parts spooled to disk, the
assembled payload checked as a stream (nothing kept), what arrived told by ``/_fake/summary``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from oaa_concur import oaa
from oaa_concur.oaa.confirm import WaitPolicy
from oaa_concur.oaa.parts import PayloadBody
from oaa_concur.oaa.push import PushOptions
from tests.fakes.clock import FakeTime

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def veza_process(tmp_path: Path) -> Iterator[dict[str, str]]:
    info = tmp_path / "veza.json"
    spool = tmp_path / "spool"
    spool.mkdir()
    args = [sys.executable, "-m", "tests.fakes.veza", "--info", str(info), "--spool", str(spool)]
    proc = subprocess.Popen(args, cwd=ROOT)
    try:
        for _ in range(600):  # bounded: 30 s
            if info.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert info.exists(), "the fake Veza did not start"
        yield {**json.loads(info.read_text()), "spool": str(spool)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0  # SIGTERM ends it cleanly


def test_a_multipart_push_to_the_fake_in_its_own_process(
    veza_process: dict[str, str], tmp_path: Path
) -> None:
    from tests.oaa.pushing import tenant

    data = oaa.payload_json(oaa.build_application(tenant(30)), indent=False)
    options = PushOptions(part_size=4_000, multipart_threshold=8_000, wait=WaitPolicy())
    result = oaa.push(
        PayloadBody(data=data),
        veza_url=veza_process["url"],
        api_key=veza_process["api_key"],
        provider_name="Concur",
        data_source_name="Concur - bench",
        ca_bundle=veza_process["ca"],
        runtime=FakeTime().runtime(),
        options=options,
    )
    assert result.parts == -(-len(data) // 4_000) and result.confirmation is not None
    summary = requests.get(
        f"{veza_process['url']}/_fake/summary",
        headers={"authorization": f"Bearer {veza_process['api_key']}"},
        verify=veza_process["ca"],
        timeout=10,
    ).json()
    [push] = summary["pushes"]
    assert push["users"] == 30 and push["parts"] == result.parts and push["bytes"] == len(data)
    assert list(Path(veza_process["spool"]).iterdir()) == []  # nothing left on disk
