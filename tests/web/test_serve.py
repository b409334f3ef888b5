"""posture serve: the web app and the scheduler in one process, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(db: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "POSTURE_DATABASE_URL": db}
    return subprocess.Popen(
        [sys.executable, "-m", "posture", "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen[str], text: str) -> list[str]:
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if text in line or not line:
            break
    assert any(text in line for line in lines), "".join(lines)
    return lines


def stop(proc: subprocess.Popen[str], lines: list[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    return log


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'serve.db'}"


def test_web_and_scheduler_by_default(db: str) -> None:
    port = free_port()
    proc = serve(db, "--port", str(port), "--poll-seconds", "1")
    lines = wait_for(proc, "web serving on")
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        assert httpx.get(f"{base}/readyz", timeout=10).json()["ready"] is True
        refused = httpx.get(f"{base}/api/v1/tenants", timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"
    finally:
        log = stop(proc, lines)
    assert "scheduler running" in log and "scheduler stopped" in log
    assert f"web serving on http://127.0.0.1:{port}" in log


def test_web_only_writes_json_access_logs(db: str) -> None:
    port = free_port()
    proc = serve(db, "--no-scheduler", "--port", str(port))
    lines = wait_for(proc, "web serving on")
    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "serve-test-42"}
        )
        assert response.headers["x-request-id"] == "serve-test-42"
    finally:
        log = stop(proc, lines)
    assert "scheduler" not in log
    assert '"request_id": "serve-test-42"' in log and '"path": "/healthz"' in log


def test_workers_need_the_worker_package(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "posture.worker", None)  # an installation without it
    assert cli("serve", "--workers", "1", "--no-scheduler", db=db) == 2
    assert "Celery workers are not available" in capsys.readouterr().err


def test_workers_alone_run_in_the_foreground(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    calls: list[int] = []
    fake = types.ModuleType("posture.worker")
    fake.run_workers = lambda count, ops: calls.append(count) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "posture.worker", fake)
    assert cli("serve", "--workers", "2", "--no-web", "--no-scheduler", db=db) == 3
    assert calls == [2]
