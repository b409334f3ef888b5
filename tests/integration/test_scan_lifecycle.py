"""Scan -> store -> lifecycle, on SQLite and PostgreSQL, against moto_server over HTTP."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlmodel import col, func, select

from posture.catalog import Catalog, load_catalog
from posture.connectors.aws import entry
from posture.content import builtin_dir
from posture.scan import run_scan
from posture.store import (
    Connection,
    Finding,
    FindingEvent,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Store,
    Tenant,
)

from .helpers import inject_error, open_ssh_group

POLICIES = {
    "bucket_blocks_public_acls": """
        id: aws.lifecycle.bucket_blocks_public_acls
        resource: aws.s3.bucket
        severity: high
        title: {en: Bucket allows public ACLs, ja: バケットがパブリック ACL を許可しています}
        rationale: {en: Public ACLs expose data., ja: パブリック ACL はデータを公開します。}
        recommendation: {en: Enable block public access., ja: パブリックアクセスのブロックを有効にしてください。}
        statement: {en: "Bucket {{ Name }} allows public ACLs", ja: "バケット {{ Name }} はパブリック ACL を許可しています"}
        condition: {path: public_access_block.BlockPublicAcls, eq: true}
        tests:
          - {name: blocked, expect: pass, resource: {public_access_block: {BlockPublicAcls: true}}}
          - name: open
            expect: fail
            statement: {en: "Bucket logs allows public ACLs", ja: "バケット logs はパブリック ACL を許可しています"}
            resource: {Name: logs, public_access_block: null}
        """,
    "sg_no_ssh_from_internet": """
        id: aws.lifecycle.sg_no_ssh_from_internet
        resource: aws.ec2.security_group
        severity: critical
        title: {en: SSH open to the internet, ja: SSH がインターネットに公開されています}
        rationale: {en: Exposed SSH is attacked., ja: 公開された SSH は攻撃されます。}
        recommendation: {en: Restrict the source., ja: 送信元を制限してください。}
        statement: {en: "Group {{ GroupId }} allows SSH from anywhere", ja: "グループ {{ GroupId }} はどこからでも SSH を許可しています"}
        condition:
          path: IpPermissions
          no_item:
            all:
              - {path: FromPort, le: 22}
              - {path: ToPort, ge: 22}
              - {path: IpRanges, any_item: {path: CidrIp, eq: 0.0.0.0/0}}
        tests:
          - {name: closed, expect: pass, resource: {IpPermissions: []}}
          - name: open
            expect: fail
            statement: {en: "Group sg-1 allows SSH from anywhere", ja: "グループ sg-1 はどこからでも SSH を許可しています"}
            resource: {GroupId: sg-1, IpPermissions: [{FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}]}
        """,
}
SELECTED = ["aws.lifecycle"]
BPA = {
    k: True
    for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
}


@pytest.fixture(scope="module")
def lifecycle_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("policies") / "aws" / "lifecycle"
    folder.mkdir(parents=True)
    for name, text in POLICIES.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    # only these policies, with the built-in collection specs
    return load_catalog([builtin_dir("scanners")], [folder.parent.parent], builtin=False)


def make_tenant(store: Store, endpoint: str, *extra: tuple[str, dict[str, Any]]) -> None:
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan")
        session.add(tenant)
        session.flush()
        session.add(
            Connection(
                tenant_id=tenant.id,
                name="prod",
                provider="aws",
                settings={"endpoint_url": endpoint, "regions": ["ap-northeast-1"]},
            )
        )
        for name, settings in extra:
            session.add(
                Connection(tenant_id=tenant.id, name=name, provider="aws", settings=settings)
            )


def plant(endpoint: str) -> dict[str, str]:
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    s3.create_bucket(Bucket="acme-open")
    s3.create_bucket(Bucket="acme-locked")
    s3.put_public_access_block(Bucket="acme-locked", PublicAccessBlockConfiguration=BPA)
    ec2 = boto3.client("ec2", region_name="ap-northeast-1", endpoint_url=endpoint)
    sg = open_ssh_group(ec2, "bastion")
    return {"sg": sg}


def findings(store: Store) -> dict[str, Finding]:
    with store.session() as session:
        return {
            f.resource_uid.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: f
            for f in session.exec(select(Finding))
        }


def events(store: Store, finding: Finding) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == finding.id)
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        )
        return [(e.kind, e.reason) for e in rows]


def count(store: Store, model: Any) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_scan_records_findings_idempotently(
    store: Store, moto_url: str, lifecycle_catalog: Catalog
) -> None:
    plant(moto_url)
    make_tenant(store, moto_url)
    first = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    assert first.status == "succeeded"
    assert first.targets[0].lifecycle.new == 2
    open_now = findings(store)
    assert len(open_now) == 2 and "acme-open" in open_now
    assert all(f.state == "open" for f in open_now.values())
    bucket = open_now["acme-open"]
    assert bucket.severity == "high"
    assert bucket.evidence[0]["path"] == "public_access_block.BlockPublicAcls"
    resources = count(store, ResourceRecord)

    second = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    assert second.targets[0].lifecycle.new == 0 and second.targets[0].lifecycle.still_open == 2
    assert count(store, Finding) == 2
    assert count(store, ResourceRecord) == resources  # unchanged content is stored once
    assert count(store, ScanResource) == 2 * resources
    assert findings(store)["acme-open"].first_seen == bucket.first_seen
    with store.session() as session:
        scans = list(session.exec(select(Scan)))
        assert {s.status for s in scans} == {"succeeded"}
        assert all(s.summary["open_by_severity"] == {"critical": 1, "high": 1} for s in scans)


def test_fix_resolves_and_regression_reopens(
    store: Store, moto_url: str, lifecycle_catalog: Catalog
) -> None:
    ids = plant(moto_url)
    make_tenant(store, moto_url)
    run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.put_public_access_block(Bucket="acme-open", PublicAccessBlockConfiguration=BPA)
    boto3.client("ec2", region_name="ap-northeast-1", endpoint_url=moto_url).delete_security_group(
        GroupId=ids["sg"]
    )
    outcome = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    assert outcome.targets[0].lifecycle.resolved == 2
    assert {f.state for f in findings(store).values()} == {"resolved"}
    s3.delete_public_access_block(Bucket="acme-open")
    outcome = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    assert outcome.targets[0].lifecycle.reopened == 1
    reopened = findings(store)["acme-open"]
    assert reopened.state == "open" and reopened.reopened == 1 and reopened.resolved_at is None
    assert events(store, reopened) == [
        ("opened", "fails"),
        ("resolved", "no_longer_fails"),
        ("reopened", "fails_again"),
    ]
    (group,) = (f for f in findings(store).values() if f.resource_type == "aws.ec2.security_group")
    assert events(store, group) == [("opened", "fails"), ("resolved", "resource_deleted")]


def deny(monkeypatch: pytest.MonkeyPatch, service: str, operation: str) -> None:
    """Every connection opened from now on is denied one operation."""
    real_open = entry.open_target

    def denied(connection: str, settings: Any) -> Any:
        target = real_open(connection, settings)
        inject_error(target, service, operation, "AccessDenied")
        return target

    monkeypatch.setattr(entry, "open_target", denied)


def test_failed_detail_never_resolves(
    store: Store, moto_url: str, lifecycle_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = plant(moto_url)
    make_tenant(store, moto_url)
    run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    # the bucket gets fixed, but this time reading its Block Public Access is denied
    boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url).put_public_access_block(
        Bucket="acme-open", PublicAccessBlockConfiguration=BPA
    )
    deny(monkeypatch, "s3", "GetPublicAccessBlock")
    outcome = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    target = outcome.targets[0]
    assert target.status == "partial"
    assert target.results["error"] == 2  # one per bucket: the detail failed for both
    assert target.lifecycle.resolved == 0 and target.lifecycle.untouched == 1
    assert events(store, findings(store)["acme-open"]) == [("opened", "fails")]
    assert findings(store)["acme-open"].state == "open"
    assert findings(store)[ids["sg"]].state == "open"  # the other type was judged as usual
    assert any("missing permission s3:GetBucketPublicAccessBlock" in f for f in target.failures)
    with store.session() as session:
        conn = session.exec(select(Connection)).one()
        assert conn.health == "partial"
        assert "could not read public_access_block" in conn.health_message
        assert "missing permission s3:GetBucketPublicAccessBlock" in conn.health_message
        row = session.exec(select(ScanTarget).where(ScanTarget.scan_id == outcome.scan_id)).one()
        assert row.stats["failures"] == []
        (gap,) = row.stats["detail_failures"]
        assert gap["permission"] == "s3:GetBucketPublicAccessBlock" and gap["whole_scope"] is True
        assert row.errors >= 2
        results = session.exec(
            select(ResultRecord).where(
                ResultRecord.scan_id == outcome.scan_id, ResultRecord.status == "error"
            )
        ).all()
        assert {r.resource_name for r in results} == {"acme-open", "acme-locked"}
        assert all("s3:GetBucketPublicAccessBlock" in r.reason for r in results)


def states(store: Store) -> dict[tuple[str, str], str]:
    """(policy id, bucket name) -> finding state."""
    with store.session() as session:
        return {
            (f.policy_id, f.resource_uid.rsplit(":", 1)[-1]): f.state
            for f in session.exec(select(Finding))
        }


def test_denied_encryption_errors_only_the_encryption_policy(
    store: Store, moto_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acceptance: a denied GetBucketEncryption leaves the encryption policy in error with
    its findings open, while the other bucket policies still pass or fail."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.create_bucket(Bucket="acme-plain")
    s3.create_bucket(Bucket="acme-versioned")
    s3.put_bucket_versioning(Bucket="acme-versioned", VersioningConfiguration={"Status": "Enabled"})
    make_tenant(store, moto_url)
    selected = [
        "aws.s3.bucket_default_encryption_enabled",
        "aws.s3.bucket_versioning_enabled",
        "aws.s3.bucket_block_public_access",
    ]
    # moto encrypts new buckets by default (as S3 does); remove it so the policy fails first
    for bucket in ("acme-plain", "acme-versioned"):
        s3.delete_bucket_encryption(Bucket=bucket)
    first = run_scan(store, catalog, "acme", policy_ids=selected)
    assert first.targets[0].status == "succeeded"
    opened = set(states(store))
    encryption = "aws.s3.bucket_default_encryption_enabled"
    assert (encryption, "acme-plain") in opened and (encryption, "acme-versioned") in opened

    # both buckets get encrypted, but the second scan may not read encryption
    for bucket in ("acme-plain", "acme-versioned"):
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    deny(monkeypatch, "s3", "GetBucketEncryption")
    second = run_scan(store, catalog, "acme", policy_ids=selected)
    target = second.targets[0]
    assert target.status == "partial"
    assert target.errored == [encryption]
    with store.session() as session:
        rows = session.exec(select(ResultRecord).where(ResultRecord.scan_id == second.scan_id))
        status = {(r.policy_id, r.resource_name): r.status for r in rows}
    stored = states(store)
    assert status[(encryption, "acme-plain")] == "error"
    assert status[(encryption, "acme-versioned")] == "error"
    assert status[("aws.s3.bucket_versioning_enabled", "acme-versioned")] == "pass"
    assert status[("aws.s3.bucket_versioning_enabled", "acme-plain")] == "fail"
    assert status[("aws.s3.bucket_block_public_access", "acme-plain")] == "fail"
    # the encryption findings stay open: no data, no resolution
    assert stored[(encryption, "acme-plain")] == "open"
    assert stored[(encryption, "acme-versioned")] == "open"
    assert target.lifecycle.resolved == 0


def test_bad_credentials_fail_one_connection_only(
    store: Store, moto_url: str, lifecycle_catalog: Catalog
) -> None:
    plant(moto_url)
    make_tenant(
        store, moto_url, ("broken", {"profile": "missing-profile", "endpoint_url": moto_url})
    )
    outcome = run_scan(store, lifecycle_catalog, "acme", policy_ids=SELECTED)
    by_name = {t.connection: t for t in outcome.targets}
    assert outcome.status == "partial"
    assert (
        by_name["broken"].status == "failed" and "connection 'broken'" in by_name["broken"].message
    )
    assert by_name["prod"].status == "succeeded" and by_name["prod"].lifecycle.new == 2
    with store.session() as session:
        health = {c.name: c.health for c in session.exec(select(Connection))}
    assert health == {"broken": "failed", "prod": "ok"}


def test_postgres_url_without_driver_is_accepted(tmp_path: Path) -> None:
    from posture.store.db import make_engine

    engine = make_engine("postgresql://user:secret@127.0.0.1:1/nowhere")
    assert engine.url.drivername == "postgresql+psycopg"
