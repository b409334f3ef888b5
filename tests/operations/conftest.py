"""Fixtures for the operations layer: an ``Operations`` over a fresh store, and a seeder
that writes tenants, connections, scans and results the way a scan leaves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import (
    Connection,
    Finding,
    ResultRecord,
    Scan,
    ScanTarget,
    Store,
    Tenant,
)

R = TypeVar("R")
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
VERSIONING = "aws.s3.bucket_versioning_enabled"
ENCRYPTION = "aws.s3.bucket_default_encryption_enabled"
ROOT_MFA = "aws.iam.root_mfa_enabled"


@pytest.fixture
def ops(store: Store, catalog: Catalog) -> Operations:
    return Operations.using(store, catalog)


class Seed:
    """Rows as a scan writes them, for tests that need exact control over history."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _add(self, row: R) -> R:
        with self.store.session() as session:
            session.add(row)
        return row

    def tenant(self, slug: str, **kw: Any) -> Tenant:
        return self._add(Tenant(slug=slug, name=kw.pop("name", slug.title()), **kw))

    def connection(self, tenant: Tenant, name: str, provider: str = "aws") -> Connection:
        return self._add(Connection(tenant_id=tenant.id, name=name, provider=provider))

    def scan(
        self,
        tenant: Tenant,
        hours: int,
        *,
        policies: list[str] | None = None,
        scan_id: str | None = None,
        status: str = "succeeded",
    ) -> Scan:
        """A finished scan ``hours`` after T0; ``policies`` are those it ran."""
        started = T0 + timedelta(hours=hours)
        summary: dict[str, Any] = {"open_by_severity": {"high": 1}}
        if policies is not None:
            summary["policies"] = policies
        scan = Scan(
            tenant_id=tenant.id,
            status=status,
            started_at=started,
            finished_at=started + timedelta(minutes=5),
            summary=summary,
        )
        if scan_id:
            scan.id = scan_id
        return self._add(scan)

    def target(
        self, scan: Scan, conn: Connection, status: str = "succeeded", message: str = ""
    ) -> ScanTarget:
        stats = {
            "types": {
                "aws.s3.bucket": {
                    "resources": 2,
                    "calls": 9,
                    "errors": 1,
                    "throttles": 0,
                    "seconds": 0.5,
                }
            },
            "failures": [
                {"resource_type": "aws.kms.key", "region": "us-east-1", "message": "AccessDenied"}
            ]
            if status == "partial"
            else [],
        }
        return self._add(
            ScanTarget(
                scan_id=scan.id,
                connection_id=conn.id,
                status=status,
                message=message,
                stats=stats,
                finished_at=scan.started_at + timedelta(minutes=4),
            )
        )

    def result(
        self,
        scan: Scan,
        conn: Connection,
        policy_id: str,
        uid: str,
        status: str,
        **kw: Any,
    ) -> ResultRecord:
        return self._add(
            ResultRecord(
                tenant_id=scan.tenant_id,
                scan_id=scan.id,
                connection_id=conn.id,
                policy_id=policy_id,
                resource_type=kw.pop("resource_type", "aws.s3.bucket"),
                resource_uid=uid,
                resource_name=kw.pop("name", uid.rsplit(":", 1)[-1]),
                region=kw.pop("region", "us-east-1"),
                status=status,
                **kw,
            )
        )

    def finding(
        self, tenant: Tenant, conn: Connection, policy_id: str, uid: str, **kw: Any
    ) -> Finding:
        return self._add(
            Finding(
                id=kw.pop("id", f"{policy_id}|{uid}"[-64:]),
                tenant_id=tenant.id,
                connection_id=conn.id,
                policy_id=policy_id,
                resource_type=kw.pop("resource_type", "aws.s3.bucket"),
                resource_uid=uid,
                resource_name=kw.pop("name", uid.rsplit(":", 1)[-1]),
                region=kw.pop("region", "us-east-1"),
                severity=kw.pop("severity", "medium"),
                **kw,
            )
        )


@pytest.fixture
def seed(store: Store) -> Seed:
    return Seed(store)
