"""Bad connections on the command line: one line each, reason codes, never a traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import typer
from sqlmodel import select

from posture.cli import app
from posture.cli.runtime import run_app
from posture.store import Connection, Scan, Store, Tenant
from tests.integration.fake_endpoints import bad_connections, fake_endpoints
from tests.integration.helpers import open_ssh_group

REGION = "ap-northeast-1"


def cli(*args: str, db: str | None = None) -> int:
    prefix = ["--db", db] if db else []
    return run_app(app, [*prefix, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[str]:
    with fake_endpoints() as base:
        yield base


def posture(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, as a user runs it."""
    env = {**os.environ, "POSTURE_DATABASE_URL": db}
    return subprocess.run(
        [sys.executable, "-m", "posture", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_add_refuses_a_malformed_endpoint(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    capsys.readouterr()
    args = ["connection", "add", "aws", "--tenant", "acme", "--name", "prod"]
    assert cli(*args, "--endpoint-url", "ftp//nonsense", db=db) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "connection 'prod'" in lines[0] and "'ftp//nonsense' has no scheme" in lines[0]
    assert "Traceback" not in captured.err + captured.out
    with Store(db).session() as session:
        assert list(session.exec(select(Connection))) == []


def test_scan_and_check_report_each_reason_without_a_traceback(
    db: str, moto_url: str, fake_aws: str
) -> None:
    open_ssh_group(boto3.client("ec2", region_name=REGION, endpoint_url=moto_url), "bastion")
    assert cli("tenant", "add", "acme", "--name", "Acme Japan", db=db) == 0
    cases = bad_connections(fake_aws)
    store = Store(db)
    with store.session() as session:  # stored directly, as an older version or an API might
        tenant = session.exec(select(Tenant)).one()
        session.add(
            Connection(
                tenant_id=tenant.id,
                name="prod",
                provider="aws",
                settings={"endpoint_url": moto_url, "regions": [REGION]},
            )
        )
        for name, (settings, _) in cases.items():
            session.add(
                Connection(tenant_id=tenant.id, name=name, provider="aws", settings=settings)
            )

    scan = posture(db, "scan", "--tenant", "acme", "--policy", "aws.ec2", "-q")
    check = posture(db, "connection", "check", "--tenant", "acme")

    for run in (scan, check):
        assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert scan.returncode == 0, scan.stderr  # partial: the good connection was scanned
    assert "  prod: succeeded" in scan.stdout
    for name, (_, code) in cases.items():
        assert f"connection {name} failed ({code}): connection '{name}'" in scan.stderr
        assert f"{name}: failed ({code}) - connection '{name}'" in check.stderr
    assert check.returncode == 1
    assert "prod: ok" in check.stdout
    with store.session() as session:
        (only,) = session.exec(select(Scan))
        assert only.status == "partial"
        scan_id = only.id
    store.dispose()
    shown = posture(db, "scans", "show", scan_id[:8])  # a unique prefix is enough
    assert shown.returncode == 0, shown.stderr
    for _, code in cases.values():  # the reason of every failed connection is named
        assert f"failed ({code})" in shown.stdout, shown.stdout


def _broken_app() -> typer.Typer:
    broken = typer.Typer()

    @broken.command()
    def boom() -> None:
        raise RuntimeError("boom\nsecond line")

    @broken.command()
    def noisy() -> None:
        try:
            raise ValueError("handled")
        except ValueError:
            logging.getLogger("posture.test").exception("something went wrong")

    return broken


def test_unexpected_error_is_one_line_and_a_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_app(_broken_app(), ["boom"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err + captured.out
    assert lines[0].startswith("error: unexpected RuntimeError: boom second line; details in ")
    log_file = Path(lines[0].rsplit("details in ", 1)[1])
    assert log_file.parent == tmp_path / "posture-home" / "logs"
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError: boom" in text


def test_logged_errors_go_to_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_app(_broken_app(), ["noisy"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    (log_file,) = (tmp_path / "posture-home" / "logs").glob("posture-*.log")
    assert f"logged to {log_file}" in captured.err
    assert "ValueError: handled" in log_file.read_text(encoding="utf-8")


def test_unwritable_log_still_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("", encoding="utf-8")
    monkeypatch.setenv("POSTURE_HOME", str(home))
    assert run_app(_broken_app(), ["boom"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "could not be written" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_scan_crash_in_the_real_app_is_one_line(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from posture.operations import scans as scan_operations

    def broken(*_: object, **__: object) -> None:
        raise KeyError("surprise")

    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    monkeypatch.setattr(scan_operations, "run_scan", broken)
    capsys.readouterr()
    assert cli("scan", "--tenant", "acme", "-q", db=db) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "unexpected KeyError: 'surprise'; details in" in captured.err
