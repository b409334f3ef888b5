"""posture schedule add|list|disable|enable|remove|runs and posture serve --scheduler."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest

from posture.cli import app
from posture.cli.runtime import run_app
from posture.operations import Operations
from posture.operations.schedules import add_schedule, list_runs
from posture.store import Store
from tests.conftest import PG_URL, STORE_KINDS, _postgres_store
from tests.operations.test_schedules import due_hourly


def cli(db: str, *args: str) -> int:
    return run_app(app, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli(url, "tenant", "add", "acme", "--name", "Acme Japan") == 0
    return url


def test_schedule_round_trip(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        cli(db, "schedule", "add", "--tenant", "acme", "--kind", "scan", "--cron", "0 3 * * *") == 0
    )
    added = capsys.readouterr().out
    scan_id = re.search(r"schedule (\w+) added", added)
    assert scan_id and "Asia/Tokyo" in added and "03:00 JST" in added
    args = ["--kind", "monthly-report", "--day", "3", "--time", "09:00", "--lang", "ja"]
    assert cli(db, "schedule", "add", "--tenant", "acme", *args, "--format", "pdf") == 0
    assert (
        cli(db, "schedule", "add", "--kind", "retention", "--cron", "30 4 * * 0", "--days", "90")
        == 0
    )
    capsys.readouterr()

    assert cli(db, "schedule", "list") == 0
    listed = capsys.readouterr().out
    assert "monthly_report" in listed and "0 9 3 * *" in listed
    assert "languages=ja" in listed and "formats=pdf" in listed and "days=90" in listed

    assert cli(db, "schedule", "disable", scan_id.group(1)[:8]) == 0
    assert "disabled" in capsys.readouterr().out
    assert cli(db, "schedule", "enable", scan_id.group(1)[:8]) == 0
    assert cli(db, "schedule", "remove", scan_id.group(1)[:8], "--tenant", "acme") == 0
    assert "removed" in capsys.readouterr().out
    assert cli(db, "schedule", "list", "--tenant", "acme") == 0
    assert scan_id.group(1) not in capsys.readouterr().out
    assert cli(db, "schedule", "runs") == 0


def test_schedule_errors_name_the_fix(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db, "schedule", "add", "--kind", "scan", "--cron", "0 3 * *") == 2
    assert "five fields" in capsys.readouterr().err
    assert cli(db, "schedule", "add", "--kind", "monthly-report", "--day", "31") == 2
    assert "1 to 28" in capsys.readouterr().err
    assert cli(db, "schedule", "remove", "nope") == 2
    assert "no schedule with id" in capsys.readouterr().err
    assert cli(db, "serve", "--no-web", "--no-scheduler") == 2
    assert "--scheduler" in capsys.readouterr().err


def test_serve_runs_schedules_and_stops_on_sigterm(db: str) -> None:
    assert cli(db, "schedule", "add", "--kind", "retention", "--cron", "0 4 * * *") == 0
    env = {**os.environ, "POSTURE_DATABASE_URL": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "posture", "serve", "--scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "scheduler running" in line or not line:
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "scheduler started: 1 job(s)" in log
    assert "received SIGTERM" in log and "scheduler stopped" in log


def _start_serving(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "posture", "serve", "--scheduler", "--poll-seconds", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_two_scheduler_processes_run_a_due_job_once(kind: str, tmp_path: Path) -> None:
    """Two ``posture serve --scheduler`` processes on one database: one run, one skip."""
    with ExitStack() as stack:
        if kind == "postgres":
            if not PG_URL:
                pytest.skip("POSTURE_TEST_DATABASE_URL is not set")
            store = stack.enter_context(_postgres_store())
            url = store.engine.url.render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{tmp_path / 'two.db'}"
            store = Store(url)
            stack.callback(store.dispose)
        assert cli(url, "tenant", "add", "acme", "--name", "Acme") == 0
        ops = Operations.using(store)
        # hourly, due since about two minutes ago, when neither scheduler was running
        info = add_schedule(ops, "acme", "retention", **due_hourly())
        env = {**os.environ, "POSTURE_DATABASE_URL": url}
        procs = [_start_serving(env), _start_serving(env)]
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                runs = list_runs(ops, "acme")
                if runs and all(r.finished_at for r in runs):
                    break
                time.sleep(0.2)
            time.sleep(1.0)  # both have polled the job store again by now
        finally:
            logs = []
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
                logs.append(proc.communicate(timeout=60)[1])
        assert [p.returncode for p in procs] == [0, 0], logs
        runs = [r for r in list_runs(ops, "acme", limit=100) if r.schedule_id == info.id]
        by_time: dict[datetime, int] = {}
        for run in runs:
            by_time[run.scheduled_for] = by_time.get(run.scheduled_for, 0) + 1
        assert len(runs) == 1 and set(by_time.values()) == {1}, runs
        assert {r.outcome for r in runs} == {"succeeded"}
        assert len({r.runner for r in runs}) >= 1
