"""Roles and permissions: what each role may do through the operations, and tenant scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from posture.errors import AccessDenied, ConfigurationError, PostureError
from posture.operations import FindingQuery, Operations
from posture.operations import identity as idm
from posture.operations.access import PERMISSIONS, RIGHTS, Principal, Role, require
from posture.operations.audit import AuditQuery, list_audit, set_retention
from posture.operations.connections import add_connection, list_connections
from posture.operations.exports import export_findings
from posture.operations.findings import query_findings
from posture.operations.notifications import add_channel, list_channels
from posture.operations.reports import generate_report
from posture.operations.retention import run_retention
from posture.operations.scans import list_scans, show_scan
from posture.operations.schedules import add_schedule, list_schedules
from posture.operations.tenants import add_tenant, list_tenants, show_tenant
from posture.operations.usage import tenant_usage
from posture.operations.waivers import add_waiver, list_waivers
from tests.operations.conftest import VERSIONING, Seed

Op = Callable[[Operations], Any]
PA, AN, AU, CA, CV = (
    Role.PROVIDER_ADMIN,
    Role.ANALYST,
    Role.AUDITOR,
    Role.CUSTOMER_ADMIN,
    Role.CUSTOMER_VIEWER,
)
EVERYONE = {PA, AN, AU, CA, CV}
WHO = {"reason": "accepted", "requested_by": "r", "approved_by": "a"}
# a waiver's expiry ahead in every time zone (the tenant's day may already be tomorrow)
SOON = date.today() + timedelta(days=7)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idm, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def estate(ops: Operations, seed: Seed) -> dict[str, str]:
    """Two tenants; acme has a connection, a scan and a finding."""
    acme = seed.tenant("acme")
    seed.tenant("globex")
    conn = seed.connection(acme, "prod")
    scan = seed.scan(acme, 1, scan_id="a" * 32)
    seed.target(scan, conn)
    seed.finding(acme, conn, VERSIONING, "arn:aws:s3:::b1")
    return {"acme": acme.id, "scan": scan.id}


def principal(ops: Operations, role: Role) -> Principal:
    tenant = "acme" if role in (CA, CV) else None
    name = f"u-{role.value}"
    idm.add_user(ops, name, role=role, tenant=tenant, password="a long enough password")
    return idm.authenticate(ops, name, "a long enough password")


# (operation, roles allowed); each runs as the role on tenant acme
MATRIX: list[tuple[str, Op, set[Role]]] = [
    ("list tenants", lambda o: list_tenants(o), EVERYONE),
    ("show tenant", lambda o: show_tenant(o, "acme"), EVERYONE),
    ("add tenant", lambda o: add_tenant(o, "initech", name="Initech"), {PA}),
    ("list connections", lambda o: list_connections(o, "acme"), EVERYONE),
    ("add connection", lambda o: add_connection(o, "acme", "dev", "aws", {}), {PA, AN}),
    ("findings", lambda o: query_findings(o, FindingQuery(tenant="acme")), EVERYONE),
    ("list scans", lambda o: list_scans(o, "acme"), EVERYONE),
    ("show scan", lambda o: show_scan(o, "a" * 32), EVERYONE),
    (
        "add waiver",
        lambda o: add_waiver(o, "acme", policy=VERSIONING, expires=SOON, **WHO),
        {PA, AN, CA},
    ),
    ("list waivers", lambda o: list_waivers(o, "acme"), EVERYONE),
    (
        "add schedule",
        lambda o: add_schedule(o, "acme", "scan", cron="0 3 * * *"),
        {PA, AN},
    ),
    ("list schedules", lambda o: list_schedules(o, "acme"), EVERYONE),
    (
        "add channel",
        lambda o: add_channel(
            o,
            "acme",
            "hook",
            "webhook",
            settings={"url": "https://example.com/h", "secret_env": "HOOK_SECRET"},
        ),
        {PA, AN, CA},
    ),
    ("list channels", lambda o: list_channels(o, "acme"), EVERYONE),
    ("export findings", lambda o: export_findings(o, "acme", fmt="json"), EVERYONE),
    ("usage", lambda o: tenant_usage(o, "acme"), EVERYONE),
    ("audit log", lambda o: list_audit(o), {PA, AN, AU}),
    ("audit retention", lambda o: set_retention(o, 30), {PA}),
    ("retention", lambda o: run_retention(o, "acme"), {PA}),
]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_may_do_what_its_rights_say(
    ops: Operations, estate: dict[str, str], role: Role, tmp_path: Path
) -> None:
    acting = ops.acting_as(principal(ops, role))
    outcomes = {}
    for name, operation, allowed in MATRIX:
        try:
            operation(acting)
            outcomes[name] = True
        except AccessDenied as exc:
            assert exc.code == "forbidden" and exc.permission in PERMISSIONS
            outcomes[name] = False
        assert outcomes[name] == (role in allowed), (role, name)


def test_reports_need_report_generate(
    ops: Operations, estate: dict[str, str], tmp_path: Path
) -> None:
    for role in (AU, CV):
        with pytest.raises(AccessDenied, match=r"report\.generate"):
            generate_report(ops.acting_as(principal(ops, role)), "acme", out=tmp_path)


def test_without_a_principal_everything_is_allowed(ops: Operations, estate: dict[str, str]) -> None:
    for permission in PERMISSIONS:
        require(ops, permission, estate["acme"])
    with pytest.raises(ValueError, match="unknown permission"):
        require(ops, "finding.delete")


def test_a_customer_sees_its_own_tenant_only(ops: Operations, estate: dict[str, str]) -> None:
    viewer = ops.acting_as(principal(ops, CV))
    assert [t.slug for t in list_tenants(viewer)] == ["acme"]
    assert [u.tenant for u in tenant_usage(viewer)] == ["acme"]
    # with one tenant in scope, it is the one meant when none is named
    assert show_tenant(viewer).slug == "acme"
    assert [c.name for c in list_connections(viewer)] == ["prod"]


def _error(operation: Op, ops: Operations) -> PostureError:
    with pytest.raises(PostureError) as caught:
        operation(ops)
    return caught.value


@pytest.mark.parametrize(
    "operation",
    [
        lambda o, s: show_tenant(o, s),
        lambda o, s: query_findings(o, FindingQuery(tenant=s)),
        lambda o, s: list_scans(o, s),
        lambda o, s: list_waivers(o, s),
        lambda o, s: export_findings(o, s, fmt="csv"),
        lambda o, s: list_connections(o, s),
        lambda o, s: add_waiver(o, s, policy=VERSIONING, expires=SOON, **WHO),
    ],
)
@pytest.mark.parametrize("role", [CA, CV], ids=str)
def test_another_tenant_is_as_unknown_as_a_typo(
    ops: Operations,
    estate: dict[str, str],
    operation: Callable[[Operations, str], Any],
    role: Role,
) -> None:
    customer = ops.acting_as(principal(ops, role))
    other = _error(lambda o: operation(o, "globex"), customer)
    typo = _error(lambda o: operation(o, "globexx"), customer)
    assert type(other) is type(typo) and isinstance(other, ConfigurationError)
    assert other.code == typo.code == "not_found"
    assert other.message.replace("globex", "X") == typo.message.replace("globexx", "X")
    assert "globex" not in other.message.replace("'globex'", "")  # no list of other tenants


def test_a_scan_of_another_tenant_is_not_found(ops: Operations, seed: Seed) -> None:
    acme, globex = seed.tenant("acme"), seed.tenant("globex")
    seed.scan(globex, 1, scan_id="b" * 32)
    seed.scan(acme, 2, scan_id="c" * 32)
    idm.add_user(ops, "carol", role=CA, tenant="acme", password="a long enough password")
    carol = ops.acting_as(idm.authenticate(ops, "carol", "a long enough password"))
    assert show_scan(carol, "c" * 32).scan.tenant == "acme"
    with pytest.raises(ConfigurationError, match="no scan with id") as other:
        show_scan(carol, "b" * 32)
    with pytest.raises(ConfigurationError, match="no scan with id") as typo:
        show_scan(carol, "d" * 32)
    assert other.value.message.replace("b", "d") == typo.value.message


def test_token_scopes_narrow_the_role(ops: Operations, estate: dict[str, str]) -> None:
    idm.add_user(ops, "ana", role=AN, password="a long enough password")
    _, secret = idm.create_token(ops, "ana", name="ro", scopes=["finding.read"], expires_days=5)
    reader = ops.acting_as(idm.token_principal(ops, secret))
    assert query_findings(reader, FindingQuery(tenant="acme"))
    with pytest.raises(AccessDenied, match=r"this API token lacks the permission tenant\.read"):
        list_tenants(reader)
    with pytest.raises(AccessDenied, match=r"waiver\.write"):
        add_waiver(reader, "acme", policy=VERSIONING, expires=SOON, **WHO)


def test_the_rights_follow_the_agreed_matrix() -> None:
    assert RIGHTS[PA] == set(PERMISSIONS)
    assert RIGHTS[AN] == set(PERMISSIONS) - {"tenant.write", "tenant.pause", "service.operate"}
    assert RIGHTS[AU] == {"tenant.read", "finding.read", "report.read", "audit.read", "export.run"}
    assert RIGHTS[CV] == {"tenant.read", "finding.read", "report.read", "export.run"}
    assert RIGHTS[CA] == RIGHTS[CV] | {
        "waiver.write",
        "fix.request",
        "fix.approve",
        "report.generate",
        "channel.write",
        "user.manage",
        "token.manage",
    }
    assert Principal("1", "c", CA, tenant_id="t1").tenant_scope == {"t1"}
    assert Principal("2", "p", AN).tenant_scope is None


def test_actions_are_audited_under_the_principal(ops: Operations, estate: dict[str, str]) -> None:
    analyst = ops.acting_as(principal(ops, AN))
    add_waiver(analyst, "acme", policy=VERSIONING, expires=SOON, **WHO)
    entry = list_audit(ops, AuditQuery(actions=("waiver.add",)))[-1]
    assert entry.actor == "u-analyst"


def _error_classes(cls: type[PostureError]) -> list[type[PostureError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _error_classes(sub))]


def test_roles_permissions_and_error_codes_have_texts_in_both_languages() -> None:
    import posture.connectors.dns  # noqa: F401  (error subclasses defined outside errors.py)
    from posture.report.i18n import SUPPORTED_LANGUAGES, load_messages

    codes = {c.code for c in _error_classes(PostureError)}
    assert {"forbidden", "account_locked", "token_expired", "not_found", "fix_refused"} <= codes
    for lang in SUPPORTED_LANGUAGES:
        messages = load_messages(lang)
        for role in Role:
            assert messages.get(f"access.role.{role.value}", ""), (lang, role)
        for permission in PERMISSIONS:
            assert messages.get(f"access.permission.{permission}", ""), (lang, permission)
        for code in codes:
            assert messages.get(f"access.error.{code}", ""), (lang, code)


def test_service_work_needs_service_operate(ops: Operations, estate: dict[str, str]) -> None:
    from posture.operations.notifications import deliver_queued, send_digests
    from posture.operations.schedules import close_interrupted_runs, job_specs

    analyst = ops.acting_as(principal(ops, AN))
    for work in (deliver_queued, send_digests, close_interrupted_runs, job_specs):
        with pytest.raises(AccessDenied, match=r"service\.operate"):
            work(analyst)
        work(ops)  # the scheduler and the workers act without a principal
