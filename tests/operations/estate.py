"""A small estate whose scans are reconciled directly: exact control over time and outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from posture.catalog import Catalog
from posture.lifecycle import ReconcileStats, finding_id, reconcile
from posture.models import Resource, Result, Status
from posture.store import Connection, Scan, Store, Tenant

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING

LOGS, DATA, SCRATCH = "arn:aws:s3:::logs", "arn:aws:s3:::data", "arn:aws:s3:::dev-scratch"
ACCOUNT = "arn:aws:iam::111122223333:root"
POLICIES = (VERSIONING, ENCRYPTION, ROOT_MFA)


def bucket(uid: str, tags: Mapping[str, str] | None = None) -> Resource:
    name = uid.rsplit(":", 1)[-1]
    return Resource("aws.s3.bucket", uid, "us-east-1", name, {}, dict(tags or {}))


def account() -> Resource:
    return Resource("aws.iam.account", ACCOUNT, "global", "111122223333", {})


class Estate:
    """One tenant (Asia/Tokyo) with connections ``prod`` and ``dev``."""

    def __init__(self, store: Store, catalog: Catalog, slug: str = "acme") -> None:
        self.store, self.catalog = store, catalog
        with store.session() as session:
            self.tenant = Tenant(slug=slug, name=slug.title(), timezone="Asia/Tokyo")
            session.add(self.tenant)
            session.flush()
            self.prod = Connection(tenant_id=self.tenant.id, name="prod", provider="aws")
            self.dev = Connection(tenant_id=self.tenant.id, name="dev", provider="aws")
            session.add_all([self.prod, self.dev])

    def fid(self, policy: str, uid: str) -> str:
        return finding_id(self.tenant.id, policy, uid)

    def scan(
        self,
        at: datetime,
        resources: Iterable[Resource],
        fails: Iterable[tuple[str, str]],
        *,
        connection: Connection | None = None,
        failed_types: Iterable[str] = (),
    ) -> tuple[str, ReconcileStats]:
        """Every policy on every resource of its type: ``fails`` fail, the rest pass.

        A type in ``failed_types`` was not collected: it yields no results and its scope
        counts as not evaluated.
        """
        conn = connection or self.prod
        failing, skipped = set(fails), set(failed_types)
        inventory = [r for r in resources if r.type not in skipped]
        results = [
            Result(
                p.id,
                r.type,
                r.uid,
                r.region,
                Status.FAIL if (p.id, r.uid) in failing else Status.PASS,
            )
            for p in (self.catalog.policies[i] for i in POLICIES)
            for r in inventory
            if r.type == p.resource
        ]
        with self.store.session() as session:
            scan = Scan(tenant_id=self.tenant.id, status="succeeded", started_at=at)
            session.add(scan)
            session.flush()
            stats = reconcile(
                session,
                tenant_id=self.tenant.id,
                connection_id=conn.id,
                scan_id=scan.id,
                now=at,
                results=results,
                policies={i: self.catalog.policies[i] for i in POLICIES},
                resources={r.uid: r for r in inventory},
                evaluated=lambda rtype, region: rtype not in skipped,
            )
        return scan.id, stats
