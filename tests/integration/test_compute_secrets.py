"""A Lambda environment variable's value never reaches the store, a report or an export.

The function is planted in a moto server with a recognisable secret value, scanned through the
command line into SQLite, then every output is produced and searched for the value; the name
of the variable must be there (the finding names it), the value nowhere.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from posture.cli import app
from posture.cli.runtime import run_app
from posture.connectors.aws import entry

from .compute_stubs import SECRET_VALUE, plant_functions, stub_function_url_listing

REGION = "ap-northeast-1"


def cli(db: str, *args: str) -> int:
    return run_app(app, ["--db", db, *args])


def _every_stored_text(path: Path) -> str:
    """Every cell of every table, so a value stored in any column or JSON field is found."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        cells: list[str] = []
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                cells.extend(str(cell) for cell in row)
        return "\n".join(cells)
    finally:
        connection.close()


def test_environment_values_stay_out_of_store_reports_and_exports(
    moto_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plant_functions(REGION, moto_url)
    real_open = entry.open_target

    def with_url_listing(connection: str, settings: Any) -> Any:
        target = real_open(connection, settings)
        stub_function_url_listing(target, moto_url)
        return target

    monkeypatch.setattr(entry, "open_target", with_url_listing)
    path = tmp_path / "posture.db"
    db = f"sqlite:///{path}"
    assert cli(db, "tenant", "add", "acme", "--name", "Acme Japan") == 0
    assert (
        cli(
            db,
            "connection",
            "add",
            "aws",
            "--tenant",
            "acme",
            "--name",
            "prod",
            "--endpoint-url",
            moto_url,
            "--region",
            REGION,
        )
        == 0
    )
    assert cli(db, "scan", "--tenant", "acme", "--policy", "aws.lambda", "-q") == 0
    capsys.readouterr()
    assert cli(db, "findings", "--tenant", "acme", "--json") == 0
    findings = capsys.readouterr().out
    rows = json.loads(findings)
    env = [r for r in rows if r["policy_id"] == "aws.lambda.function_env_no_secret_names"]
    assert len(env) == 1 and env[0]["resource_name"] == "legacy-export"
    assert "DB_PASSWORD" in findings  # the name is reported ...

    outputs = [findings]
    for fmt in ("csv", "json", "ocsf"):
        out = tmp_path / f"export.{fmt}"
        assert cli(db, "export", "--tenant", "acme", "--format", fmt, "--out", str(out)) == 0
        outputs.append(out.read_text(encoding="utf-8-sig"))
    for lang in ("en", "ja"):
        folder = tmp_path / f"report-{lang}"
        assert (
            cli(
                db,
                "report",
                "--tenant",
                "acme",
                "--format",
                "html",
                "--lang",
                lang,
                "--out",
                str(folder),
            )
            == 0
        )
        outputs.extend(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    stored = _every_stored_text(path)
    assert "DB_PASSWORD" in stored and "legacy-export" in stored
    assert len(outputs) >= 6
    for text in (*outputs, stored):  # ... the value never is
        assert SECRET_VALUE not in text
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("posture.db*"))
    assert SECRET_VALUE.encode() not in raw
