"""The command line end to end: exit codes, JSON output, reports, interrupted scans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from sqlmodel import select

from posture.cli import app
from posture.cli.runtime import run_app
from posture.store import Finding, Scan, Store
from tests.integration.helpers import open_ssh_group

HOSTILE = "<script>alert(1)</script>"


def cli(*args: str, db: str | None = None) -> int:
    prefix = ["--db", db] if db else []
    return run_app(app, [*prefix, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def plant(endpoint: str) -> None:
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    s3.create_bucket(Bucket="acme-cli-bucket")
    ec2 = boto3.client("ec2", region_name="ap-northeast-1", endpoint_url=endpoint)
    open_ssh_group(ec2, HOSTILE, HOSTILE)


def setup_tenant(db: str, endpoint: str) -> None:
    assert cli("tenant", "add", "acme", "--name", "Acme Japan", db=db) == 0
    assert (
        cli(
            "connection",
            "add",
            "aws",
            "--tenant",
            "acme",
            "--name",
            "prod",
            "--endpoint-url",
            endpoint,
            "--region",
            "ap-northeast-1",
            db=db,
        )
        == 0
    )


def test_bad_usage_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("tenant", "add", "Not A Slug", "--name", "x", db=db) == 2
    assert "invalid tenant slug" in capsys.readouterr().err
    assert cli("scan", "--tenant", "nobody", db=db) == 2
    assert "unknown tenant 'nobody'" in capsys.readouterr().err
    assert cli("findings", "--tenant", "nobody", "--severity", "urgent", db=db) == 2
    assert cli("no-such-command", db=db) == 2


def test_duplicate_tenant_is_rejected(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 2
    assert "already exists" in capsys.readouterr().err


def test_malformed_policy_folder_exits_2_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine" / "aws" / "s3"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text(
        "id: aws.s3.broken\nresource: aws.s3.bucket\nseverity: [high\n", encoding="utf-8"
    )
    assert cli("policies", "validate", str(tmp_path / "mine")) == 2
    err = capsys.readouterr().err
    assert "broken.yaml:3" in err.replace("\n", "")


def test_policies_validate_and_test_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("policies", "validate") == 0
    assert cli("policies", "test") == 0
    out = capsys.readouterr().out
    assert " 0 failed" in out


def test_scan_findings_json_fail_on_and_report(
    db: str, moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(moto_url)
    setup_tenant(db, moto_url)
    assert cli("connection", "check", "--tenant", "acme", db=db) == 0
    assert (
        cli("scan", "--tenant", "acme", "--policy", "aws.s3", "--policy", "aws.ec2", "-q", db=db)
        == 0
    )
    assert (
        cli("scan", "--tenant", "acme", "--policy", "aws.ec2", "-q", "--fail-on", "high", db=db)
        == 1
    )
    capsys.readouterr()
    assert cli("findings", "--tenant", "acme", "--json", db=db) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    for key in (
        "policy_id",
        "resource_uid",
        "resource_type",
        "region",
        "status",
        "severity",
        "evidence",
        "frameworks",
    ):
        assert all(key in row for row in rows), key
    sg_rows = [
        r
        for r in rows
        if r["resource_type"] == "aws.ec2.security_group" and r["resource_name"] == HOSTILE
    ]
    assert sg_rows and all(r["region"] == "ap-northeast-1" and r["evidence"] for r in sg_rows)
    assert any(r["frameworks"].get("cis-aws-7.0") for r in sg_rows)
    assert (
        cli(
            "findings",
            "--tenant",
            "acme",
            "--min-severity",
            "critical",
            "--fail-on",
            "critical",
            db=db,
        )
        == 1
    )
    out = tmp_path / "reports"
    assert (
        cli(
            "report",
            "--tenant",
            "acme",
            "--format",
            "html",
            "--lang",
            "en",
            "--out",
            str(out),
            db=db,
        )
        == 0
    )
    (html_file,) = out.glob("*.html")
    html = html_file.read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003cscript\\u003e" in html


def test_bad_connection_does_not_stop_the_others(
    db: str, moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(moto_url)
    setup_tenant(db, moto_url)
    assert (
        cli(
            "connection",
            "add",
            "aws",
            "--tenant",
            "acme",
            "--name",
            "broken",
            "--profile",
            "nope",
            db=db,
        )
        == 0
    )
    assert cli("scan", "--tenant", "acme", "--policy", "aws.ec2", "-q", db=db) == 0
    captured = capsys.readouterr()
    assert "connection broken failed" in captured.err
    assert (
        cli("scan", "--tenant", "acme", "--policy", "aws.ec2", "-q", "--fail-on-error", db=db) == 1
    )
    assert cli("connection", "check", "--tenant", "acme", db=db) == 1


def test_killed_scan_leaves_no_duplicates_and_resolves_nothing(db: str, moto_url: str) -> None:
    plant(moto_url)
    setup_tenant(db, moto_url)
    args = ["scan", "--tenant", "acme", "--policy", "aws.s3", "--policy", "aws.ec2", "-q"]
    assert cli(*args, db=db) == 0
    store = Store(db)
    with store.session() as session:
        baseline = {f.id: f.state for f in session.exec(select(Finding))}
    assert baseline and set(baseline.values()) == {"open"}
    env = {**os.environ, "POSTURE_DATABASE_URL": db}
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "posture", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        with store.session() as session:
            after_kill = {f.id: f.state for f in session.exec(select(Finding))}
        assert after_kill == baseline, f"after a kill at {delay}s"
    assert cli(*args, db=db) == 0
    with store.session() as session:
        final = {f.id: f.state for f in session.exec(select(Finding))}
        statuses = [s.status for s in session.exec(select(Scan))]
    assert final == baseline
    assert statuses[-1] == "succeeded"
    assert "running" not in statuses
    store.dispose()


def test_csv_cells_cannot_start_formulas() -> None:
    from posture.operations.exports import safe_cell

    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("bucket-name") == "bucket-name"
    assert safe_cell(None) == ""


def test_permissions_are_derived_from_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("connection", "permissions", "aws", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    actions = document["Statement"][0]["Action"]
    assert "iam:GetCredentialReport" in actions and "ec2:DescribeSecurityGroups" in actions
    assert all(
        ":" in a and not a.split(":")[1].startswith(("Put", "Delete", "Create")) for a in actions
    )
