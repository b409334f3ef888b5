"""The audit log: what operations record, the hash chain, retention and exports."""

from __future__ import annotations

import csv
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import posture.operations.audit as audit
from posture.catalog import Catalog
from posture.errors import ConfigurationError, UsageError
from posture.operations import Operations
from posture.operations.audit import (
    AuditQuery,
    audit_settings,
    export_audit,
    list_audit,
    page_audit,
    parse_moment,
    purge_audit,
    record,
    set_retention,
    verify_audit,
    verify_audit_file,
)
from posture.operations.connections import add_aws_connection, check_connections
from posture.operations.reports import generate_report
from posture.operations.scans import scan_tenant
from posture.operations.tenants import add_tenant
from posture.store import Store

SOURCE = "cli alice@soc-01"


@pytest.fixture
def ops(store: Store, catalog: Catalog) -> Operations:
    return Operations.using(store, catalog, actor="alice", source=SOURCE)


def actions(ops: Operations) -> list[tuple[str, str, str]]:
    return [(e.action, e.tenant, e.target) for e in list_audit(ops)]


def sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def entries(ops: Operations, n: int, tenant: str = "acme") -> None:
    for i in range(n):
        record(ops, "tenant.note", tenant=tenant, target=f"t{i}", details={"i": i})


# --- what is recorded ------------------------------------------------------------


def test_tenant_and_connection_changes_are_recorded(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme", locale="en", contacts=["soc@acme.example"])
    with pytest.raises(ConfigurationError):
        add_tenant(ops, "acme", name="Again")  # refused: nothing changed, nothing recorded
    add_aws_connection(ops, "acme", "prod", profile="does-not-exist", regions=["us-east-1"])
    check_connections(ops, "acme")
    assert actions(ops) == [
        ("tenant.add", "acme", "acme"),
        ("connection.add", "acme", "prod"),
        ("connection.check", "acme", "prod"),
    ]
    tenant, conn, check = list_audit(ops)
    assert tenant.actor == "alice" and tenant.source == SOURCE
    assert tenant.details["locale"] == "en" and tenant.details["contacts"] == ["soc@acme.example"]
    assert conn.details == {
        "provider": "aws",
        "settings": {"profile": "does-not-exist", "regions": ["us-east-1"]},
    }
    assert check.details["health"] == "failed" and check.details["reason"]
    assert verify_audit(ops).ok


def test_scans_and_reports_are_recorded(ops: Operations, tmp_path: Path, moto_url: str) -> None:
    add_tenant(ops, "acme", name="Acme", timezone="UTC")
    add_aws_connection(ops, "acme", "prod", endpoint_url=moto_url, regions=["us-east-1"])
    with pytest.raises(ConfigurationError, match="no connection named 'other'"):
        scan_tenant(ops, "acme", connections=["other"])
    outcome = scan_tenant(ops, "acme", policies=["aws.iam.user_console_mfa"])
    report = generate_report(ops, "acme", formats=["html"], languages=["en"], out=tmp_path)
    refused, ran, generated = list_audit(ops, AuditQuery(actions=("scan", "report")))
    assert (refused.action, refused.target) == ("scan.run", "")
    assert "no connection named 'other'" in refused.details["error"]
    assert (ran.action, ran.target, ran.tenant) == ("scan.run", outcome.scan_id, "acme")
    assert ran.details["status"] == outcome.status
    assert ran.details["targets"] == {"prod": outcome.targets[0].status}
    assert ran.details["policies"] == ["aws.iam.user_console_mfa"]
    assert (generated.action, generated.target) == ("report.generate", report.period.label)
    assert generated.details["files"] == [str(p.resolve()) for p in report.paths]
    assert generated.details["languages"] == ["en"]


def test_the_actor_defaults_to_the_os_user(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "os_user", lambda: "svc-posture")
    (entry,) = [record(Operations.using(store), "tenant.note")]
    assert entry.actor == "svc-posture" and entry.source.startswith("api svc-posture@")
    with pytest.raises(UsageError, match="invalid audit action"):
        record(Operations.using(store), "Tenant Added")


# --- the chain -------------------------------------------------------------------


def test_an_intact_chain_verifies(ops: Operations) -> None:
    entries(ops, 3)
    check = verify_audit(ops)
    assert check.ok and (check.entries, check.last_seq, check.anchor_seq) == (3, 3, 0)
    first, second, _ = list_audit(ops)
    assert first.prev_hash == "" and second.prev_hash == first.hash
    assert len(first.hash) == 64 and first.computed_hash() == first.hash


def test_an_empty_store_verifies(ops: Operations) -> None:
    assert verify_audit(ops).ok and verify_audit(ops).entries == 0


TAMPERING = {
    "edited": (
        "UPDATE audit_entry SET actor = 'mallory' WHERE seq = 3",
        3,
        "entry 3 was edited",
    ),
    "deleted": ("DELETE FROM audit_entry WHERE seq = 3", 3, "entry 3 is missing"),
    "deleted at the end": (
        "DELETE FROM audit_entry WHERE seq >= 4",
        4,
        "entries 4 to 5 are missing",
    ),
    "deleted at the start": ("DELETE FROM audit_entry WHERE seq = 1", 1, "entry 1 is missing"),
}


@pytest.mark.parametrize("case", list(TAMPERING), ids=list(TAMPERING))
def test_verify_names_the_first_broken_entry(ops: Operations, store: Store, case: str) -> None:
    entries(ops, 5)
    statement, broken, problem = TAMPERING[case]
    sql(store, statement, fake="0" * 64)
    check = verify_audit(ops)
    assert not check.ok
    assert check.broken_seq == broken
    assert problem in check.problem


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(
    ops: Operations, store: Store
) -> None:
    entries(ops, 5)
    third = list_audit(ops)[2]
    edited = {**third.as_dict(), "target": "covered up"}
    sql(
        store,
        "UPDATE audit_entry SET target = 'covered up', hash = :hash WHERE seq = 3",
        hash=audit.entry_hash(edited),
    )
    check = verify_audit(ops)
    assert check.broken_seq == 4
    assert "entry 4 does not follow entry 3" in check.problem


def test_an_entry_appended_behind_the_chain_s_back_is_detected(
    ops: Operations, store: Store
) -> None:
    entries(ops, 2)
    last = list_audit(ops)[-1]
    forged = {**last.as_dict(), "seq": 3, "target": "forged", "prev_hash": last.hash}
    forged["hash"] = audit.entry_hash(forged)  # a well-formed entry, written without record()
    sql(
        store,
        "INSERT INTO audit_entry (seq, at, actor, action, tenant, target, details, source,"
        " prev_hash, hash) SELECT 3, at, actor, action, tenant, 'forged', details, source,"
        " :prev, :hash FROM audit_entry WHERE seq = 2",
        prev=last.hash,
        hash=forged["hash"],
    )
    check = verify_audit(ops)
    assert check.broken_seq == 2
    assert "the chain ends at entry 3, but its head record names entry 2" in check.problem


def test_an_entry_inserted_in_the_middle_breaks_the_chain(ops: Operations, store: Store) -> None:
    entries(ops, 4)
    # make room after entry 2 and put a well-formed entry there, linked to entry 2
    for seq in (4, 3):
        sql(store, f"UPDATE audit_entry SET seq = {seq + 1} WHERE seq = {seq}")
    second = list_audit(ops)[1]
    forged = {**second.as_dict(), "seq": 3, "target": "forged", "prev_hash": second.hash}
    forged["hash"] = audit.entry_hash(forged)
    sql(
        store,
        "INSERT INTO audit_entry (seq, at, actor, action, tenant, target, details, source,"
        " prev_hash, hash) SELECT 3, at, actor, action, tenant, 'forged', details, source,"
        " :prev, :hash FROM audit_entry WHERE seq = 2",
        prev=second.hash,
        hash=forged["hash"],
    )
    sql(store, "UPDATE audit_chain SET head_seq = 5")
    check = verify_audit(ops)
    assert check.broken_seq == 4  # the entry that used to be 3 no longer links or hashes
    assert not check.ok


def test_concurrent_writers_keep_one_chain(store: Store) -> None:
    """Two processes' worth of writers (own engines on PostgreSQL) appending at once."""
    per_writer, errors = 15, []

    def write(name: str) -> None:
        own = Store(str(store.engine.url.render_as_string(hide_password=False)), auto_migrate=False)
        try:
            ops = Operations.using(own, actor=name, source="test")
            for i in range(per_writer):
                record(ops, "tenant.note", target=f"{name}-{i}")
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=write, args=(n,)) for n in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ops = Operations.using(store)
    written = list_audit(ops)
    assert [e.seq for e in written] == list(range(1, 2 * per_writer + 1))
    assert {e.actor for e in written} == {"w1", "w2"}
    assert verify_audit(ops).ok


# --- retention and purge ---------------------------------------------------------

OLD = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def test_purge_moves_old_entries_to_a_file_and_the_chain_starts_at_the_anchor(
    ops: Operations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "utcnow", lambda: OLD)
    entries(ops, 3)
    monkeypatch.setattr(audit, "utcnow", lambda: OLD + timedelta(days=100))
    entries(ops, 2)
    out = tmp_path / "purged.jsonl"
    outcome = purge_audit(ops, out, now=OLD + timedelta(days=100))
    assert outcome.purged == 3 and outcome.anchor_seq == 3
    assert outcome.cutoff == OLD + timedelta(days=10)  # 90 days by default
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines[:-1]] == [1, 2, 3]
    assert lines[-1]["anchor"] == {"seq": 3, "hash": outcome.anchor_hash}
    assert lines[-1]["previous_anchor"] == {"seq": 0, "hash": ""}
    remaining = list_audit(ops)
    assert [e.seq for e in remaining] == [4, 5, 6]
    assert remaining[-1].action == "audit.purge"
    assert remaining[-1].details["anchor_hash"] == outcome.anchor_hash
    assert remaining[0].prev_hash == outcome.anchor_hash
    check = verify_audit(ops)
    assert check.ok and check.anchor_seq == 3 and check.entries == 3
    assert verify_audit_file(out).ok
    # a second purge has nothing left to move and writes no file
    again = purge_audit(ops, tmp_path / "again.jsonl", now=OLD + timedelta(days=100))
    assert again.purged == 0 and not (tmp_path / "again.jsonl").exists()


def test_after_a_purge_deleting_the_first_remaining_entry_is_detected(
    ops: Operations, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "utcnow", lambda: OLD)
    entries(ops, 2)
    monkeypatch.setattr(audit, "utcnow", lambda: OLD + timedelta(days=200))
    entries(ops, 2)
    purge_audit(ops, tmp_path / "p.jsonl", now=OLD + timedelta(days=200))
    sql(store, "DELETE FROM audit_entry WHERE seq = 3")
    check = verify_audit(ops)
    assert check.broken_seq == 3 and "entry 3 is missing" in check.problem


def test_a_tampered_purge_file_does_not_verify(
    ops: Operations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "utcnow", lambda: OLD)
    entries(ops, 3)
    out = tmp_path / "p.jsonl"
    purge_audit(ops, out, now=OLD + timedelta(days=91))
    lines = out.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[1])
    edited["actor"] = "mallory"
    out.write_text("\n".join([lines[0], json.dumps(edited), *lines[2:]]), encoding="utf-8")
    check = verify_audit_file(out)
    assert check.broken_seq == 2 and "edited" in check.problem
    out.write_text("\n".join([lines[0], *lines[2:]]), encoding="utf-8")
    assert verify_audit_file(out).broken_seq == 2  # a line removed from the file


def test_purge_refuses_to_overwrite_and_then_deletes_nothing(
    ops: Operations, tmp_path: Path
) -> None:
    entries(ops, 2)
    out = tmp_path / "p.jsonl"
    out.write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="already exists"):
        purge_audit(ops, out, now=datetime.now(UTC) + timedelta(days=365))
    assert out.read_text(encoding="utf-8") == "keep me"
    assert len(list_audit(ops)) == 2 and verify_audit(ops).ok


def test_retention_is_a_store_setting(
    ops: Operations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert audit_settings(ops).retention_days == 90
    with pytest.raises(UsageError, match="1 to 36500 days"):
        set_retention(ops, 0)
    monkeypatch.setattr(audit, "utcnow", lambda: OLD)
    assert set_retention(ops, 7).retention_days == 7
    (changed,) = list_audit(ops)
    assert changed.action == "audit.retention" and changed.details == {"from": 90, "to": 7}
    outcome = purge_audit(ops, tmp_path / "p.jsonl", now=OLD + timedelta(days=8))
    assert outcome.purged == 1 and verify_audit(ops).ok


# --- listing and exporting -------------------------------------------------------


def test_list_filters_by_tenant_action_time_and_limit(
    ops: Operations, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day, (action, tenant) in enumerate(
        [("tenant.add", "acme"), ("connection.add", "acme"), ("connection.add", "globex")]
    ):
        monkeypatch.setattr(audit, "utcnow", lambda day=day: OLD + timedelta(days=day))
        record(ops, action, tenant=tenant)
    assert [e.seq for e in list_audit(ops, AuditQuery(tenant="acme"))] == [1, 2]
    assert [e.seq for e in list_audit(ops, AuditQuery(actions=("connection",)))] == [2, 3]
    assert [e.seq for e in list_audit(ops, AuditQuery(actions=("connection.add",)))] == [2, 3]
    assert list_audit(ops, AuditQuery(actions=("connect",))) == []  # whole words only
    since = parse_moment("2026-01-11")
    assert [e.seq for e in list_audit(ops, AuditQuery(since=since))] == [2, 3]
    until = parse_moment("2026-01-11T12:00:00+09:00")  # 03:00 UTC
    assert [e.seq for e in list_audit(ops, AuditQuery(until=until))] == [1]
    assert [e.seq for e in list_audit(ops, AuditQuery(limit=2))] == [2, 3]
    with pytest.raises(UsageError, match="--since takes a date"):
        parse_moment("last week")
    with pytest.raises(UsageError, match="--since must be before --until"):
        list_audit(ops, AuditQuery(since=until, until=since))


def test_exports_are_verifiable_json_lines_or_formula_safe_csv(
    store: Store, tmp_path: Path
) -> None:
    hostile = Operations.using(store, actor='=HYPERLINK("http://evil")', source="cli")
    record(hostile, "tenant.add", tenant="acme", target="-2+3", details={"名前": "株式会社"})
    record(hostile, "connection.add", tenant="acme", target="@SUM(A1)")
    jsonl = export_audit(hostile, tmp_path / "audit.jsonl")
    assert jsonl.entries == 2 and verify_audit_file(jsonl.path).ok
    first = json.loads(jsonl.path.read_text(encoding="utf-8").splitlines()[0])
    assert first["details"] == {"名前": "株式会社"}
    out = export_audit(hostile, tmp_path / "audit.csv", fmt="csv")
    raw = out.path.read_text(encoding="utf-8")
    assert raw.startswith("\ufeffseq,at,actor,action")
    rows = list(csv.DictReader(raw.lstrip("\ufeff").splitlines()))
    assert rows[0]["actor"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["target"] == "'-2+3" and rows[1]["target"] == "'@SUM(A1)"
    assert json.loads(rows[0]["details"]) == {"名前": "株式会社"}
    # both exports were recorded, after the entries they wrote
    assert [e.action for e in list_audit(hostile)][2:] == ["audit.export", "audit.export"]
    with pytest.raises(UsageError, match="already exists"):
        export_audit(hostile, tmp_path / "audit.csv", fmt="csv")
    # a filtered export is a part of the chain: whole with --partial only
    part = export_audit(hostile, tmp_path / "part.jsonl", AuditQuery(actions=("tenant", "audit")))
    lines = part.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 3, 4]
    check = verify_audit_file(part.path)
    assert check.broken_seq == 2 and "entry 2 is missing" in check.problem
    assert verify_audit_file(part.path, partial=True).ok
    with pytest.raises(UsageError, match="--format takes one of jsonl, csv"):
        export_audit(hostile, tmp_path / "audit.xml", fmt="xml")


def test_every_action_has_a_label_in_both_languages() -> None:
    from posture.report.i18n import SUPPORTED_LANGUAGES, load_messages

    for lang in SUPPORTED_LANGUAGES:
        messages = load_messages(lang)
        for action in audit.ACTIONS:
            assert messages.get(f"audit.action.{action}", ""), (lang, action)


# --- pages -----------------------------------------------------------------------


def test_pages_are_cut_in_the_database_newest_first_and_follow_the_filters(
    ops: Operations,
) -> None:
    add_tenant(ops, "acme", name="Acme")
    add_tenant(ops, "beta", name="Beta")
    entries(ops, 7, "acme")
    entries(ops, 3, "beta")
    whole = list(reversed(list_audit(ops, AuditQuery(tenant="acme", actions=("tenant.note",)))))
    query = AuditQuery(tenant="acme", actions=("tenant.note",))
    walked = []
    for offset in range(0, 9, 3):
        page = page_audit(ops, query, offset=offset, limit=3)
        assert page.total == 7
        walked += page.entries
    assert [e.seq for e in walked] == [e.seq for e in whole]
    assert [e.target for e in walked[:2]] == ["t6", "t5"]
    assert page_audit(ops, query, offset=50, limit=3).entries == []
    everything = page_audit(ops, offset=0, limit=500)
    assert everything.total == len(list_audit(ops)) and everything.entries[0].tenant == "beta"
    with pytest.raises(UsageError):
        page_audit(ops, query, offset=0, limit=0)
