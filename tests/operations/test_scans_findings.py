"""Scans, finding queries, exports and reports through the operations layer."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from posture.errors import ConfigurationError, UsageError
from posture.operations import FindingQuery, Operations, ResultQuery
from posture.operations.connections import add_aws_connection
from posture.operations.exports import (
    BOM,
    FINDING_COLUMNS,
    RESULT_COLUMNS,
    finding_record,
    result_record,
    to_csv,
    to_json,
)
from posture.operations.findings import (
    open_at_or_above,
    open_by_severity,
    page_findings,
    query_findings,
)
from posture.operations.reports import generate_report, parse_period
from posture.operations.results import query_results
from posture.operations.scans import (
    list_scans,
    resolve_scan_id,
    scan_tenant,
    show_scan,
    tenants_to_scan,
)
from posture.operations.tenants import add_tenant

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING, Seed

RESULT_KEYS = {
    "policy_id",
    "status",
    "reason",
    "statement",
    "resource_uid",
    "resource_name",
    "resource_type",
    "connection",
    "region",
    "frameworks",
    "severity",
    "title",
    "scan_id",
    "evidence",
}


def test_scan_history_and_prefix_lookup(ops: Operations, seed: Seed) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    prod = seed.connection(acme, "prod")
    first = seed.scan(acme, 0, scan_id="c0ffee01" + "0" * 24)
    seed.target(first, prod, "partial", "1 resource type(s) could not be collected")
    seed.scan(acme, 24, scan_id="c0ffee02" + "0" * 24)
    seed.scan(globex, 48, scan_id="deadbeef" + "0" * 24)

    assert [s.id[:8] for s in list_scans(ops, "acme")] == ["c0ffee02", "c0ffee01"]
    assert [s.id[:8] for s in list_scans(ops, "acme", limit=1)] == ["c0ffee02"]
    assert list_scans(ops, "acme")[0].open_findings == 1
    assert resolve_scan_id(ops, "C0FFEE01") == first.id
    with pytest.raises(UsageError, match="ambiguous") as info:
        resolve_scan_id(ops, "c0ffee")
    assert "c0ffee01" in info.value.message and "c0ffee02" in info.value.message
    with pytest.raises(ConfigurationError, match="no scan"):
        resolve_scan_id(ops, "deadbeef", tenant="acme")
    detail = show_scan(ops, "c0ffee01")
    assert detail.scan.tenant == "acme"
    (target,) = detail.targets
    assert target.connection == "prod" and target.status == "partial"
    assert target.types[0].resource_type == "aws.s3.bucket" and target.types[0].calls == 9
    assert target.failures[0].resource_type == "aws.kms.key"
    assert tenants_to_scan(ops, None) == ["acme", "globex"]
    with pytest.raises(ConfigurationError, match="unknown tenant"):
        tenants_to_scan(ops, "nobody")


def test_scan_with_a_policy_that_selects_nothing_is_refused(ops: Operations, seed: Seed) -> None:
    seed.connection(seed.tenant("acme"), "prod")
    with pytest.raises(UsageError, match=r"no policy matches 'aws\.s3\.bukcet'"):
        scan_tenant(ops, "acme", policies=["aws.s3.bukcet"])
    assert list_scans(ops, "acme") == []


def test_finding_filters_and_fail_on(ops: Operations, seed: Seed) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    prod = seed.connection(acme, "prod")
    seed.finding(acme, prod, VERSIONING, "arn:aws:s3:::a", severity="medium")
    seed.finding(acme, prod, ENCRYPTION, "arn:aws:s3:::a", severity="medium", region="eu-west-1")
    seed.finding(
        acme,
        prod,
        ROOT_MFA,
        "root",
        severity="critical",
        resource_type="aws.iam.account",
        statement={"en": "Root has no MFA", "ja": "ルートに MFA がありません"},
        commands=["aws iam enable-mfa-device"],
    )
    seed.finding(acme, prod, VERSIONING, "arn:aws:s3:::b", state="resolved")
    seed.finding(globex, seed.connection(globex, "prod"), VERSIONING, "arn:aws:s3:::theirs")

    def ids(**kw: object) -> list[str]:
        rows = query_findings(ops, FindingQuery(tenant="acme", **kw))  # type: ignore[arg-type]
        return [f"{r.policy_id} {r.resource_uid}" for r in rows]

    assert ids() == [
        f"{ROOT_MFA} root",
        f"{ENCRYPTION} arn:aws:s3:::a",
        f"{VERSIONING} arn:aws:s3:::a",
    ]
    assert len(ids(status="all")) == 4 and ids(status="resolved") == [
        f"{VERSIONING} arn:aws:s3:::b"
    ]
    assert ids(min_severity="HIGH") == [f"{ROOT_MFA} root"]
    assert ids(policies=("aws.s3.*encryption*",)) == [f"{ENCRYPTION} arn:aws:s3:::a"]
    assert ids(services=("iam",), regions=("us-east-1",)) == [f"{ROOT_MFA} root"]
    assert ids(resource_types=("aws.s3.bucket",), regions=("eu-west-1",)) == [
        f"{ENCRYPTION} arn:aws:s3:::a"
    ]
    with pytest.raises(UsageError, match="unknown severity 'urgent'"):
        ids(severities=("urgent",))
    with pytest.raises(UsageError, match="--status takes one of open, waived, resolved, all"):
        ids(status="closed")
    rows = query_findings(ops, FindingQuery(tenant="acme"))
    root = rows[0]
    assert root.statement.ja == "ルートに MFA がありません"
    assert root.commands == ["aws iam enable-mfa-device"]
    assert root.frameworks["cis-aws-7.0"] == ["2.5"] and root.title.en
    assert open_at_or_above(rows, "critical") and not open_at_or_above(rows[1:], "high")
    assert open_by_severity(ops, "acme") == {"critical": 1, "medium": 2}


def test_exports_share_keys_and_are_spreadsheet_safe(ops: Operations, seed: Seed) -> None:
    acme = seed.tenant("acme")
    prod = seed.connection(acme, "prod")
    hostile = '=HYPERLINK("http://evil")'
    seed.finding(
        acme,
        prod,
        VERSIONING,
        "arn:aws:s3:::a",
        name=hostile,
        statement={
            "en": "Bucket keeps no versions",
            "ja": "バケットはバージョンを保持していません",
        },
    )
    scan = seed.scan(acme, 0, policies=[VERSIONING])
    seed.target(scan, prod)
    seed.result(scan, prod, VERSIONING, "arn:aws:s3:::a", "fail", name=hostile)

    findings = [finding_record(r) for r in query_findings(ops, FindingQuery())]
    results = [result_record(r) for r in query_results(ops, ResultQuery())]
    assert set(results[0]) == RESULT_KEYS
    assert RESULT_KEYS | {"commands", "recommendation", "first_seen", "id"} <= set(findings[0])
    assert json.loads(to_json(findings))[0]["statement"]["ja"].startswith("バケット")
    assert "バケット" in to_json(findings)  # not \\u-escaped

    text = to_csv(findings, FINDING_COLUMNS)
    assert text.startswith(BOM)
    assert not to_csv(findings, FINDING_COLUMNS, bom=False).startswith(BOM)
    (row,) = csv.DictReader(io.StringIO(text.removeprefix(BOM)))
    assert row["statement_ja"] == "バケットはバージョンを保持していません"
    assert row["resource_name"] == "'" + hostile and row["reason"] == ""
    assert list(row)[: len(FINDING_COLUMNS) - 4] == list(FINDING_COLUMNS[:-4])  # old order kept
    (result_row,) = csv.DictReader(io.StringIO(to_csv(results, RESULT_COLUMNS, bom=False)))
    assert result_row["status"] == "fail" and result_row["scan_id"] == scan.id
    assert result_row["resource_name"].startswith("'=")


def test_report_files_for_the_only_tenant(ops: Operations, tmp_path: Path) -> None:
    add_tenant(ops, "acme", name="Acme", locale="en")
    outcome = generate_report(ops, None, languages=["en", "ja"], period="2025-05", out=tmp_path)
    assert outcome.gaps == []  # no connection, so none without a scan
    assert [p.name for p in outcome.paths] == [
        "posture-acme-2025-05-en.html",
        "posture-acme-2025-05-ja.html",
    ]
    with pytest.raises(UsageError, match="--format takes html or pdf"):
        generate_report(ops, None, formats=["docx"], out=tmp_path)
    with pytest.raises(UsageError, match="--lang takes one of ja, en"):
        generate_report(ops, None, languages=["fr"], out=tmp_path)
    span = parse_period("2024-02", "Asia/Tokyo", datetime.now(UTC))
    assert (span.start.day, span.end.month, (span.end - span.start).days) == (1, 3, 29)
    assert span.start.utcoffset() == timedelta(hours=9)
    with pytest.raises(UsageError, match="YYYY-MM"):
        parse_period("May 2025", "Asia/Tokyo", datetime.now(UTC))
    with pytest.raises(UsageError, match="has not started"):
        generate_report(ops, None, period="2999-01", out=tmp_path)


def test_scan_then_results_and_findings_against_moto(ops: Operations, moto_url: str) -> None:
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket="acme-plain")
    s3.create_bucket(Bucket="acme-versioned")
    s3.put_bucket_versioning(Bucket="acme-versioned", VersioningConfiguration={"Status": "Enabled"})
    add_tenant(ops, "acme", name="Acme")
    add_aws_connection(ops, "acme", "prod", endpoint_url=moto_url, regions=["us-east-1"])

    outcome = scan_tenant(ops, "acme", policies=["aws.s3.bucket_v*"])
    assert outcome.status == "succeeded"
    rows = query_results(ops, ResultQuery(policies=(VERSIONING,)))
    by_bucket = {r.resource_name: r for r in rows}
    assert by_bucket["acme-plain"].status == "fail"
    assert by_bucket["acme-versioned"].status == "pass"
    assert by_bucket["acme-plain"].statement.en and by_bucket["acme-plain"].statement.ja
    assert by_bucket["acme-versioned"].statement.en == ""
    assert all(r.scan_id == outcome.scan_id and r.connection == "prod" for r in rows)
    (finding,) = query_findings(ops, FindingQuery(policies=(VERSIONING,)))
    assert finding.resource_name == "acme-plain" and finding.scan_id == outcome.scan_id
    assert finding.statement.en == by_bucket["acme-plain"].statement.en
    assert outcome.open_by_severity == open_by_severity(ops)


def test_csv_carries_the_deciding_evidence() -> None:
    from posture.operations.exports import evidence_text

    record = {
        "policy_id": "aws.s3.bucket_versioning_enabled",
        "frameworks": {},
        "evidence": [
            {"path": "versioning.Status", "op": "eq", "expected": "Enabled", "actual": None},
            {
                "path": "IpPermissions",
                "op": "no_item",
                "expected": "item condition",
                "actual": {"matching": 1, "total": 2, "offending": [{"index": 1}]},
                "negated": True,
            },
        ],
    }
    (row,) = csv.DictReader(io.StringIO(to_csv([record], FINDING_COLUMNS, bom=False)))
    assert row["evidence"] == "; ".join(evidence_text(e) for e in record["evidence"])
    assert row["evidence"].startswith('versioning.Status = null (expected: eq "Enabled")')
    assert '"offending": [{"index": 1}]' in row["evidence"]
    assert "(expected: not no_item" in row["evidence"]


def test_pages_cut_in_the_database_follow_the_whole_lists_order_and_count(
    ops: Operations, seed: Seed
) -> None:
    acme, other = seed.tenant("acme"), seed.tenant("other")
    prod, ws = seed.connection(acme, "prod"), seed.connection(acme, "ws", "gws")
    # mixed case and punctuation: the database must sort them as Python compares strings
    uids = ["B-bucket", "a_bucket", "A.bucket", "b", "Zed", "_x", "a%b"]
    severities = ["critical", "high", "medium", "low", "info", "retired-severity"]
    for i, uid in enumerate(uids):
        for j, policy in enumerate((VERSIONING, ENCRYPTION, "aws.zz.Retired")):
            seed.finding(
                acme,
                prod if i % 2 else ws,
                policy,
                f"arn:aws:s3:::{uid}",
                severity=severities[(i + j) % len(severities)],
                state="resolved" if (i * 3 + j) % 5 == 0 else "open",
            )
    seed.finding(other, seed.connection(other, "p"), VERSIONING, "arn:aws:s3:::theirs")
    for query in (
        FindingQuery(tenant="acme"),
        FindingQuery(tenant="acme", status="all"),
        FindingQuery(tenant="acme", min_severity="medium"),
        FindingQuery(tenant="acme", severities=("high", "low"), status="all"),
        FindingQuery(tenant="acme", connections=("prod",)),
        FindingQuery(tenant="acme", providers=("gws",), min_severity="low"),
        # policy patterns, services and words become SQL too (matched like the whole list)
        FindingQuery(tenant="acme", policies=("aws.s3.*",), status="all"),
        FindingQuery(tenant="acme", policies=(VERSIONING, "aws.zz")),
        FindingQuery(tenant="acme", services=("zz",), status="all"),
        FindingQuery(tenant="acme", text="BUCKET"),
        FindingQuery(tenant="acme", text="a%b", status="all"),  # % is a letter, not a wildcard
        FindingQuery(tenant="acme", text="a_", status="all"),
        FindingQuery(tenant="acme", text="versioning bucket", status="all"),  # title + resource
        FindingQuery(tenant="acme", text="retired s3:::b"),
    ):
        whole = [r.id for r in page_findings(ops, query, offset=0, limit=None).rows]
        assert whole, query
        pages: list[str] = []
        for offset in range(0, len(whole) + 3, 3):
            page = page_findings(ops, query, offset=offset, limit=3)
            assert page.total == len(whole), query
            pages += [r.id for r in page.rows]
        assert pages == whole, query
    assert page_findings(ops, FindingQuery(tenant="other"), offset=0, limit=50).total == 1
