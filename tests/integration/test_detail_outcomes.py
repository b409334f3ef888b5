"""Unknown results and failed details through moto_server, the collector, the engine and the
finding lifecycle: an unknown never opens or resolves a finding, a failed detail errors only
the policies that read it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3
import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, entry, open_target
from posture.engine import evaluate
from posture.models import Status
from posture.operations.context import Operations
from posture.operations.exports import export_findings
from posture.scan import run_scan
from posture.store import Connection, Finding, ResultRecord, Scan, Store, Tenant

from .helpers import inject_error

REGION = "ap-northeast-1"
POLICY = "aws.cloudtrail.s3_bucket_access_logging"


def plant_trails(endpoint: str) -> None:
    """Three trails: a bucket that logs, one that does not, and one about to leave the account."""
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    cloudtrail = boto3.client("cloudtrail", region_name=REGION, endpoint_url=endpoint)
    where = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    for bucket in ("acme-access-logs", "acme-trail-logs", "acme-plain-trail-logs", "archive-logs"):
        s3.create_bucket(Bucket=bucket, **where)
    s3.put_bucket_acl(Bucket="acme-access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="acme-trail-logs",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "acme-access-logs", "TargetPrefix": "trail/"}
        },
    )
    cloudtrail.create_trail(Name="audit", S3BucketName="acme-trail-logs")
    cloudtrail.create_trail(Name="plain", S3BucketName="acme-plain-trail-logs")
    cloudtrail.create_trail(Name="org", S3BucketName="archive-logs")


def move_archive_bucket_away(endpoint: str) -> None:
    """From this account's view the bucket is gone: S3 answers NoSuchBucket."""
    boto3.client("s3", region_name=REGION, endpoint_url=endpoint).delete_bucket(
        Bucket="archive-logs"
    )


def make_tenant(store: Store, endpoint: str) -> None:
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan")
        session.add(tenant)
        session.flush()
        session.add(
            Connection(
                tenant_id=tenant.id,
                name="prod",
                provider="aws",
                settings={"endpoint_url": endpoint, "regions": [REGION]},
            )
        )


def judged(catalog: Catalog, endpoint: str, fault: str | None = None) -> dict[str, Any]:
    target = open_target("t", AwsSettings(endpoint_url=endpoint, regions=[REGION]))
    if fault:
        inject_error(target, "s3", fault, "AccessDenied")
    spec = catalog.specs["aws.cloudtrail.trail"]
    inventory = AwsCollector(target, [spec]).collect()
    assert inventory.failures == []
    results = evaluate(catalog.policies_for("aws.cloudtrail.trail"), inventory.resources)
    names = {r.uid: r.name for r in inventory.resources}
    return {
        "results": {(r.policy_id, names[r.resource_uid]): r for r in results},
        "inventory": inventory,
    }


def test_bucket_outside_the_account_is_unknown_with_the_reason(
    moto_url: str, catalog: Catalog
) -> None:
    plant_trails(moto_url)
    move_archive_bucket_away(moto_url)
    outcome = judged(catalog, moto_url)
    results = outcome["results"]
    assert results[(POLICY, "audit")].status is Status.PASS
    assert results[(POLICY, "plain")].status is Status.FAIL
    unknown = results[(POLICY, "org")]
    assert unknown.status is Status.UNKNOWN
    assert unknown.statement is not None
    assert "belongs to another account (organisation trail)" in unknown.statement["en"]
    assert "NoSuchBucket" in unknown.statement["en"]
    assert "別のアカウントに属している" in unknown.statement["ja"]
    assert unknown.reason == unknown.statement["en"]
    # the other trail policies judged the same trail as usual
    assert results[("aws.cloudtrail.log_file_validation_enabled", "org")].status is Status.FAIL
    # an unknown answer is not a collection error
    assert outcome["inventory"].detail_failures == []
    org = next(r for r in outcome["inventory"].resources if r.name == "org")
    assert org.data["_unknown"] == {"bucket_logging": "NoSuchBucket"} and not org.failed


def test_denied_logging_on_our_own_bucket_is_an_error_not_unknown(
    moto_url: str, catalog: Catalog
) -> None:
    plant_trails(moto_url)
    move_archive_bucket_away(moto_url)
    results = judged(catalog, moto_url, fault="GetBucketLogging")["results"]
    for trail in ("audit", "plain"):
        result = results[(POLICY, trail)]
        assert result.status is Status.ERROR, trail
        assert "missing permission s3:GetBucketLogging" in result.reason
    # AccessDenied on a bucket of another account stays unknown
    assert results[(POLICY, "org")].status is Status.UNKNOWN
    assert results[("aws.cloudtrail.log_file_validation_enabled", "plain")].status is Status.FAIL


def test_denied_bucket_list_errors_the_policy_rather_than_guessing(
    moto_url: str, catalog: Catalog
) -> None:
    plant_trails(moto_url)
    results = judged(catalog, moto_url, fault="ListBuckets")["results"]
    for trail in ("audit", "plain", "org"):
        assert results[(POLICY, trail)].status is Status.ERROR
        assert "s3:ListAllMyBuckets" in results[(POLICY, trail)].reason


def _states(store: Store) -> dict[str, str]:
    with store.session() as session:
        return {
            f.resource_uid.rsplit("/", 1)[-1]: f.state
            for f in session.exec(select(Finding).where(Finding.policy_id == POLICY))
        }


def test_unknown_keeps_an_open_finding_open_and_opens_none(
    store: Store, moto_url: str, catalog: Catalog
) -> None:
    plant_trails(moto_url)
    make_tenant(store, moto_url)
    first = run_scan(store, catalog, "acme", policy_ids=[POLICY])
    assert _states(store) == {"plain": "open", "org": "open"}  # neither bucket logs yet

    # the org trail's bucket moves to the log archive account; plain's bucket leaves too
    move_archive_bucket_away(moto_url)
    boto3.client("s3", region_name=REGION, endpoint_url=moto_url).delete_bucket(
        Bucket="acme-plain-trail-logs"
    )
    second = run_scan(store, catalog, "acme", policy_ids=[POLICY])
    target = second.targets[0]
    assert target.results["unknown"] == 2 and target.results["pass"] == 1
    assert target.lifecycle.resolved == 0 and target.lifecycle.new == 0
    assert target.unknown == [POLICY] and target.errored == []
    assert _states(store) == {"plain": "open", "org": "open"}
    with store.session() as session:
        scan = session.get(Scan, second.scan_id)
        assert scan is not None
        assert scan.summary["results"]["unknown"] == 2
        assert scan.summary["unknown"] == [POLICY]
        rows = session.exec(
            select(ResultRecord).where(
                ResultRecord.scan_id == second.scan_id, ResultRecord.status == "unknown"
            )
        ).all()
        assert {r.resource_name for r in rows} == {"plain", "org"}
        assert all(r.statement["ja"] and r.reason for r in rows)
    assert first.targets[0].status == second.targets[0].status == "succeeded"
    # exports keep the findings open and say the newest scan could not judge them
    ops = Operations.using(store, catalog)
    document = json.loads(export_findings(ops, "acme", fmt="json").text)
    judged = {f["resource_name"]: (f["status"], f["judgement"]) for f in document["findings"]}
    assert judged == {"plain": ("open", "unknown"), "org": ("open", "unknown")}
    assert all("another account" in f["reason"] for f in document["findings"])
    table = export_findings(ops, "acme", fmt="csv", bom=False).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert {r["judgement"] for r in rows} == {"unknown"}
    events = [
        json.loads(line) for line in export_findings(ops, "acme", fmt="ocsf").text.splitlines()
    ]
    for event in events:
        assert event["status"] != "Resolved"  # still open
        assert event["unmapped"]["judgement"] == "unknown"
        controls = event["unmapped"]["compliance"]
        assert any(c["control"] == "4.4" for c in controls)  # CIS, and catalogues through it
        assert {c["status_id"] for c in controls} == {0}  # OCSF Unknown


def test_unknown_from_the_start_opens_no_finding(
    store: Store, moto_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_trails(moto_url)
    move_archive_bucket_away(moto_url)
    make_tenant(store, moto_url)
    run_scan(store, catalog, "acme", policy_ids=[POLICY])
    assert _states(store) == {"plain": "open"}
    # a later scan that may not read bucket logging leaves the open finding open
    real_open = entry.open_target

    def denied(connection: str, settings: Any) -> Any:
        target = real_open(connection, settings)
        inject_error(target, "s3", "GetBucketLogging", "AccessDenied")
        return target

    monkeypatch.setattr(entry, "open_target", denied)
    outcome = run_scan(store, catalog, "acme", policy_ids=[POLICY])
    assert outcome.targets[0].status == "partial"
    assert outcome.targets[0].errored == [POLICY]
    assert _states(store) == {"plain": "open"}
