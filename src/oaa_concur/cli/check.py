"""CLI command ``check``: the preflight of both sides, without discovering (design.md §2.1).

Prints one row per check (``preflight.run_preflight``): text, aligned for a terminal or a log,
or ``--format json``, one object on one line (``Preflight.as_dict``). The exit code is the
worst result's: 0 when nothing failed (warnings allowed), else the code of the first failure
(2 configuration, 1 Concur or Veza, 3 another run holds the lock).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from oaa_concur.cli.options import common_options, runtime_of, settings_from, text_or_json
from oaa_concur.cli.output import error_line
from oaa_concur.config import Secrets
from oaa_concur.preflight import CheckResult, Preflight, run_preflight
from oaa_concur.safetext import one_line

_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}


def _row(check: CheckResult) -> list[str]:
    label = check.name.replace("_", " ")
    lines = [one_line(f"{label:16} {_MARK[check.status]:4}  {check.sentence}")]
    if check.hint and check.status != "ok":
        lines.append(one_line(f"{'':16}       -> {check.hint}"))
    return lines


def render_text(preflight: Preflight) -> str:
    """The table, then one line of counts."""
    lines = [line for check in preflight.checks for line in _row(check)]
    counts = preflight.counts()
    lines.append(
        f"check: {counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed"
        f" (exit {preflight.exit_code})"
    )
    return "\n".join(lines)


def register(root: click.Group) -> None:
    @root.command("check")
    @text_or_json("one JSON object (every check) on one line")
    @common_options
    def check(fmt: str, **kwargs: Any) -> None:
        """Check configuration, state directory, Concur (refresh, scopes, token expiry) and
        Veza (URL, TLS, API key, provider) without discovering or pushing anything."""
        settings = settings_from(kwargs)
        secrets = Secrets.from_env().register()
        preflight = run_preflight(settings, secrets, runtime=runtime_of())
        if fmt == "json":
            click.echo(json.dumps(preflight.as_dict(), ensure_ascii=False, default=str))
        else:
            click.echo(render_text(preflight))
        first = preflight.failures[0] if preflight.failures else None
        if first is not None:
            sentence = (
                f"{first.sentence.rstrip('.')}: {first.hint}" if first.hint else first.sentence
            )
            error_line(
                f"check {first.name} failed: {sentence}",
                preflight.exit_code,
                json_mode=settings.log_format == "json",
                error="CheckFailed",
            )
            sys.exit(preflight.exit_code)
