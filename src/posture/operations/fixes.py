"""Setting repair: plan, approve, apply, verify and roll back fixes, resumably and audited.

A fix run moves through ``planned -> approved -> applying -> applied -> verified``, or ends
``aborted`` (the live resource changed since the plan, or its finding no longer fails),
``failed`` or ``rolled_back``. Each step commits its state (and audit entry) before the
next begins; a process that dies in ``applying``, ``applied`` or ``rolling_back`` leaves a
run that ``resume_fix_runs`` finishes from the live state, never a silent half state.

For tests only, ``POSTURE_FIX_CRASH_AFTER=<point>`` ends the process right after a step
boundary: ``applying`` (state committed, nothing changed), ``changed`` (the change made,
not yet recorded), ``applied``, ``rolling_back`` and ``restored`` (before-state put back,
not yet recorded).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from posture.catalog.fix import RISKS, Fix
from posture.errors import ConfigurationError, FixRefused, PostureError, UsageError
from posture.operations.audit import actor_of, record
from posture.operations.context import Operations
from posture.operations.tenants import get_tenant
from posture.remediate.clients import has_write, missing_write, open_client
from posture.remediate.registry import (
    FixContext,
    FixHandler,
    ProviderCallError,
    ProviderClient,
    Target,
    handler_for,
)
from posture.store import (
    Connection,
    Finding,
    FixControl,
    FixRun,
    ResourceRecord,
    ResultRecord,
    ScanResource,
    Tenant,
)
from posture.store.types import utcnow

STATES = (
    "planned",
    "approved",
    "applying",
    "applied",
    "verified",
    "failed",
    "aborted",
    "rolling_back",
    "rolled_back",
)
UNFINISHED = ("applying", "applied", "rolling_back")  # a process stopped in the middle
OPEN_STATES = ("planned", "approved", *UNFINISHED)
CRASH_ENV = "POSTURE_FIX_CRASH_AFTER"
DISABLED_ENV = "POSTURE_FIXES_DISABLED"
CRASH_EXIT = 86
AUTO_ACTOR = "auto"
INTERRUPTED = "interrupted before the change took effect, nothing changed"


# --- the tenant's option --------------------------------------------------------------


@dataclass(frozen=True)
class RepairOptions:
    """``tenant.options["setting_repair"]``: what the tenant bought and allowed."""

    enabled: bool = False
    policies: tuple[str, ...] = ()  # globs of policy ids that may be fixed; none by default
    exclude_tags: tuple[str, ...] = ("posture:no-fix",)  # "key" or "key=value"
    exclude_resources: tuple[str, ...] = ()  # globs of resource uids
    max_per_hour: int = 20
    auto: bool = False
    auto_max_risk: str = "low"
    self_approval: bool = False

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> RepairOptions:
        raw = options.get("setting_repair") or {}
        if not isinstance(raw, Mapping):
            raise ConfigurationError("tenant option 'setting_repair' must be a mapping")
        risk = str(raw.get("auto_max_risk", "low"))
        if risk not in RISKS:
            raise ConfigurationError(
                f"setting_repair.auto_max_risk must be one of {', '.join(RISKS)}, got '{risk}'"
            )
        return cls(
            enabled=raw.get("enabled") is True,
            policies=tuple(str(p) for p in raw.get("policies") or ()),
            exclude_tags=tuple(str(t) for t in raw.get("exclude_tags", ["posture:no-fix"]) or ()),
            exclude_resources=tuple(str(r) for r in raw.get("exclude_resources") or ()),
            max_per_hour=int(raw.get("max_per_hour", 20)),
            auto=raw.get("auto") is True,
            auto_max_risk=risk,
            self_approval=raw.get("self_approval") is True,
        )

    def allows_policy(self, policy_id: str) -> bool:
        return any(fnmatch.fnmatchcase(policy_id, p) for p in self.policies)

    def excluded_tag(self, tags: Mapping[str, str]) -> str | None:
        for rule in self.exclude_tags:
            key, sep, value = rule.partition("=")
            if key in tags and (not sep or tags[key] == value):
                return rule
        return None

    def excluded_resource(self, uid: str) -> str | None:
        return next((p for p in self.exclude_resources if fnmatch.fnmatchcase(uid, p)), None)


# --- what the faces get back ------------------------------------------------------------


@dataclass(frozen=True)
class FixRunInfo:
    id: str
    tenant: str
    connection: str
    fix_id: str
    policy_id: str
    finding_id: str
    resource_uid: str
    resource_name: str
    region: str
    risk: str
    state: str
    reason: str
    before: Any
    after: Any
    auto: bool
    planned_by: str
    planned_at: datetime
    approved_by: str
    approved_at: datetime | None
    applied_by: str
    applied_at: datetime | None
    finished_at: datetime | None
    verify_scan_id: str
    steps: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, run: FixRun, tenant: str, connection: str) -> FixRunInfo:
        return cls(
            id=run.id,
            tenant=tenant,
            connection=connection,
            fix_id=run.fix_id,
            policy_id=run.policy_id,
            finding_id=run.finding_id,
            resource_uid=run.resource_uid,
            resource_name=run.resource_name,
            region=run.region,
            risk=run.risk,
            state=run.state,
            reason=run.reason,
            before=run.before,
            after=run.after,
            auto=run.auto,
            planned_by=run.planned_by,
            planned_at=run.planned_at,
            approved_by=run.approved_by,
            approved_at=run.approved_at,
            applied_by=run.applied_by,
            applied_at=run.applied_at,
            finished_at=run.finished_at,
            verify_scan_id=run.verify_scan_id,
            steps=list(run.steps),
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class Refusal:
    """A finding that was not planned, with a reason code and a sentence."""

    finding_id: str
    policy_id: str
    resource_uid: str
    reason: str
    message: str


@dataclass(frozen=True)
class ManualStep:
    """A finding whose fix the API cannot make: the policy's recommendation to follow."""

    finding_id: str
    policy_id: str
    resource_uid: str
    fix_id: str
    recommendation: dict[str, str]
    commands: list[str]


@dataclass
class PlanOutcome:
    runs: list[FixRunInfo] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    manual: list[ManualStep] = field(default_factory=list)


@dataclass(frozen=True)
class KillSwitch:
    disabled: bool
    reason: str
    changed_by: str
    changed_at: datetime | None
    env: bool  # POSTURE_FIXES_DISABLED is set in this process


# --- crash points (tests) ---------------------------------------------------------------


def _die() -> None:
    os._exit(CRASH_EXIT)


def _crash_point(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        _die()


# --- guard rails --------------------------------------------------------------------------


def kill_switch(ops: Operations) -> KillSwitch:
    with ops.session() as session:
        row = session.get(FixControl, 1)
        return KillSwitch(
            disabled=bool(row and row.disabled),
            reason=row.reason if row else "",
            changed_by=row.changed_by if row else "",
            changed_at=row.changed_at if row else None,
            env=os.environ.get(DISABLED_ENV, "") not in ("", "0"),
        )


def set_kill_switch(ops: Operations, disabled: bool, *, reason: str = "") -> KillSwitch:
    """Stop (or allow again) every fix in every process that shares this store."""
    if disabled and not reason.strip():
        raise UsageError("say why setting repair is stopped (--reason)")
    with ops.session() as session:
        row = session.get(FixControl, 1) or FixControl(id=1)
        row.disabled, row.reason = disabled, reason.strip() if disabled else ""
        row.changed_by, row.changed_at = actor_of(ops), utcnow()
        session.add(row)
        record(
            ops,
            "fix.kill_switch",
            details={"disabled": disabled, "reason": reason},
            session=session,
        )
    return kill_switch(ops)


def _refuse(
    ops: Operations, tenant: str, reason: str, message: str, target: str = "", **details: Any
) -> FixRefused:
    """Audit a refusal and return the error to raise."""
    record(
        ops,
        "fix.refused",
        tenant=tenant,
        target=target,
        details={"reason": reason, "message": message, **details},
    )
    return FixRefused(message, reason=reason)


def _check_service(ops: Operations, tenant: Tenant) -> RepairOptions:
    """Kill switch and the tenant's option: refused (and audited) when either forbids."""
    switch = kill_switch(ops)
    if switch.env:
        raise _refuse(
            ops, tenant.slug, "kill_switch", f"setting repair is disabled by {DISABLED_ENV}"
        )
    if switch.disabled:
        raise _refuse(
            ops,
            tenant.slug,
            "kill_switch",
            f"setting repair is stopped by the kill switch ({switch.reason}); "
            "turn it off with: posture fix kill-switch off",
        )
    opts = RepairOptions.of(tenant.options)
    if not opts.enabled:
        raise _refuse(
            ops,
            tenant.slug,
            "option_disabled",
            f"tenant '{tenant.slug}' has not subscribed to setting repair "
            "(option setting_repair.enabled)",
        )
    return opts


def _rate_limited(session: Session, tenant: Tenant, opts: RepairOptions) -> bool:
    since = utcnow() - timedelta(hours=1)
    applied = session.exec(
        select(func.count())
        .select_from(FixRun)
        .where(FixRun.tenant_id == tenant.id, col(FixRun.applied_at) >= since)
    ).one()
    return int(applied) >= opts.max_per_hour


# --- the resource and its context ---------------------------------------------------------


def _target_of(session: Session, finding: Finding) -> Target:
    """The finding's resource as its last scan stored it."""
    row = session.exec(
        select(ResourceRecord)
        .join(ScanResource, col(ScanResource.resource_hash) == col(ResourceRecord.hash))
        .where(
            ScanResource.scan_id == finding.last_scan_id,
            ScanResource.connection_id == finding.connection_id,
            ResourceRecord.uid == finding.resource_uid,
            ResourceRecord.type == finding.resource_type,
        )
    ).first()
    if row is None:
        return Target(
            type=finding.resource_type,
            uid=finding.resource_uid,
            name=finding.resource_name,
            region=finding.region,
            tags=dict(finding.tags),
        )
    return Target(
        type=row.type,
        uid=row.uid,
        name=row.name,
        region=row.region,
        account=row.account,
        tags=dict(row.tags),
        data=dict(row.data),
    )


def _target_from_run(run: FixRun) -> Target:
    stored = run.resource
    return Target(
        type=run.resource_type,
        uid=run.resource_uid,
        name=run.resource_name,
        region=run.region,
        account=str(stored.get("account", "")),
        tags=dict(stored.get("tags") or {}),
        data=dict(stored.get("data") or {}),
    )


@dataclass
class _Live:
    """A run with what it needs to talk to the provider."""

    run: FixRun
    tenant: Tenant
    connection: Connection
    fix: Fix
    handler: FixHandler
    ctx: FixContext

    def read(self) -> Any:
        return self.handler.read(self.ctx)


def _live(ops: Operations, run_id: str) -> _Live:
    catalog = ops.catalog()
    with ops.session() as session:
        run = _find_run(session, run_id)
        tenant = session.get(Tenant, run.tenant_id)
        connection = session.get(Connection, run.connection_id)
        assert tenant is not None and connection is not None
    fix = catalog.fixes.get(run.fix_id)
    if fix is None:
        raise ConfigurationError(f"fix run {run.id}: the fix '{run.fix_id}' is no longer loaded")
    client = open_client(connection.provider, tenant.slug, connection.name, connection.settings)
    ctx = FixContext(fix=fix, target=_target_from_run(run), client=client)
    return _Live(run, tenant, connection, fix, handler_for(fix), ctx)


def _find_run(session: Session, run_id: str) -> FixRun:
    prefix = run_id.strip().lower()
    if not prefix:
        raise UsageError("a fix run id (or the start of one) is required")
    matches = list(
        session.exec(
            select(FixRun).where(col(FixRun.id).startswith(prefix, autoescape=True)).limit(2)
        )
    )
    exact = [r for r in matches if r.id == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise ConfigurationError(
            f"no fix run with id '{run_id}'", hint="list fix runs with: posture fix list"
        )
    if len(matches) > 1:
        raise UsageError(f"fix run id '{run_id}' is ambiguous", hint="give more characters")
    return matches[0]


def _info(session: Session, run: FixRun) -> FixRunInfo:
    tenant = session.get(Tenant, run.tenant_id)
    connection = session.get(Connection, run.connection_id)
    return FixRunInfo.of(run, tenant.slug if tenant else "", connection.name if connection else "")


def _claim(
    session: Session,
    run_id: str,
    states: Sequence[str],
    now: datetime,
    seen: datetime | None = None,
) -> bool:
    """Touch the run if it is still in ``states`` (and unchanged since ``seen``)."""
    query = update(FixRun).where(col(FixRun.id) == run_id, col(FixRun.state).in_(list(states)))
    if seen is not None:
        query = query.where(col(FixRun.updated_at) == seen)
    claimed = session.execute(query.values(updated_at=now))
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _step(
    ops: Operations,
    run_id: str,
    state: str,
    action: str,
    *,
    detail: Mapping[str, Any] | None = None,
    expect: Sequence[str] = (),
    **changes: Any,
) -> FixRunInfo:
    """Commit one step: the run's new state, its step entry and the audit entry together.

    With ``expect``, the step is taken only if the run is still in one of those states
    (a conditional update, atomic on SQLite and PostgreSQL): of two processes acting on one
    run at once, the second is refused instead of repeating the change.
    """
    now = utcnow()
    with ops.session() as session:
        if expect and not _claim(session, run_id, expect, now):
            current = session.get(FixRun, run_id)
            raise UsageError(
                f"fix run {run_id} is {current.state if current else 'gone'} now: another "
                "process acted on it first"
            )
        run = session.get(FixRun, run_id)
        assert run is not None
        run.state = state
        for key, value in changes.items():
            setattr(run, key, value)
        if state in ("verified", "failed", "aborted", "rolled_back"):
            run.finished_at = now
        run.updated_at = now
        entry = {"at": now.isoformat(), "state": state, "actor": actor_of(ops), **(detail or {})}
        run.steps = [*run.steps, entry]
        session.add(run)
        tenant = session.get(Tenant, run.tenant_id)
        record(
            ops,
            action,
            tenant=tenant.slug if tenant else "",
            target=run.id,
            details={
                "state": state,
                "fix": run.fix_id,
                "resource": run.resource_uid,
                "finding": run.finding_id,
                **({"reason": run.reason} if run.reason else {}),
                **(detail or {}),
            },
            session=session,
        )
        return _info(session, run)


# --- plan -------------------------------------------------------------------------------


def _open_findings(
    session: Session,
    tenant: Tenant,
    policies: Sequence[str],
    findings: Sequence[str],
    resources: Sequence[str],
    connection: str | None,
) -> list[Finding]:
    query = select(Finding).where(Finding.tenant_id == tenant.id, Finding.state == "open")
    if connection:
        conn = session.exec(
            select(Connection).where(
                Connection.tenant_id == tenant.id, Connection.name == connection
            )
        ).first()
        if conn is None:
            raise ConfigurationError(f"tenant '{tenant.slug}' has no connection '{connection}'")
        query = query.where(Finding.connection_id == conn.id)
    rows = list(session.exec(query.order_by(col(Finding.policy_id), col(Finding.resource_uid))))
    if policies:
        rows = [
            f
            for f in rows
            if any(f.policy_id == p or fnmatch.fnmatchcase(f.policy_id, p) for p in policies)
        ]
    if findings:
        rows = [f for f in rows if any(f.id.startswith(p.lower()) for p in findings)]
    if resources:
        rows = [
            f
            for f in rows
            if any(f.resource_uid == r or fnmatch.fnmatchcase(f.resource_uid, r) for r in resources)
        ]
    return rows


def plan_fixes(
    ops: Operations,
    tenant: str,
    *,
    policies: Sequence[str] = (),
    findings: Sequence[str] = (),
    resources: Sequence[str] = (),
    connection: str | None = None,
    max_risk: str | None = None,
    auto: bool = False,
) -> PlanOutcome:
    """Plan fixes for the chosen open findings: read each live resource, compute before ->
    after and store the plan. Nothing is changed. Findings a guard rail excludes are
    refused (and audited) one by one; when nothing could be planned at all the first
    refusal is raised."""
    resume_fix_runs(ops)
    if not (policies or findings or resources or connection or auto):
        raise UsageError(
            "choose what to fix: --policy, --finding, --resource or --connection",
            hint="list the open findings with: posture findings list",
        )
    catalog = ops.catalog()
    with ops.session() as session:
        ten = get_tenant(session, tenant)
    opts = _check_service(ops, ten)
    with ops.session() as session:
        chosen = _open_findings(session, ten, policies, findings, resources, connection)
        targets = {f.id: _target_of(session, f) for f in chosen}
        connections = {
            c.id: c for c in session.exec(select(Connection).where(Connection.tenant_id == ten.id))
        }
        pending: set[str] = set()
        for finding_id, fix_id, uid in session.exec(
            select(FixRun.finding_id, FixRun.fix_id, FixRun.resource_uid).where(
                FixRun.tenant_id == ten.id, col(FixRun.state).in_(OPEN_STATES)
            )
        ):
            # one run per fix and resource covers every finding it resolves there
            pending |= {finding_id, f"{fix_id} {uid}"}
    if not chosen:
        raise UsageError(f"tenant '{ten.slug}' has no open finding matching that choice")
    outcome = PlanOutcome()
    clients: dict[str, ProviderClient | FixRefused] = {}
    for finding in chosen:
        target = targets[finding.id]
        conn = connections[finding.connection_id]
        fix = catalog.fix_for(finding.policy_id)
        reason = _finding_refusal(opts, ten.slug, finding, target, fix, pending, max_risk, conn)
        if reason is not None:
            code, message = reason
            outcome.refused.append(_refuse_finding(ops, ten, finding, code, message))
            continue
        assert fix is not None
        if fix.manual:
            policy = catalog.policies[finding.policy_id]
            outcome.manual.append(
                ManualStep(
                    finding.id,
                    finding.policy_id,
                    finding.resource_uid,
                    fix.id,
                    {"en": policy.recommendation.en, "ja": policy.recommendation.ja},
                    list(finding.commands),
                )
            )
            continue
        if conn.id not in clients:
            try:
                clients[conn.id] = open_client(conn.provider, ten.slug, conn.name, conn.settings)
            except FixRefused as exc:
                clients[conn.id] = exc
        client = clients[conn.id]
        if isinstance(client, FixRefused):
            outcome.refused.append(_refuse_finding(ops, ten, finding, client.reason, str(client)))
            continue
        try:
            run = _plan_one(ops, ten, finding, target, fix, client, auto)
        except (ProviderCallError, PostureError) as exc:
            outcome.refused.append(
                _refuse_finding(
                    ops, ten, finding, "read_failed", f"reading the resource failed: {exc}"
                )
            )
            continue
        if run is None:
            outcome.refused.append(
                _refuse_finding(
                    ops,
                    ten,
                    finding,
                    "nothing_to_change",
                    "the live resource already has the fixed setting; the next scan resolves "
                    "the finding",
                )
            )
            continue
        pending |= {finding.id, f"{fix.id} {finding.resource_uid}"}
        outcome.runs.append(run)
    if not outcome.runs and not outcome.manual and outcome.refused:
        first = outcome.refused[0]
        raise FixRefused(first.message, reason=first.reason)
    return outcome


def _finding_refusal(
    opts: RepairOptions,
    tenant: str,
    finding: Finding,
    target: Target,
    fix: Fix | None,
    pending: set[str],
    max_risk: str | None,
    conn: Connection,
) -> tuple[str, str] | None:
    if fix is None:
        return "no_fix", f"policy '{finding.policy_id}' has no fix"
    if not opts.allows_policy(finding.policy_id):
        return (
            "policy_not_allowed",
            f"policy '{finding.policy_id}' is not among the policies the tenant allows to "
            "fix (setting_repair.policies)",
        )
    tag = opts.excluded_tag({**finding.tags, **target.tags})
    if tag:
        return "excluded_tag", f"the resource carries the tag '{tag}', which excludes it"
    pattern = opts.excluded_resource(finding.resource_uid)
    if pattern:
        return "excluded_resource", f"the resource matches the exclusion '{pattern}'"
    if finding.id in pending or f"{fix.id} {finding.resource_uid}" in pending:
        return "already_planned", (
            f"a fix run of '{fix.id}' on this resource is already in progress"
        )
    if max_risk is not None and RISKS.index(fix.risk) > RISKS.index(max_risk):
        return "risk_too_high", f"fix '{fix.id}' has risk {fix.risk}, above {max_risk}"
    if not fix.manual and not has_write(conn.settings):
        exc = missing_write(conn.provider, tenant, conn.name)
        return exc.reason, f"{exc.message}; {exc.hint}"
    return None


def _refuse_finding(
    ops: Operations, tenant: Tenant, finding: Finding, reason: str, message: str
) -> Refusal:
    record(
        ops,
        "fix.refused",
        tenant=tenant.slug,
        target=finding.id,
        details={
            "reason": reason,
            "message": message,
            "policy": finding.policy_id,
            "resource": finding.resource_uid,
        },
    )
    return Refusal(finding.id, finding.policy_id, finding.resource_uid, reason, message)


def _plan_one(
    ops: Operations,
    tenant: Tenant,
    finding: Finding,
    target: Target,
    fix: Fix,
    client: ProviderClient,
    auto: bool,
) -> FixRunInfo | None:
    handler = handler_for(fix)
    ctx = FixContext(fix=fix, target=target, client=client)
    before = handler.read(ctx)
    after = handler.desired(ctx, before)
    if before == after:
        return None
    actor = AUTO_ACTOR if auto else actor_of(ops)
    with ops.session() as session:
        run = FixRun(
            tenant_id=tenant.id,
            connection_id=finding.connection_id,
            finding_id=finding.id,
            fix_id=fix.id,
            policy_id=finding.policy_id,
            resource_type=target.type,
            resource_uid=target.uid,
            resource_name=target.name,
            region=target.region,
            risk=fix.risk,
            before=before,
            after=after,
            resource={
                "account": target.account,
                "tags": dict(target.tags),
                "data": dict(target.data),
            },
            auto=auto,
            planned_by=actor,
            steps=[{"at": utcnow().isoformat(), "state": "planned", "actor": actor}],
        )
        session.add(run)
        record(
            ops,
            "fix.plan",
            tenant=tenant.slug,
            target=run.id,
            details={
                "fix": fix.id,
                "policy": finding.policy_id,
                "resource": target.uid,
                "before": before,
                "after": after,
                "auto": auto,
            },
            session=session,
        )
        return _info(session, run)


# --- approve ----------------------------------------------------------------------------


def approve_fix(ops: Operations, run_id: str, *, auto: bool = False) -> FixRunInfo:
    """Record who approved a planned run; the planner may not, unless the tenant allows."""
    resume_fix_runs(ops)
    approver = AUTO_ACTOR if auto else actor_of(ops)
    with ops.session() as session:
        run = _find_run(session, run_id)
        tenant = session.get(Tenant, run.tenant_id)
        assert tenant is not None
    opts = _check_service(ops, tenant)
    if run.state != "planned":
        raise UsageError(f"fix run {run.id} is {run.state}; only a planned run can be approved")
    if approver == run.planned_by and not opts.self_approval and not (auto and run.auto):
        raise _refuse(
            ops,
            tenant.slug,
            "self_approval",
            f"fix run {run.id} was planned by {approver}: another person must approve it "
            "(or the tenant allows setting_repair.self_approval)",
            target=run.id,
        )
    return _step(
        ops,
        run.id,
        "approved",
        "fix.approve",
        approved_by=approver,
        approved_at=utcnow(),
        detail={"approved_by": approver},
        expect=("planned",),
    )


# --- apply --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyOutcome:
    run: FixRunInfo
    executed: bool  # False: a dry run that only re-checked the live state
    live: Any = None  # the state read right before applying
    would_abort: str = ""  # a dry run's verdict when the live state no longer matches


def apply_fix(ops: Operations, run_id: str, *, execute: bool = False) -> ApplyOutcome:
    """Re-check the live resource against the plan and, with ``execute``, apply, verify and
    resolve the finding. A run whose resource or finding changed since the plan aborts."""
    resume_fix_runs(ops)
    live = _live(ops, run_id)
    run = live.run
    opts = _check_service(ops, live.tenant)
    if run.state != "approved" and not (not execute and run.state == "planned"):
        raise UsageError(f"fix run {run.id} is {run.state}; only an approved run can be applied")
    if not opts.allows_policy(run.policy_id):
        raise _refuse(
            ops,
            live.tenant.slug,
            "policy_not_allowed",
            f"policy '{run.policy_id}' is no longer allowed to be fixed",
            target=run.id,
        )
    _check_exclusions(ops, live, opts)
    current = live.read()
    problem = _drift(ops, run, current)
    with ops.session() as session:
        info = _info(session, run)
    if not execute:
        return ApplyOutcome(info, False, current, problem)
    if problem:
        info = _step(ops, run.id, "aborted", "fix.abort", reason=problem)
        return ApplyOutcome(info, True, current)
    with ops.session() as session:
        limited = _rate_limited(session, live.tenant, opts)
    if limited:
        raise _refuse(
            ops,
            live.tenant.slug,
            "rate_limited",
            f"tenant '{live.tenant.slug}' reached its limit of {opts.max_per_hour} fixes per "
            "hour (setting_repair.max_per_hour)",
            target=run.id,
        )
    _step(
        ops,
        run.id,
        "applying",
        "fix.apply",
        applied_by=actor_of(ops) if not run.auto else AUTO_ACTOR,
        applied_at=utcnow(),
        expect=("approved",),
    )
    _crash_point("applying")
    try:
        live.handler.apply(live.ctx, run.before, run.after)
    except (ProviderCallError, PostureError) as exc:
        return ApplyOutcome(_recover(ops, live, f"applying failed: {exc}"), True, current)
    _crash_point("changed")
    _step(ops, run.id, "applied", "fix.applied")
    _crash_point("applied")
    return ApplyOutcome(_verify(ops, live), True, current)


def _check_exclusions(ops: Operations, live: _Live, opts: RepairOptions) -> None:
    """Tags and exclusions as the latest scan saw them: one added since the plan wins."""
    with ops.session() as session:
        finding = session.get(Finding, live.run.finding_id)
    tags = {**live.ctx.target.tags, **(finding.tags if finding else {})}
    tag = opts.excluded_tag(tags)
    pattern = opts.excluded_resource(live.run.resource_uid)
    if tag or pattern:
        reason, message = (
            ("excluded_tag", f"the resource now carries the tag '{tag}', which excludes it")
            if tag
            else ("excluded_resource", f"the resource matches the exclusion '{pattern}'")
        )
        raise _refuse(ops, live.tenant.slug, reason, message, target=live.run.id)


def _drift(ops: Operations, run: FixRun, current: Any) -> str:
    """Why the plan no longer holds, or "" when the live state and the finding are as planned."""
    if current != run.before:
        return "the resource changed since the plan; plan again"
    with ops.session() as session:
        finding = session.get(Finding, run.finding_id)
    if finding is None or finding.state != "open":
        return "the finding no longer fails (it is resolved or waived); nothing to do"
    return ""


def _verify(ops: Operations, live: _Live) -> FixRunInfo:
    """Read back, re-scan the resource type and re-evaluate the resolved policies."""
    run = live.run
    try:
        now = live.read()
    except (ProviderCallError, PostureError) as exc:
        return _step(ops, run.id, "failed", "fix.fail", reason=f"reading back failed: {exc}")
    if now != run.after:
        return _recover(ops, live, "the resource does not show the fixed setting after applying")
    scan_id, failing = _rescan(ops, live, fixed=True)
    if failing:
        return _recover(
            ops, live, f"the re-scan still finds {', '.join(failing)} failing on the resource"
        )
    return _step(
        ops, run.id, "verified", "fix.verify", verify_scan_id=scan_id, detail={"scan": scan_id}
    )


def _rescan(ops: Operations, live: _Live, *, fixed: bool) -> tuple[str, list[str]]:
    """Scan the run's connection for the resolved policies; the policies that do not pass."""
    from posture.scan import run_scan

    run = live.run
    with ops.session() as session:
        covered = set(
            session.exec(
                select(Finding.id).where(
                    Finding.tenant_id == run.tenant_id,
                    Finding.resource_uid == run.resource_uid,
                    col(Finding.policy_id).in_(list(live.fix.resolves)),
                )
            )
        )
    outcome = run_scan(
        ops.store(),
        ops.catalog(),
        live.tenant.slug,
        connections=[live.connection.name],
        policy_ids=list(live.fix.resolves),
        fixed=covered if fixed else frozenset(),
    )
    record(
        ops,
        "scan.run",
        tenant=live.tenant.slug,
        target=outcome.scan_id,
        details={"fix_run": run.id, "policies": list(live.fix.resolves), "status": outcome.status},
    )
    with ops.session() as session:
        results = list(
            session.exec(
                select(ResultRecord).where(
                    ResultRecord.scan_id == outcome.scan_id,
                    ResultRecord.resource_uid == run.resource_uid,
                    col(ResultRecord.policy_id).in_(list(live.fix.resolves)),
                )
            )
        )
    passed = {r.policy_id for r in results if r.status == "pass"}
    return outcome.scan_id, sorted(set(live.fix.resolves) - passed)


def _recover(ops: Operations, live: _Live, reason: str) -> FixRunInfo:
    """Something went wrong after the change may have started: put the before-state back."""
    _step(ops, live.run.id, "rolling_back", "fix.rollback", reason=reason)
    return _restore(ops, live, reason)


def _restore(ops: Operations, live: _Live, reason: str) -> FixRunInfo:
    run = live.run
    _crash_point("rolling_back")
    try:
        current = live.read()
        if current != run.before:
            live.handler.restore(live.ctx, run.before, current)
        _crash_point("restored")
        back = live.read()
    except (ProviderCallError, PostureError) as exc:
        return _step(ops, run.id, "failed", "fix.fail", reason=f"{reason}; restoring failed: {exc}")
    if back != run.before:
        return _step(
            ops,
            run.id,
            "failed",
            "fix.fail",
            reason=f"{reason}; after restoring, the resource does not show the before-state",
            detail={"live": back},
        )
    scan_id, _ = _rescan(ops, live, fixed=False)
    return _step(
        ops,
        run.id,
        "rolled_back",
        "fix.rolled_back",
        reason=reason,
        verify_scan_id=scan_id,
        detail={"scan": scan_id},
    )


# --- rollback ---------------------------------------------------------------------------


def rollback_fix(ops: Operations, run_id: str, *, execute: bool = False) -> ApplyOutcome:
    """Restore the captured before-state of an applied run and verify it."""
    resume_fix_runs(ops)
    live = _live(ops, run_id)
    run = live.run
    if run.state not in ("verified", "applied", "failed"):
        raise UsageError(f"fix run {run.id} is {run.state}; only an applied run can be rolled back")
    # the kill switch does not stop a rollback: restoring is how a bad change is undone
    current = live.read()
    with ops.session() as session:
        info = _info(session, run)
    if not execute:
        return ApplyOutcome(info, False, current)
    _step(
        ops,
        run.id,
        "rolling_back",
        "fix.rollback",
        reason="rollback requested",
        expect=("verified", "applied", "failed"),
    )
    return ApplyOutcome(_restore(ops, live, "rolled back on request"), True, current)


# --- resume -------------------------------------------------------------------------------


def resume_fix_runs(ops: Operations) -> list[FixRunInfo]:
    """Finish every run a stopped process left in applying, applied or rolling_back."""
    with ops.session() as session:
        ids = list(
            session.exec(
                select(FixRun.id)
                .where(col(FixRun.state).in_(UNFINISHED))
                .order_by(col(FixRun.updated_at))
            )
        )
    done: list[FixRunInfo] = []
    for run_id in ids:
        try:
            done.append(_resume_one(ops, run_id))
        except (ProviderCallError, PostureError) as exc:
            done.append(_step(ops, run_id, "failed", "fix.fail", reason=f"resuming failed: {exc}"))
    return done


def _resume_one(ops: Operations, run_id: str) -> FixRunInfo:
    return _resume_one_from(ops, _live(ops, run_id))


def _resume_one_from(ops: Operations, live: _Live) -> FixRunInfo:
    run = live.run
    with ops.session() as session:  # one resumer per run, however many processes start
        if not _claim(session, run.id, (run.state,), utcnow(), seen=run.updated_at):
            return _info(session, _find_run(session, run.id))
    record(
        ops,
        "fix.resume",
        tenant=live.tenant.slug,
        target=run.id,
        details={"state": run.state},
    )
    current = live.read()
    if run.state == "rolling_back":
        return _restore(ops, live, run.reason or "rollback interrupted")
    if current == run.after:
        if run.state == "applying":
            _step(ops, run.id, "applied", "fix.applied", detail={"resumed": True})
        return _verify(ops, live)
    if current == run.before:
        return _step(ops, run.id, "failed", "fix.fail", reason=INTERRUPTED)
    return _recover(ops, live, "interrupted in the middle of the change")


# --- lists ----------------------------------------------------------------------------------


def list_fix_runs(
    ops: Operations,
    tenant: str | None = None,
    *,
    states: Iterable[str] = (),
    limit: int = 50,
) -> list[FixRunInfo]:
    wanted = list(states)
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise UsageError(f"unknown fix run state '{unknown[0]}'; states: {', '.join(STATES)}")
    with ops.session() as session:
        query = select(FixRun)
        if tenant:
            query = query.where(FixRun.tenant_id == get_tenant(session, tenant).id)
        if wanted:
            query = query.where(col(FixRun.state).in_(wanted))
        rows = session.exec(query.order_by(col(FixRun.planned_at).desc()).limit(limit))
        return [_info(session, r) for r in rows]


def show_fix_run(ops: Operations, run_id: str) -> FixRunInfo:
    with ops.session() as session:
        return _info(session, _find_run(session, run_id))


def unnotified_auto_runs(session: Session, tenant_id: str) -> list[FixRun]:
    """Automatic runs finished since the last notification, oldest first."""
    return list(
        session.exec(
            select(FixRun)
            .where(
                FixRun.tenant_id == tenant_id,
                col(FixRun.auto).is_(True),
                col(FixRun.notified).is_(False),
                col(FixRun.state).in_(("verified", "failed", "aborted", "rolled_back")),
            )
            .order_by(col(FixRun.planned_at))
        )
    )


# --- automatic mode -------------------------------------------------------------------------


def auto_fix(ops: Operations, tenant: str) -> list[FixRunInfo]:
    """After a scheduled scan: plan, approve (as ``auto``) and apply every eligible fix of a
    tenant with ``setting_repair.auto``, up to ``auto_max_risk``. Refusals are audited."""
    with ops.session() as session:
        ten = get_tenant(session, tenant)
    raw = ten.options.get("setting_repair") or {}
    if not isinstance(raw, Mapping) or raw.get("auto") is not True:
        return []
    opts = RepairOptions.of(ten.options)
    if not opts.enabled or not opts.policies:
        return []
    try:
        plan = plan_fixes(
            ops, ten.slug, policies=list(opts.policies), max_risk=opts.auto_max_risk, auto=True
        )
    except (FixRefused, UsageError):
        return []
    done: list[FixRunInfo] = []
    for run in plan.runs:
        try:
            approve_fix(ops, run.id, auto=True)
            done.append(apply_fix(ops, run.id, execute=True).run)
        except FixRefused:
            break  # rate limit or kill switch: the rest waits for the next scan
    return done
