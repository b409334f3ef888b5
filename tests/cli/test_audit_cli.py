"""posture audit and posture usage on the command line: actor, exit codes, files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli.test_cli import cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def listed(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli("audit", "list", "--json", *args, db=db) == 0
    entries: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return entries


def test_the_actor_comes_from_the_option_the_environment_or_the_os(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("posture.operations.audit.os_user", lambda: "operator")
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    assert cli("--actor", "bob", "connection", "add", "aws", "--name", "p", db=db) == 0
    monkeypatch.setenv("POSTURE_ACTOR", "carol@soc")
    assert cli("tenant", "add", "globex", "--name", "Globex", db=db) == 0
    entries = listed(db, capsys)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("operator", "tenant.add"),
        ("bob", "connection.add"),
        ("carol@soc", "tenant.add"),
    ]
    assert all(str(e["source"]).startswith("cli operator@") for e in entries)
    assert [e["seq"] for e in listed(db, capsys, "--tenant", "globex")] == [3]
    assert [e["seq"] for e in listed(db, capsys, "--action", "connection")] == [2]
    assert cli("audit", "list", db=db) == 0
    assert "connection.add" in capsys.readouterr().out


def test_verify_exits_1_and_names_the_first_broken_entry(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for slug in ("acme", "globex", "initech"):
        assert cli("tenant", "add", slug, "--name", slug.title(), db=db) == 0
    capsys.readouterr()
    assert cli("audit", "verify", db=db) == 0
    assert "intact, 3 entries" in capsys.readouterr().out
    engine = create_engine(db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2"))
    assert cli("audit", "verify", db=db) == 1
    err = capsys.readouterr().err
    assert "broken at entry 2" in err and "entry 2 was edited" in err
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    assert cli("audit", "verify", db=db) == 1
    assert "entry 2 is missing" in capsys.readouterr().err
    engine.dispose()


def test_export_purge_and_verify_a_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--actor", "=cmd|' /C calc'!A0", "tenant", "add", "acme", "--name", "A", db=db) == 0
    out = tmp_path / "audit.jsonl"
    assert cli("audit", "export", "--out", str(out), "--since", "2020-01-01", db=db) == 0
    assert cli("audit", "verify", "--file", str(out), db=db) == 0
    assert "intact, 1 entries" in capsys.readouterr().out
    sheet = tmp_path / "audit.csv"
    assert cli("audit", "export", "--out", str(sheet), "--format", "csv", "--no-bom", db=db) == 0
    row = next(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    assert row["actor"] == "'=cmd|' /C calc'!A0"
    assert cli("audit", "export", "--out", str(sheet), db=db) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert cli("audit", "retention", db=db) == 0
    assert "kept 90 days" in capsys.readouterr().out
    assert cli("audit", "retention", "1", db=db) == 0
    assert "kept 1 days" in capsys.readouterr().out
    purged = tmp_path / "purged.jsonl"
    assert cli("audit", "purge", "--out", str(purged), db=db) == 0
    assert "no entries older than" in capsys.readouterr().out and not purged.exists()
    assert cli("audit", "export", "--out", str(tmp_path / "x"), "--since", "soon", db=db) == 2


def test_usage_as_table_json_and_csv(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    assert cli("connection", "add", "aws", "--name", "p", "--profile", "p", db=db) == 0
    capsys.readouterr()
    assert cli("usage", "--json", db=db) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["tenant"] == "acme" and row["connections"] == 1 and row["scans"] == 0
    assert row["in_progress"] is True
    assert cli("usage", "--csv", "--month", "2020-01", db=db) == 0
    lines = capsys.readouterr().out.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("tenant,month,timezone,connections,connections_scanned")
    assert lines[1].startswith("acme,2020-01,Asia/Tokyo,0,0,0,0,0,0")
    assert cli("usage", db=db) == 0
    assert "acme" in capsys.readouterr().out
    assert cli("usage", "--month", "2020/01", db=db) == 2
    assert "--month takes YYYY-MM" in capsys.readouterr().err
