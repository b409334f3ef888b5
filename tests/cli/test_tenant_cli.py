"""posture tenant show|menu|set-option|pause|resume, and what pausing does to scan and usage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from posture.cli import app
from posture.cli.runtime import run_app

Cli = Callable[..., int]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str) -> int:
        return run_app(app, ["--db", db, *args])

    return run


def _aws(cli: Cli, name: str) -> int:
    return cli(
        "connection", "add", "aws", "--tenant", "acme", "--name", name, "--region", "us-east-1"
    )


def test_menu_options_and_connection_limit(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    run = cli
    assert run("tenant", "add", "acme", "--name", "Acme", "--option", "plan=cspm") == 0
    assert run("tenant", "set-option", "acme", "max_connections=1") == 0
    assert run("tenant", "set-option", "acme", "setting_repair.enabled=true") == 0
    capsys.readouterr()
    assert run("tenant", "menu", "acme") == 0
    out = capsys.readouterr().out
    assert "plan: cspm" in out and "sspm: no" in out and "cspm: yes" in out
    assert "setting_repair: yes" in out and "connections: 0 of 1" in out

    assert _aws(cli, "one") == 0 and _aws(cli, "two") == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "beyond the plan" in captured.err
    assert run("usage", "--tenant", "acme") == 0
    assert "2/1 (+1 over the plan)" in capsys.readouterr().out
    assert run("tenant", "show", "acme") == 0
    assert "1 beyond the plan" in capsys.readouterr().out

    m365 = ["--tenant", "acme", "--name", "m", "--tenant-id", "x", "--client-id", "y"]
    code = run("connection", "add", "m365", *m365, "--client-secret-env", "M365_SECRET")
    assert code != 0
    assert "has not subscribed to the option 'sspm'" in capsys.readouterr().err

    assert run("tenant", "set-option", "acme", "plan=gold") == 2
    assert "invalid plan 'gold'" in capsys.readouterr().err


def test_pause_and_resume(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    run = cli
    assert run("tenant", "add", "acme", "--name", "Acme") == 0
    assert run("tenant", "pause", "acme", "--reason", "[bold]contract ended") == 0
    capsys.readouterr()
    assert run("tenant", "list") == 0
    assert "paused since" in capsys.readouterr().out
    assert run("tenant", "show", "acme") == 0
    assert "reason: [bold]contract ended" in capsys.readouterr().out  # markup is escaped

    assert run("scan", "--tenant", "acme", "--quiet") == 1
    assert "tenant acme is paused since" in capsys.readouterr().err
    assert run("scan", "--quiet") == 0
    assert "tenant acme is paused: not scanned" in capsys.readouterr().out

    assert run("tenant", "resume", "acme") == 0
    assert run("tenant", "resume", "acme") == 2
    assert "is not paused" in capsys.readouterr().err
    assert run("tenant", "list") == 0
    assert "active" in capsys.readouterr().out
    assert run("audit", "list", "--tenant", "acme") == 0
    out = capsys.readouterr().out
    assert "tenant.pause" in out and "tenant.resume" in out
