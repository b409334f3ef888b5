"""A tenant with one SaaS connection (write credentials included), and the plan, approve,
apply and rollback steps of a fix run, for the Microsoft 365 and Workspace fix tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from posture.catalog import Catalog
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.context import Operations
from posture.operations.fixes import (
    ApplyOutcome,
    FixRunInfo,
    apply_fix,
    approve_fix,
    plan_fixes,
    rollback_fix,
)
from posture.operations.scans import scan_tenant
from posture.operations.tenants import add_tenant
from posture.store import Connection, Finding, FindingEvent, Store, Tenant


@dataclass
class SaasRepair:
    """Tenant ``acme`` with connection ``name``; ``alice`` plans and applies, ``bob`` approves."""

    store: Store
    catalog: Catalog
    provider: str
    name: str
    settings: dict[str, Any]
    tenant: str = "acme"

    def __post_init__(self) -> None:
        self.ops = Operations.using(self.store, self.catalog, actor="alice", source="test")
        self.approver = Operations.using(self.store, self.catalog, actor="bob", source="test")

    def setup(self, policies: Sequence[str], *, write: bool = True) -> None:
        options = {"setting_repair": {"enabled": True, "policies": list(policies)}}
        add_tenant(self.ops, self.tenant, name="Acme", options=options)
        settings = dict(self.settings)
        if not write:
            settings.pop("write", None)
        with self.store.session() as session:
            tenant = session.exec(select(Tenant).where(Tenant.slug == self.tenant)).one()
            session.add(
                Connection(
                    tenant_id=tenant.id, name=self.name, provider=self.provider, settings=settings
                )
            )

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
        assert len(outcome.runs) == 1, outcome.refused or outcome.manual
        return outcome.runs[0]

    def approve(self, run: FixRunInfo) -> FixRunInfo:
        return approve_fix(self.approver, run.id)

    def apply(self, run: FixRunInfo) -> ApplyOutcome:
        return apply_fix(self.ops, run.id, execute=True)

    def rollback(self, run: FixRunInfo) -> ApplyOutcome:
        return rollback_fix(self.ops, run.id, execute=True)

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [r.details for r in list_audit(self.ops, AuditQuery(actions=(action,)))]
