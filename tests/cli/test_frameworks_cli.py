"""`posture frameworks list|coverage` and `posture policies list --json`: the JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli
from tests.operations.test_frameworks import content


def test_coverage_json_has_exactly_the_documented_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--policies-dir", str(content(tmp_path)), "frameworks", "coverage", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(set(r) == {"id", "total", "automated", "manual", "uncovered"} for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["test-fw-1.0"] == {
        "id": "test-fw-1.0",
        "total": 5,
        "automated": 2,
        "manual": 1,
        "uncovered": 2,
    }
    assert {"cis-m365-7.0", "cis-gws-1.3", "scuba-m365", "scuba-gws"} <= set(by_id)


def test_coverage_of_one_framework_and_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("frameworks", "coverage", "--framework", "cis-m365-7.0", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["total"]) == ("cis-m365-7.0", 160)
    assert cli("frameworks", "coverage", "--framework", "nope") == 2
    assert "unknown framework 'nope'" in capsys.readouterr().err


def test_frameworks_list_and_coverage_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("frameworks", "list") == 0
    out = capsys.readouterr().out
    assert "scuba-gws" in out and "CIS Microsoft 365 Foundations Benchmark v7.0.0" in out
    assert "11 frameworks" in out and "cis-gcp-5.0" in out and "cis-gke-1.6" in out
    assert "nist-800-53-r5" in out and "iso-27017" in out
    assert cli("frameworks", "coverage") == 0
    assert "uncovered" in capsys.readouterr().out


def test_policies_list_json_names_provider_resource_severity_frameworks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--policies-dir", str(content(tmp_path)), "policies", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        assert {"id", "provider", "resource", "severity", "frameworks"} <= set(row)
        assert row["provider"] == row["id"].split(".", 1)[0]
    mine = next(r for r in rows if r["id"] == "custom.s3.versioning_on")
    assert mine["frameworks"] == {"test-fw-1.0": ["1.1", "1.2"]}
    assert (mine["resource"], mine["severity"]) == ("aws.s3.bucket", "low")
    assert any(r["provider"] == "aws" and r["frameworks"].get("cis-aws-7.0") for r in rows)


def test_controls_json_and_status_filter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(content(tmp_path))
    args = ("--policies-dir", folder, "frameworks", "controls", "test-fw-1.0")
    assert cli(*args, "--status", "manual", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["id"] == "1.3" and row["status"] == "manual" and row["policies"] == []
    assert row["reason"]["en"] == "Needs a person"
    assert cli(*args, "--status", "later") == 2
    assert "--status must be one of automated, manual, uncovered" in capsys.readouterr().err
