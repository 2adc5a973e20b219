"""Findings on the hand-made tenant: each one asserted exactly, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest

from oaa_concur.errors import ConfigError
from oaa_concur.review.findings import Finding, at_or_above, counts, find, summary_line
from oaa_concur.review.rules import default_rules, load_rules
from tests.review.tenant import EXEMPTION_EXPIRES, EXPECTED, NOW, RULES_FILE, tenant


def _by_id(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def test_every_finding_is_known_in_advance() -> None:
    findings = find(tenant(), default_rules(), now=NOW)
    got = {f.id: (f.severity, f.user_ids, f.role_codes) for f in findings}
    assert got == EXPECTED
    assert all(f.exemption is None for f in findings)
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["critical", "high", "medium", "low", "info"].index
    )


def test_each_explanation_is_one_sentence_naming_the_user() -> None:
    for f in find(tenant(), default_rules(), now=NOW):
        assert f.explanation.endswith(".") and ". " not in f.explanation, f.id
        assert f.user_ids[0] in f.explanation or f.rule in ("PRIVILEGED_ROLE", "UNKNOWN_ROLE")


def test_explanations_say_what_and_why() -> None:
    f = _by_id(find(tenant(), default_rules(), now=NOW))
    assert "2025-05-01" in f["TERMINATED_ACTIVE:u-bob"].explanation
    assert "0 company-wide and 1 scoped" in f["PRIVILEGED_ROLE:INV_VENDOR_ADMIN"].explanation
    assert "cashAdvance approver" in f["APPROVER_INACTIVE:u-ivan:u-dave"].explanation


def test_active_exemption_applies_and_expired_one_does_not(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_FILE)
    findings = find(tenant(), load_rules(path), now=NOW)
    f = _by_id(findings)
    erin = f["SOD-INV-VENDOR-PAY:u-erin"].exemption
    assert erin is not None and erin.expires == EXEMPTION_EXPIRES and "AUD-12" in erin.reason
    assert f["SOD-SHD-ROLE-ADMIN-APPROVER:u-frank"].exemption is None  # expired 2025-01-31
    assert counts(findings)["critical"] == 1
    assert summary_line(findings) == (
        "22 findings: 1 critical, 7 high, 4 medium, 3 low, 7 info (1 exempted)"
    )
    assert [x.id for x in at_or_above(findings, "critical")] == ["TERMINATED_ACTIVE:u-bob"]
    # The day after it expires, the exemption stops applying.
    later = find(tenant(), load_rules(path), now=NOW.replace(year=2026, month=1, day=1))
    assert _by_id(later)["SOD-INV-VENDOR-PAY:u-erin"].exemption is None


def test_time_moves_findings() -> None:
    later = _by_id(find(tenant(), default_rules(), now=NOW + timedelta(days=17)))
    assert later["TERMINATED_ACTIVE:u-carol"].severity == "high"  # no privileged role
    assert "TERMINATION_DUE:u-carol" not in later
    # Inside leo's temporary delegation window, leo can approve his own reports through alice.
    earlier = _by_id(find(tenant(), default_rules(), now=NOW - timedelta(days=30)))
    assert earlier["DELEGATE_SELF_APPROVAL:u-leo:u-alice"].user_ids == ("u-leo", "u-alice")
    assert "DELEGATE_SELF_APPROVAL:u-leo:u-alice" not in _by_id(
        find(tenant(), default_rules(), now=NOW)
    )


def test_user_rules_add_replace_and_disable(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("""
disable = ["SOD-EXP-APPROVE-PROCESS"]
[[rules]]
id = "ACME-PROCESS-APPROVE"
severity = "medium"
title = "Processor who approves"
why = "can process items they also approve"
conflict = [["EXP_PROCESSOR"], ["@approver"]]
""")
    f = _by_id(find(tenant(), load_rules(path), now=NOW))
    assert "SOD-EXP-APPROVE-PROCESS:u-alice" not in f
    mine = f["ACME-PROCESS-APPROVE:u-alice"]
    assert (mine.severity, mine.role_codes) == ("medium", ("EXP_APPROVER", "EXP_PROCESSOR"))
    assert "ACME-PROCESS-APPROVE:u-mia" not in f  # inactive users are not SoD-checked


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[rules]\n", "not valid TOML"),
        ('[[rules]]\nid="X"\nseverity="high"\ntitle="t"\nwhy="w"\nconflict=[["A"]]\n', "two"),
        (
            '[[rules]]\nid="X"\nseverity="urgent"\ntitle="t"\nwhy="w"\nconflict=[["A"],["B"]]\n',
            "severity",
        ),
        (
            '[[rules]]\nid="X:1"\nseverity="high"\ntitle="t"\nwhy="w"\nconflict=[["A"],["B"]]\n',
            "id",
        ),
        ('[[exemptions]]\nuser="u"\nrule="R"\nexpires=2026-01-01\n', "missing keys ['reason']"),
        ('[[exemptions]]\nuser="u"\nrule="R"\nreason="r"\nexpires="soon"\n', "expires"),
        ('[[exemptions]]\nuser="u"\nrule="R"\nreason="r"\nexpiry=2026-01-01\n', "unknown keys"),
        ('disable = ["NOPE"]\n', "disables unknown rules"),
        ('colour = "red"\n', "unknown top-level keys"),
    ],
)
def test_malformed_rules_file_is_one_config_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and words in str(err.value)
    assert err.value.exit_code == 2


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")


def test_shipped_rules_cover_the_issue_defaults() -> None:
    conflicts = {r.id: r.conflict for r in default_rules().rules}
    assert conflicts == {
        "SOD-EXP-APPROVE-PROCESS": (("EXP_APPROVER",), ("EXP_PROCESSOR",)),
        "SOD-INV-VENDOR-PAY": (("INV_VENDOR_ADMIN",), ("INV_APPROVER", "INV_PMT_MANAGER")),
        "SOD-SHD-EMPLOYEE-PAYROLL": (("SHD_EMPLOYEE_ADMIN",), ("SHD_PAYROLL_ADMIN",)),
        "SOD-SHD-ROLE-ADMIN-APPROVER": (("SHD_ROLE_ADMIN",), ("@approver",)),
    }
