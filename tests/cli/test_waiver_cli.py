"""posture waiver add|list|revoke and findings --status waived, end to end on one store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from posture.catalog import Catalog
from posture.cli import app
from posture.cli.runtime import run_app
from posture.store import Store
from tests.operations.conftest import ENCRYPTION, VERSIONING
from tests.operations.estate import LOGS, SCRATCH, Estate, bucket

HOSTILE_REASON = "[bold]<script>alert(1)</script>"


def test_waiver_round_trip(
    store: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.engine.url.render_as_string(hide_password=False)
    estate = Estate(store, catalog)
    estate.scan(
        datetime.now(UTC) - timedelta(hours=1),
        [bucket(LOGS), bucket(SCRATCH, {"env": "dev"})],
        [(VERSIONING, LOGS), (ENCRYPTION, LOGS), (VERSIONING, SCRATCH)],
    )

    def cli(*args: str) -> int:
        return run_app(app, ["--db", db, *args])

    expires = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    common = ["--reason", HOSTILE_REASON, "--requested-by", "sato", "--approved-by", "ciso"]
    assert cli("waiver", "add", "--tag", "env=dev", "--expires", expires, *common) == 0
    out = capsys.readouterr().out
    assert "1 finding(s) waived" in out and "tag=env=dev" in out

    assert cli("findings", "--status", "waived", "--json") == 0
    (waived,) = json.loads(capsys.readouterr().out)
    assert waived["resource_uid"] == SCRATCH and waived["status"] == "waived"
    assert cli("findings", "--json") == 0
    assert {f["resource_uid"] for f in json.loads(capsys.readouterr().out)} == {LOGS}

    assert cli("waiver", "list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == waived["waiver_id"] and listed["findings"] == 1
    assert listed["reason"] == HOSTILE_REASON and listed["expires_on"] == expires
    assert cli("waiver", "list") == 0
    table = capsys.readouterr().out
    assert "<script>" in table and listed["id"] in table  # shown as text, not as markup

    assert cli("waiver", "revoke", listed["id"][:6], "--by", "ciso") == 0
    assert "1 finding(s) back to open" in capsys.readouterr().out
    assert cli("waiver", "list") == 0
    assert "0 waiver(s)" in capsys.readouterr().out
    assert cli("waiver", "list", "--status", "revoked", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["revoked_by"] == "ciso"
    assert cli("findings", "--status", "waived", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_waiver_usage_errors(
    store: Store, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.engine.url.render_as_string(hide_password=False)
    Estate(store, catalog)
    base = ["--db", db, "waiver", "add", "--reason", "r", "--requested-by", "a"]
    assert run_app(app, [*base, "--approved-by", "b", "--expires", "2099-01-01"]) == 2
    assert "needs a scope" in capsys.readouterr().err
    assert run_app(app, [*base, "--approved-by", "b", "--policy", "aws.s3", "--expires", "x"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert run_app(app, ["--db", db, "waiver", "list", "--status", "gone"]) == 2
    assert run_app(app, ["--db", db, "waiver", "revoke", "abc", "--by", "x"]) == 2
    assert "no waiver" in capsys.readouterr().err
