"""The dashboard, a finding by id, the text and provider filters and the report library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from posture.catalog import Catalog
from posture.errors import PostureError
from posture.operations import FindingQuery, Operations
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.dashboard import dashboard, visible_tenants
from posture.operations.findings import query_findings, show_finding
from posture.operations.reports import (
    generate_tenant_report,
    list_report_files,
    mark_delivered,
    report_path,
)
from posture.store import ResultRecord, ScanTarget, Store

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING
from .estate import ACCOUNT, DATA, LOGS, Estate, account, bucket

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def estates(store: Store, catalog: Catalog) -> tuple[Estate, Estate]:
    acme, beta = Estate(store, catalog, "acme"), Estate(store, catalog, "beta")
    resources = [bucket(LOGS), bucket(DATA), account()]
    acme.scan(NOW - timedelta(days=60), resources, [(VERSIONING, LOGS), (ROOT_MFA, ACCOUNT)])
    scan_id, _ = acme.scan(
        NOW - timedelta(days=2),
        resources,
        [(VERSIONING, LOGS), (ROOT_MFA, ACCOUNT), (ENCRYPTION, DATA)],
    )
    with store.session() as session:
        session.add(
            ScanTarget(
                scan_id=scan_id,
                connection_id=acme.prod.id,
                status="partial",
                stats={
                    "failures": [
                        {
                            "resource_type": "aws.kms.key",
                            "region": "us-east-1",
                            "message": "AccessDenied",
                            "permission": "kms:ListKeys",
                        }
                    ]
                },
                finished_at=NOW - timedelta(days=2),
            )
        )
        for uid, status in ((LOGS, "fail"), (DATA, "pass"), (ACCOUNT, "pass"), (DATA, "pass")):
            session.add(
                ResultRecord(
                    tenant_id=acme.tenant.id,
                    scan_id=scan_id,
                    connection_id=acme.prod.id,
                    policy_id=VERSIONING,
                    resource_type="aws.s3.bucket",
                    resource_uid=uid,
                    status=status,
                )
            )
    beta.scan(NOW - timedelta(days=1), [bucket(LOGS)], [(VERSIONING, LOGS)])
    return acme, beta


def test_dashboard_counts_score_trend_fixes_and_health(
    ops: Operations, estates: tuple[Estate, Estate]
) -> None:
    board = dashboard(ops, "acme", now=NOW)
    assert board.score == 75  # three of four judged checks passed
    assert sum(board.open_by_severity.values()) == 3
    assert list(board.open_by_severity) == ["critical", "high", "medium", "low", "info"]
    assert board.new_this_week == 1  # only the encryption finding is younger than a week
    assert len(board.trend) == 12
    assert board.top_fixes[0].findings >= 1
    assert {f.policy_id for f in board.top_fixes} == {VERSIONING, ROOT_MFA, ENCRYPTION}
    (prod,) = [c for c in board.connections if c.name == "prod"]
    assert prod.last_status == "partial"
    assert prod.last_success == NOW - timedelta(days=2)
    assert prod.missing_permissions == ["kms:ListKeys"]
    assert prod.failing[0].resource_type == "aws.kms.key"
    (dev,) = [c for c in board.connections if c.name == "dev"]
    assert dev.last_success is None and dev.last_status == ""


def test_a_tenant_never_scanned_has_no_score(
    ops: Operations, estates: tuple[Estate, Estate]
) -> None:
    assert dashboard(ops, "beta", now=NOW).score is None
    assert [t.slug for t in visible_tenants(ops)] == ["acme", "beta"]


def test_finding_by_id_only_within_its_tenant(
    ops: Operations, estates: tuple[Estate, Estate]
) -> None:
    acme, _ = estates
    fid = acme.fid(VERSIONING, LOGS)
    assert show_finding(ops, fid, "acme").row.resource_uid == LOGS
    with pytest.raises(PostureError, match="no finding"):
        show_finding(ops, fid, "beta")


def test_text_and_provider_filters(ops: Operations, estates: tuple[Estate, Estate]) -> None:
    rows = query_findings(ops, FindingQuery(tenant="acme", text="LOGS"))
    assert [r.resource_uid for r in rows] == [LOGS]
    assert query_findings(ops, FindingQuery(tenant="acme", providers=("gcp",))) == []
    assert len(query_findings(ops, FindingQuery(tenant="acme", providers=("aws",)))) == 3


def test_report_library_lists_serves_and_records_delivery(
    ops: Operations, estates: tuple[Estate, Estate], tmp_path: Path
) -> None:
    outcome = generate_tenant_report(ops, "acme", languages=["en", "ja"], now=NOW)
    assert len(outcome.paths) == 2
    files = list_report_files(ops, "acme")
    assert {f.language for f in files} == {"en", "ja"}
    assert all(f.period == "2026-03" and f.delivered_at is None for f in files)
    assert list_report_files(ops, "beta") == []
    name = files[0].name
    assert report_path(ops, "acme", name).is_file()
    for wrong_tenant, wrong_name in (("beta", name), ("acme", "../posture.db")):
        with pytest.raises(PostureError, match="no report"):
            report_path(ops, wrong_tenant, wrong_name)
    delivered = mark_delivered(ops, "acme", name, to="ciso@acme.example")
    assert delivered.delivered_to == "ciso@acme.example"
    assert delivered.delivered_at is not None
    (entry,) = list_audit(ops, AuditQuery(actions=("report.deliver",)))
    assert (entry.tenant, entry.target) == ("acme", name)
    with pytest.raises(PostureError, match="no report"):
        mark_delivered(ops, "acme", "posture-acme-2020-01-en.html")
