"""posture notify: channels added, listed, tested against a real receiver, removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.cli.test_cli import cli

from .receivers import http_receiver


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_channels_from_the_command_line(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_HOOK_KEY", "k3y")
    tenant = ["tenant", "add", "acme", "--name", "Acme Japan", "--locale", "en"]
    assert cli(*tenant, "--option", "notify_min_severity=critical", db=db) == 0
    with http_receiver() as receiver:
        add = ["notify", "add", "webhook", "siem", "--tenant", "acme", "--url", receiver.url]
        assert cli(*add, "--secret-env", "ACME_HOOK_KEY", "--min-severity", "medium", db=db) == 0
        assert "channel siem (webhook, immediate, medium and above)" in capsys.readouterr().out
        assert cli(*add, "--secret-env", "ACME_HOOK_KEY", db=db) == 2
        assert "already has a channel named 'siem'" in capsys.readouterr().err
        mail = ["notify", "add", "email", "soc", "--tenant", "acme", "--smtp-host", "smtp.example"]
        assert cli(*mail, "--from", "posture@msp.example", "--url", "https://x", db=db) == 2
        err = capsys.readouterr().err
        assert "invalid email setting" in err and "recipients" in err
        assert (
            cli(
                *mail,
                "--from",
                "p@msp.example",
                "--to",
                "soc@acme.example",
                "--mode",
                "digest",
                db=db,
            )
            == 0
        )
        assert "channel soc (email, digest, critical and above)" in capsys.readouterr().out

        assert cli("notify", "list", db=db) == 0
        out = capsys.readouterr().out
        assert "siem" in out and "ACME_HOOK_KEY" in out and "k3y" not in out
        assert "soc@acme.example via smtp.example:587" in out and "digest" in out

        assert cli("notify", "test", "siem", db=db) == 0
        assert "test message sent to siem" in capsys.readouterr().out
        (request,) = receiver.requests
        assert verify(
            "k3y",
            request.headers[TIMESTAMP_HEADER],
            request.body,
            request.headers[SIGNATURE_HEADER],
        )
        assert json.loads(request.body)["type"] == "posture.test"

        monkeypatch.delenv("ACME_HOOK_KEY")
        assert cli("notify", "test", "siem", db=db) == 1
        assert "ACME_HOOK_KEY" in capsys.readouterr().err
        assert len(receiver.requests) == 1

    assert cli("notify", "digest", db=db) == 0
    assert "0 notification(s) sent, 0 failed" in capsys.readouterr().out
    assert cli("notify", "log", db=db) == 0
    capsys.readouterr()
    assert cli("notify", "remove", "siem", db=db) == 0
    assert cli("notify", "remove", "siem", db=db) == 2
    assert "known channels: soc" in capsys.readouterr().err
