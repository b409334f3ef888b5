"""Setting repair through the API: each step needs its right and the run's own tenant.

The fix operations are a stand-in here (recording what they are asked), so these tests
pin what the API adds: rights per step, tenant checks on run ids, the request shapes."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.errors import NotFound
from posture.store import Store

from .conftest import Api, serve_api


@dataclass(frozen=True)
class Run:
    id: str
    tenant: str
    state: str = "planned"
    connection: str = "prod"
    fix_id: str = "aws.s3.put_bucket_versioning"
    policy_id: str = "aws.s3.bucket_versioning_enabled"
    finding_id: str = "f1"
    resource_uid: str = "arn:aws:s3:::logs"
    resource_name: str = "logs"
    region: str = "us-east-1"
    risk: str = "low"
    reason: str = ""
    before: Any = None
    after: Any = None
    auto: bool = False
    planned_by: str = "cadmin"
    planned_at: datetime = datetime(2025, 5, 1, tzinfo=UTC)
    approved_by: str = ""
    approved_at: datetime | None = None
    applied_by: str = ""
    applied_at: datetime | None = None
    finished_at: datetime | None = None
    verify_scan_id: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    runs: list[Run]
    refused: list[Any] = field(default_factory=list)
    manual: list[Any] = field(default_factory=list)


@dataclass
class Applied:
    run: Run
    executed: bool
    live: Any = None
    would_abort: str = ""


RUNS = {"run-acme": Run("run-acme", "acme"), "run-beta": Run("run-beta", "beta")}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    fake = types.ModuleType("posture.operations.fixes")

    def show_fix_run(ops: Any, run_id: str) -> Run:
        if run_id not in RUNS:
            raise NotFound(f"no fix run with id '{run_id}'")
        return RUNS[run_id]

    def plan_fixes(ops: Any, tenant: str, **kw: Any) -> Plan:
        seen.append(("plan", (tenant, kw["findings"])))
        return Plan([RUNS["run-acme"]])

    def approve_fix(ops: Any, run_id: str) -> Run:
        seen.append(("approve", run_id))
        return RUNS[run_id]

    def apply_fix(ops: Any, run_id: str, *, execute: bool) -> Applied:
        seen.append(("apply", (run_id, execute)))
        return Applied(RUNS[run_id], execute)

    def list_fix_runs(ops: Any, tenant: str, **kw: Any) -> list[Run]:
        return [r for r in RUNS.values() if r.tenant == tenant]

    for function in (show_fix_run, plan_fixes, approve_fix, apply_fix, list_fix_runs):
        setattr(fake, function.__name__, function)
    fake.rollback_fix = apply_fix  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "posture.operations.fixes", fake)
    return seen


@pytest.fixture
def fix_api(
    calls: list[tuple[str, Any]], api_store: Store, catalog: Catalog, tmp_path: Path
) -> Iterator[Api]:
    yield from serve_api(api_store, catalog, tmp_path / "files")


def post(api: Api, who: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return api.client.post(path, json=body or {}, headers=api.auth(who))


def test_the_real_fix_operations_refuse_a_tenant_without_setting_repair(api: Api) -> None:
    from posture.operations.audit import AuditQuery, list_audit

    assert (
        "/api/v1/tenants/{tenant}/fixes" in api.client.get("/api/v1/openapi.json").json()["paths"]
    )
    assert api.get("admin", "/api/v1/tenants/acme/fixes").status_code == 200
    finding = api.estate.acme_findings["data"]
    refused = post(api, "cadmin", "/api/v1/tenants/acme/fixes", {"findings": [finding]})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "fix_refused"
    entries = list_audit(api.ops, AuditQuery(actions=("fix.refused",)))
    assert entries and entries[-1].details["reason"] == "option_disabled"
    assert api.get("admin", "/api/v1/tenants/acme/fixes").json() == []


def test_each_step_needs_its_right(fix_api: Api, calls: list[tuple[str, Any]]) -> None:
    base = "/api/v1/tenants/acme/fixes"
    assert post(fix_api, "viewer", base, {"findings": ["f1"]}).status_code == 403
    planned = post(fix_api, "cadmin", base, {"findings": ["f1"]})
    assert planned.status_code == 201 and planned.json()["runs"][0]["id"] == "run-acme"
    assert post(fix_api, "cadmin", f"{base}/run-acme/approve").status_code == 200
    assert post(fix_api, "cadmin", f"{base}/run-acme/apply", {"execute": True}).status_code == 403
    applied = post(fix_api, "analyst", f"{base}/run-acme/apply", {"execute": True})
    assert applied.status_code == 200 and applied.json()["executed"] is True
    assert calls == [
        ("plan", ("acme", ["f1"])),
        ("approve", "run-acme"),
        ("apply", ("run-acme", True)),
    ]


def test_another_tenants_run_is_unknown(fix_api: Api, calls: list[tuple[str, Any]]) -> None:
    through_own = post(fix_api, "cadmin", "/api/v1/tenants/acme/fixes/run-beta/approve")
    through_theirs = post(fix_api, "cadmin", "/api/v1/tenants/beta/fixes/run-beta/approve")
    assert through_own.status_code == through_theirs.status_code == 404
    assert fix_api.get("viewer", "/api/v1/tenants/acme/fixes/run-beta").status_code == 404
    listed = fix_api.get("viewer", "/api/v1/tenants/acme/fixes").json()
    assert [r["id"] for r in listed] == ["run-acme"]
    assert calls == []
