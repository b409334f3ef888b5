"""Reusable pieces for fix tests: a tenant with write credentials on moto, scan, plan,
approve (by a second person), apply and rollback.

``repair`` gives a ``Repair`` over a fresh store (SQLite, and PostgreSQL when configured)
and an emptied moto server; see remediation/README.md for how a fix's test uses it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from sqlmodel import col, select

from posture.catalog import Catalog
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.context import Operations
from posture.operations.fixes import (
    ApplyOutcome,
    FixRunInfo,
    PlanOutcome,
    apply_fix,
    approve_fix,
    plan_fixes,
    rollback_fix,
)
from posture.operations.scans import scan_tenant
from posture.operations.tenants import add_tenant
from posture.store import Connection, Finding, FindingEvent, Store, Tenant

REGION = "us-east-1"
WRITE_ROLE = "arn:aws:iam::123456789012:role/PostureFix"


@dataclass
class Repair:
    """One tenant ``acme`` with connection ``prod`` on moto; ``alice`` plans, ``bob`` approves."""

    store: Store
    catalog: Catalog
    endpoint: str
    ops: Operations  # alice
    approver: Operations  # bob
    tenant: str = "acme"

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint)

    def setup(
        self,
        policies: Sequence[str],
        *,
        write: bool = True,
        regions: Sequence[str] = (REGION,),
        **repair_options: Any,
    ) -> None:
        """The tenant (setting repair bought, ``policies`` allowed) and its connection."""
        options = {
            "setting_repair": {"enabled": True, "policies": list(policies), **repair_options}
        }
        add_tenant(self.ops, self.tenant, name="Acme", options=options)
        settings: dict[str, Any] = {"endpoint_url": self.endpoint, "regions": list(regions)}
        if write:
            settings["write"] = {"role_arn": WRITE_ROLE}
        with self.store.session() as session:
            tenant = session.exec(select(Tenant).where(Tenant.slug == self.tenant)).one()
            session.add(
                Connection(tenant_id=tenant.id, name="prod", provider="aws", settings=settings)
            )

    def set_options(self, **repair_options: Any) -> None:
        with self.store.session() as session:
            tenant = session.exec(select(Tenant).where(Tenant.slug == self.tenant)).one()
            current = dict(tenant.options.get("setting_repair") or {})
            tenant.options = {**tenant.options, "setting_repair": {**current, **repair_options}}
            session.add(tenant)

    def scan(self, policies: Sequence[str]) -> None:
        scan_tenant(self.ops, self.tenant, policies=list(policies), notify=False)

    def finding(self, policy_id: str, uid_end: str) -> Finding:
        with self.store.session() as session:
            rows = session.exec(select(Finding).where(Finding.policy_id == policy_id))
            matches = [f for f in rows if f.resource_uid.endswith(uid_end)]
        assert len(matches) == 1, f"{policy_id} on *{uid_end}: {len(matches)} findings"
        return matches[0]

    def events(self, finding_id: str) -> list[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.exec(
                select(FindingEvent)
                .where(FindingEvent.finding_id == finding_id)
                .order_by(col(FindingEvent.at), col(FindingEvent.id))
            )
            return [(e.kind, e.reason) for e in rows]

    def plan(self, policy_id: str, uid_end: str) -> FixRunInfo:
        finding = self.finding(policy_id, uid_end)
        outcome = plan_fixes(self.ops, self.tenant, findings=[finding.id])
        assert len(outcome.runs) == 1, outcome.refused
        return outcome.runs[0]

    def plan_all(self, **choice: Any) -> PlanOutcome:
        return plan_fixes(self.ops, self.tenant, **choice)

    def approve(self, run: FixRunInfo) -> FixRunInfo:
        return approve_fix(self.approver, run.id)

    def apply(self, run: FixRunInfo) -> ApplyOutcome:
        return apply_fix(self.ops, run.id, execute=True)

    def fix(self, policy_id: str, uid_end: str) -> ApplyOutcome:
        """Scan, plan, approve and apply one finding's fix."""
        self.scan([policy_id])
        run = self.plan(policy_id, uid_end)
        self.approve(run)
        return self.apply(run)

    def rollback(self, run: FixRunInfo) -> ApplyOutcome:
        return rollback_fix(self.ops, run.id, execute=True)

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [r.details for r in list_audit(self.ops, AuditQuery(actions=(action,)))]


@pytest.fixture
def repair(store: Store, moto_url: str, catalog: Catalog) -> Iterator[Repair]:
    ops = Operations.using(store, catalog, actor="alice", source="test")
    approver = Operations.using(store, catalog, actor="bob", source="test")
    yield Repair(store, catalog, moto_url, ops, approver)
