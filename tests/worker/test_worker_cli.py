"""posture worker refuses what cannot work; posture service status reads the heartbeats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture.cli import app
from posture.cli.runtime import run_app
from posture.operations import Operations
from posture.operations.service import WorkerBeat, record_heartbeat
from posture.store import Store
from posture.worker.executor import CeleryExecutor, configured_executor


def test_worker_needs_a_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POSTURE_BROKER_URL", raising=False)
    code = run_app(app, ["--db", "postgresql://u@127.0.0.1:1/x", "worker"])
    assert code != 0
    assert "POSTURE_BROKER_URL" in capsys.readouterr().err


def test_worker_refuses_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POSTURE_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    code = run_app(app, ["--db", f"sqlite:///{tmp_path / 'p.db'}", "worker"])
    assert code != 0
    assert "PostgreSQL" in capsys.readouterr().err


def test_service_status_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POSTURE_BROKER_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store(url)
    record_heartbeat(Operations.using(store), WorkerBeat("w1@h", 42, ["posture.scan"], 2, 1, 9))
    store.dispose()
    assert run_app(app, ["--db", url, "service", "status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["broker"] == "" and shown["running"] == 1
    assert [(w["name"], w["alive"], w["processed"]) for w in shown["workers"]] == [
        ("w1@h", True, 9)
    ]


def test_the_executor_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_BROKER_URL", raising=False)
    monkeypatch.delenv("POSTURE_EXECUTOR", raising=False)
    assert configured_executor() is None
    monkeypatch.setenv("POSTURE_BROKER_URL", "redis://127.0.0.1:6379/9")
    assert isinstance(configured_executor(), CeleryExecutor)
    monkeypatch.setenv("POSTURE_EXECUTOR", "inprocess")
    assert configured_executor() is None
    monkeypatch.setenv("POSTURE_EXECUTOR", "threads")
    with pytest.raises(Exception, match="unknown POSTURE_EXECUTOR"):
        configured_executor()
