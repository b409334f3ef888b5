"""The demo is repeatable and stays in its own store.

Running ``posture demo`` twice plants the same ids, so the second scan records no new and no
resolved finding; neither run touches the default store or ``POSTURE_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.cli import app
from posture.cli.runtime import run_app
from posture.demo import EstateManifest
from posture.demo.runner import DemoResult, next_commands
from posture.operations.demo import shown_url as _shown
from posture.scan import ScanOutcome
from posture.store import Finding, Store

ROOT = Path(__file__).resolve().parents[2]


def _run_demo_cli(tmp_path: Path, out: Path, run: int) -> tuple[dict[str, Any], str]:
    """One ``posture demo`` in a fresh interpreter (its own hash seed), reports skipped."""
    record = tmp_path / f"run-{run}.json"
    env = {
        **os.environ,
        "HOME": str(tmp_path / "user-home"),
        "POSTURE_DATABASE_URL": f"sqlite:///{tmp_path / 'working.db'}",
        "PYTHONHASHSEED": str(run),
    }
    command = [
        sys.executable,
        "-m",
        "tests.demo.cli_driver",
        str(record),
        "demo",
        "--out",
        str(out),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(record.read_text(encoding="utf-8")), done.stdout


def _findings(url: str, scan_id: str) -> dict[str, str]:
    """Finding id -> state for every finding in the store; also checks the scan touched them."""
    store = Store(url)
    try:
        with store.session() as session:
            rows = list(session.exec(select(Finding)))
    finally:
        store.dispose()
    assert all(row.last_scan_id == scan_id for row in rows if row.state == "open")
    return {row.id: row.state for row in rows}


def _store_files(home: Path) -> list[Path]:
    """Anything under a posture home except run logs (a warning may legitimately write one)."""
    if not home.exists():
        return []
    return [p for p in home.rglob("*") if p.is_file() and "logs" not in p.relative_to(home).parts]


@pytest.mark.slow
def test_second_run_changes_nothing_and_stays_in_its_store(tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = f"sqlite:///{out / 'demo.db'}"
    first, _ = _run_demo_cli(tmp_path, out, 1)
    after_first = _findings(url, first["scan_id"])
    second, stdout = _run_demo_cli(tmp_path, out, 2)
    after_second = _findings(url, second["scan_id"])

    assert first["status"] == second["status"] == "succeeded"
    assert first["planted"] == second["planted"]  # the same security group, VPC, key ... ids
    assert first["lifecycle"]["new"] == first["results"]["fail"] > 100
    counts = {k: v for k, v in second["lifecycle"].items() if not k.endswith("_ids")}
    assert counts == {
        "new": 0,
        "reopened": 0,
        "still_open": first["lifecycle"]["new"],
        "resolved": 0,
        "untouched": 0,
        "waived": 0,
        "lapsed": 0,
    }
    assert second["lifecycle"]["new_ids"] == second["lifecycle"]["reopened_ids"] == []
    assert second["results"] == first["results"]
    assert after_second == after_first
    assert set(after_first.values()) == {"open"}

    assert _store_files(Path(os.environ["POSTURE_HOME"])) == []
    assert _store_files(tmp_path / "user-home" / ".posture") == []
    assert not (tmp_path / "working.db").exists()
    assert f"--db {url} findings --tenant demo --min-severity high" in stdout
    assert f"--db {url} results --tenant demo --status pass --json" in stdout
    assert f"--db {url} report --tenant demo --format pdf --lang en" in stdout


@pytest.fixture
def fake_run_demo(monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> list[str]:
    """Replace the runner by a stub that records the URL of the store it was given."""
    urls: list[str] = []
    monkeypatch.setattr("posture.operations.context.load_catalog", lambda *_, **__: catalog)

    def run_demo(store: Store, *_: Any, **__: Any) -> DemoResult:
        urls.append(str(store.engine.url))
        manifest = EstateManifest("http://127.0.0.1:1", "123456789012", ("ap-northeast-1",), 1)
        return DemoResult(manifest, ScanOutcome("0" * 32, "demo", "succeeded", [], {}, 0.0))

    monkeypatch.setattr("posture.demo.runner.run_demo", run_demo)
    return urls


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ([], [], "out/demo.db"),
        ([], ["--store", "sqlite:///{tmp}/chosen.db"], "chosen.db"),
        (["--db", "sqlite:///{tmp}/typed.db"], [], "typed.db"),
        (
            ["--db", "sqlite:///{tmp}/typed.db"],
            ["--store", "sqlite:///{tmp}/chosen.db"],
            "chosen.db",
        ),
    ],
    ids=["default", "store-option", "db-typed", "store-beats-db"],
)
def test_which_store_the_demo_uses(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_run_demo: list[str],
    prefix: list[str],
    suffix: list[str],
    expected: str,
) -> None:
    working = tmp_path / "working.db"
    monkeypatch.setenv("POSTURE_DATABASE_URL", f"sqlite:///{working}")
    args = [
        a.format(tmp=tmp_path) for a in [*prefix, "demo", "--out", str(tmp_path / "out"), *suffix]
    ]
    assert run_app(app, args) == 0
    want = f"sqlite:///{tmp_path / expected}"
    assert fake_run_demo == [want]
    printed = capsys.readouterr().out
    assert f"store: {want}" in printed
    assert f"posture --db {want} findings --tenant demo" in printed
    assert ("does not use POSTURE_DATABASE_URL" in printed) is (expected == "out/demo.db")
    assert not working.exists()
    assert _store_files(Path(os.environ["POSTURE_HOME"])) == []


def test_next_commands_quote_the_store_and_hide_passwords() -> None:
    commands = next_commands("sqlite:///my demo/demo.db", program=".venv/bin/posture")
    assert commands[0] == (
        ".venv/bin/posture --db 'sqlite:///my demo/demo.db' findings --tenant demo --min-severity high"
    )
    assert [c.split()[-4:] for c in commands[1:]] == [
        ["demo", "--status", "pass", "--json"],
        ["--format", "pdf", "--lang", "en"],
    ]
    assert _shown("sqlite:///out/demo.db") == "sqlite:///out/demo.db"
    assert "secret" not in _shown("postgresql+psycopg://posture:secret@db.example/posture")
