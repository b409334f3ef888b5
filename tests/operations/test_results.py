"""Result queries: the latest result per connection and policy, scans pinned by prefix."""

from __future__ import annotations

import pytest

from posture.errors import ConfigurationError, UsageError
from posture.operations import Operations, ResultQuery
from posture.operations.results import query_results

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING, Seed

BUCKET = "arn:aws:s3:::acme-logs"
OTHER = "arn:aws:s3:::acme-web"


def statuses(rows: list) -> dict[tuple[str, str, str], str]:  # type: ignore[type-arg]
    return {(r.connection, r.policy_id, r.resource_uid): r.status for r in rows}


def test_latest_scan_per_connection_with_passes_and_failures(ops: Operations, seed: Seed) -> None:
    acme = seed.tenant("acme")
    prod = seed.connection(acme, "prod")
    old = seed.scan(acme, 0, policies=[VERSIONING, ENCRYPTION])
    seed.target(old, prod)
    seed.result(old, prod, VERSIONING, BUCKET, "pass")
    new = seed.scan(acme, 24, policies=[VERSIONING, ENCRYPTION])
    seed.target(new, prod, "partial")
    seed.result(
        new,
        prod,
        VERSIONING,
        BUCKET,
        "fail",
        statement={"en": "Bucket acme-logs keeps no versions", "ja": "バケット acme-logs"},
        evidence=[{"path": "versioning.Status", "op": "eq", "expected": "Enabled", "actual": None}],
    )
    seed.result(new, prod, ENCRYPTION, BUCKET, "pass", statement={"en": "stale", "ja": "stale"})
    seed.result(new, prod, ENCRYPTION, "", "error", reason="s3:GetBucketEncryption denied")

    rows = query_results(ops, ResultQuery())
    assert statuses(rows) == {
        ("prod", VERSIONING, BUCKET): "fail",
        ("prod", ENCRYPTION, BUCKET): "pass",
        ("prod", ENCRYPTION, ""): "error",
    }
    assert [r.status for r in rows] == ["fail", "error", "pass"]  # what needs attention first
    failed = rows[0]
    assert failed.scan_id == new.id and failed.resource_name == "acme-logs"
    assert failed.statement.en == "Bucket acme-logs keeps no versions"
    assert failed.severity == "medium" and failed.title.ja
    assert failed.evidence[0]["path"] == "versioning.Status"
    passed = rows[-1]
    assert passed.statement.en == "" and passed.statement.ja == ""  # only failures have one
    assert rows[1].reason == "s3:GetBucketEncryption denied"


def test_failed_and_never_scanned_connections_are_errors_not_clean(
    ops: Operations, seed: Seed
) -> None:
    acme = seed.tenant("acme")
    prod, stage, fresh = (seed.connection(acme, n) for n in ("prod", "stage", "fresh"))
    first = seed.scan(acme, 0, policies=[VERSIONING])
    seed.target(first, prod)
    seed.target(first, stage)
    seed.result(first, prod, VERSIONING, BUCKET, "pass")
    seed.result(first, stage, VERSIONING, OTHER, "pass")
    second = seed.scan(acme, 24, policies=[VERSIONING], status="partial")
    seed.target(second, prod)
    seed.target(second, stage, "failed", "connection 'stage': the role cannot be assumed")
    seed.result(second, prod, VERSIONING, BUCKET, "pass")

    rows = query_results(ops, ResultQuery(tenant="acme"))
    by_connection = {r.connection: r for r in rows}
    assert len(rows) == 3
    stage_row = by_connection["stage"]
    assert stage_row.status == "error" and stage_row.scan_id == second.id
    assert "the role cannot be assumed" in stage_row.reason and "stage" in stage_row.reason
    assert stage_row.title.en and stage_row.title.ja
    assert by_connection["fresh"].status == "error"
    assert "not been scanned" in by_connection["fresh"].reason
    assert by_connection["prod"].scan_id == second.id
    # the error rows stay whatever the policy filter; a status filter applies to them too
    assert {r.connection for r in query_results(ops, ResultQuery(policies=("aws.s3",)))} == {
        "prod",
        "stage",
        "fresh",
    }
    assert [r.connection for r in query_results(ops, ResultQuery(statuses=("pass",)))] == ["prod"]
    assert fresh.name == "fresh"


def test_policy_not_run_by_the_newest_scan_keeps_its_older_result(
    ops: Operations, seed: Seed
) -> None:
    acme = seed.tenant("acme")
    prod = seed.connection(acme, "prod")
    full = seed.scan(acme, 0, policies=[VERSIONING, ROOT_MFA])
    seed.target(full, prod)
    seed.result(full, prod, VERSIONING, BUCKET, "fail")
    seed.result(
        full,
        prod,
        ROOT_MFA,
        "arn:aws:iam::123456789012:root",
        "fail",
        resource_type="aws.iam.account",
    )
    only_s3 = seed.scan(acme, 24, policies=[VERSIONING])
    seed.target(only_s3, prod)
    seed.result(only_s3, prod, VERSIONING, BUCKET, "pass")

    rows = query_results(ops, ResultQuery())
    assert {(r.policy_id, r.status, r.scan_id) for r in rows} == {
        (VERSIONING, "pass", only_s3.id),
        (ROOT_MFA, "fail", full.id),
    }


def test_scan_pinned_by_unique_prefix(ops: Operations, seed: Seed) -> None:
    acme = seed.tenant("acme")
    prod = seed.connection(acme, "prod")
    old = seed.scan(acme, 0, policies=[VERSIONING], scan_id="aaaa1111" + "0" * 24)
    seed.target(old, prod)
    seed.result(old, prod, VERSIONING, BUCKET, "fail")
    new = seed.scan(acme, 24, policies=[VERSIONING], scan_id="aaaa2222" + "0" * 24)
    seed.target(new, prod)
    seed.result(new, prod, VERSIONING, BUCKET, "pass")

    assert [r.status for r in query_results(ops, ResultQuery(scan="aaaa1"))] == ["fail"]
    assert [r.status for r in query_results(ops, ResultQuery(scan=new.id))] == ["pass"]
    with pytest.raises(UsageError, match="ambiguous"):
        query_results(ops, ResultQuery(scan="aaaa"))
    with pytest.raises(ConfigurationError, match="no scan with id 'bbbb'"):
        query_results(ops, ResultQuery(scan="bbbb"))


def test_policy_filters_accept_ids_prefixes_and_globs(ops: Operations, seed: Seed) -> None:
    acme = seed.tenant("acme")
    prod = seed.connection(acme, "prod")
    scan = seed.scan(acme, 0, policies=[VERSIONING, ENCRYPTION, ROOT_MFA])
    seed.target(scan, prod)
    for policy in (VERSIONING, ENCRYPTION):
        seed.result(scan, prod, policy, BUCKET, "pass")
    seed.result(scan, prod, ROOT_MFA, "root", "fail", resource_type="aws.iam.account")

    def ids(*patterns: str) -> set[str]:
        return {r.policy_id for r in query_results(ops, ResultQuery(policies=patterns))}

    assert ids(VERSIONING) == {VERSIONING}
    assert ids("aws.s3") == {VERSIONING, ENCRYPTION}
    assert ids("aws.s3.*encryption*") == {ENCRYPTION}
    assert ids("aws.iam", "aws.s3.bucket_versioning_enabled") == {ROOT_MFA, VERSIONING}
    with pytest.raises(UsageError, match=r"no policy matches 'aws\.s3\.bucket_versioning'"):
        ids("aws.s3.bucket_versioning")  # a prefix matches whole parts only
    with pytest.raises(UsageError, match="--status takes one of"):
        query_results(ops, ResultQuery(statuses=("failed",)))


def test_results_are_scoped_to_the_tenant(ops: Operations, seed: Seed) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    prod = seed.connection(acme, "prod")
    theirs = seed.connection(globex, "prod")
    mine = seed.scan(acme, 0, policies=[VERSIONING])
    seed.target(mine, prod)
    seed.result(mine, prod, VERSIONING, BUCKET, "pass")
    other = seed.scan(globex, 1, policies=[VERSIONING], scan_id="ffff" + "0" * 28)
    seed.target(other, theirs)
    seed.result(other, theirs, VERSIONING, "arn:aws:s3:::globex-secret", "fail")

    rows = query_results(ops, ResultQuery(tenant="acme"))
    assert [r.resource_uid for r in rows] == [BUCKET]
    with pytest.raises(ConfigurationError, match="no scan"):
        query_results(ops, ResultQuery(tenant="acme", scan="ffff"))
    with pytest.raises(UsageError, match="several tenants exist, name one of: acme, globex"):
        query_results(ops, ResultQuery())
