"""Upgrading a store with findings gives each of them the history it already had."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from posture.store import Store, make_engine
from posture.store.db import MIGRATIONS


def test_existing_findings_get_their_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenant (id, slug, name, locale, timezone, contacts, options, "
                "created_at) VALUES ('t1', 'acme', 'Acme', 'ja', 'Asia/Tokyo', '[]', '{}', "
                "'2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO connection (id, tenant_id, name, provider, settings, account, "
                "health, health_message, created_at) VALUES ('c1', 't1', 'prod', 'aws', '{}', "
                "'', 'ok', '', '2026-01-01 00:00:00')"
            )
        )
        for fid, state, resolved in (
            ("f-open", "open", None),
            ("f-fixed", "resolved", "2026-02-03 04:05:06"),
        ):
            conn.execute(
                text(
                    "INSERT INTO finding (id, tenant_id, connection_id, policy_id, "
                    "resource_type, resource_uid, resource_name, region, severity, state, "
                    "evidence, statement, commands, first_seen, last_seen, resolved_at, "
                    "reopened, last_scan_id) VALUES (:id, 't1', 'c1', 'p', 'aws.s3.bucket', "
                    ":id, '', 'us-east-1', 'high', :state, '[]', '{}', '[]', "
                    "'2026-01-02 03:04:05', '2026-01-02 03:04:05', :resolved, 0, 's1')"
                ),
                {"id": fid, "state": state, "resolved": resolved},
            )
    engine.dispose()

    store = Store(url)  # migrates to the newest revision
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT finding_id, kind, reason, severity, at FROM finding_event "
                "ORDER BY finding_id, at"
            )
        ).all()
        tags = conn.execute(text("SELECT tags, waiver_id FROM finding")).all()
    store.dispose()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("f-fixed", "opened", "migrated", "high"),
        ("f-fixed", "resolved", "migrated", "high"),
        ("f-open", "opened", "migrated", "high"),
    ]
    assert str(rows[1][4]).startswith("2026-02-03 04:05:06")
    assert all(t == ("{}", "") for t in tags)
