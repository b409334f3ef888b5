"""The CLI as a face over the operations: help text, defaults, results, exports, tables."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from posture.cli import app
from posture.cli.output import table
from posture.operations.exports import BOM
from tests.cli.test_cli import cli, plant, setup_tenant

PLACEHOLDER = re.compile(r"<[a-z][^>]*>")
RESULT_KEYS = {
    "policy_id",
    "status",
    "reason",
    "statement",
    "resource_uid",
    "resource_name",
    "resource_type",
    "connection",
    "region",
    "frameworks",
    "severity",
    "title",
    "scan_id",
    "evidence",
}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def commands() -> list[tuple[list[str], Any]]:
    """Every command and group of the app, with its path of names."""
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


def test_every_option_and_argument_has_help_and_a_readable_metavar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    checked = 0
    for path, command in commands():
        assert cli(*path, "--help") == 0, path
        text = capsys.readouterr().out
        assert not PLACEHOLDER.search(text), f"posture {' '.join(path)} --help:\n{text}"
        assert "{" not in text.split("\n", 1)[0], text  # usage line: SLUG, not {slug}
        for param in command.params:
            if param.name != "help":
                assert (param.help or "").strip(), f"{path} {param.name} has no help"
                checked += 1
    assert checked > 40


def test_tenant_may_be_omitted_when_there_is_only_one(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("findings", db=db) == 2
    assert "no tenants yet" in capsys.readouterr().err
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    assert cli("connection", "add", "aws", "--name", "prod", "--profile", "p", db=db) == 0
    assert cli("findings", "--json", db=db) == 0
    capsys.readouterr()
    assert cli("tenant", "add", "globex", "--name", "Globex", db=db) == 0
    assert cli("results", db=db) == 2
    err = capsys.readouterr().err
    assert "several tenants exist, name one of: acme, globex" in err and "--tenant" in err
    assert cli("results", "--tenant", "globex", "--json", db=db) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_results_findings_exports_and_scan_prefixes(
    db: str, moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(moto_url)
    setup_tenant(db, moto_url)
    assert cli("scan", "--policy", "aws.s3.bucket_*", "--policy", "aws.ec2", "-q", db=db) == 0
    capsys.readouterr()

    assert cli("results", "--json", db=db) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(set(r) == RESULT_KEYS for r in rows)
    statuses = {r["status"] for r in rows}
    assert {"pass", "fail"} <= statuses
    assert all(r["statement"] == {"en": "", "ja": ""} for r in rows if r["status"] != "fail")
    assert all(r["statement"]["en"] and r["severity"] for r in rows if r["status"] == "fail")
    scan_id = rows[0]["scan_id"]

    assert (
        cli("results", "--status", "pass", "--policy", "aws.s3.*encryption*", "--json", db=db) == 0
    )
    passes = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in passes} <= {"pass"}
    assert all("encryption" in r["policy_id"] for r in passes)
    assert cli("results", "--status", "broken", db=db) == 2
    capsys.readouterr()

    assert cli("results", "--scan", scan_id[:6], "--csv", db=db) == 0
    text = capsys.readouterr().out
    assert text.startswith(BOM)
    records = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert len(records) == len(rows)
    assert {"statement_en", "statement_ja", "reason", "scan_id"} <= set(records[0])
    assert cli("findings", "--csv", "--no-bom", db=db) == 0
    plain = capsys.readouterr().out
    assert not plain.startswith(BOM)
    assert {"statement_en", "statement_ja", "reason"} <= set(next(csv.reader(io.StringIO(plain))))

    assert cli("findings", "--json", db=db) == 0
    findings = json.loads(capsys.readouterr().out)
    assert findings and all(RESULT_KEYS | {"commands", "id"} <= set(f) for f in findings)
    assert all(f["statement"]["en"] and f["status"] == "open" for f in findings)

    assert cli("scans", "show", scan_id[:8], db=db) == 0
    assert f"scan {scan_id}" in capsys.readouterr().out
    assert cli("scans", "show", "zzzz", db=db) == 2
    assert "no scan with id 'zzzz'" in capsys.readouterr().err
    assert cli("scans", "show", "", db=db) == 2
    capsys.readouterr()
    assert cli("findings", "--policy", "aws.nothing", db=db) == 2
    assert "no policy matches 'aws.nothing'" in capsys.readouterr().err

    assert cli("results", db=db) == 0
    out = capsys.readouterr().out
    assert "aws.ec2.security_group_no_ssh_from_internet_ipv4" in out
    assert re.search(r"\d+ result\(s\): fail \d+", out)


def test_policy_ids_are_never_cut_in_tables() -> None:
    ids = [
        "aws.cloudtrail.monitoring_s3_bucket_policy_changes",
        "aws.ec2.security_group_no_ssh_from_internet_ipv4",
    ]
    for width, whole_on_a_line in ((100, True), (60, False)):
        out = Console(width=width, record=True)
        grid = table(
            "severity", "policy", "resource", "title", policy="policy", policy_ids=ids, out=out
        )
        for policy_id in ids:
            grid.add_row("high", policy_id, "arn:aws:s3:::" + "x" * 60, "A title " * 8)
        out.print(grid)
        text = out.export_text()
        assert "…" not in "".join(line.split("│")[2] for line in text.splitlines() if "│" in line)
        column = "".join(
            line.split("│")[2].strip() for line in text.splitlines() if line.count("│") > 2
        )
        for policy_id in ids:
            assert policy_id in column
            assert (policy_id in text) is whole_on_a_line


def test_validate_lists_every_problem_with_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.unit.test_catalog import GOOD, write_policy

    broken = GOOD.replace("severity: low", "severity: urgent").replace(
        "title: {en: Bucket versioning is off, ja: バケットのバージョニングが無効です}\n", ""
    )
    path = write_policy(tmp_path, broken)
    write_policy(tmp_path, "id: custom.s3.bad\ntitle: 'unclosed\n", name="bad.yaml")
    assert cli("policies", "validate", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: field 'severity':" in err
    assert f"{path}:1: field 'title': is required" in err
    assert "bad.yaml:2: invalid YAML" in err
    assert "3 problem(s)" in err
