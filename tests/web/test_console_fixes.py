"""The setting-repair buttons of a finding: only with the option bought and the right held.

The fix operations are replaced by a recorder, so these tests see what the console asks
for, not how a fix runs.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from posture.store import Store, Tenant
from tests.web.console_support import ADMIN, CUSTOMER_ADMIN, finding_ids, form_token, login


@dataclass
class Recorder:
    planned: list[tuple[str, list[str]]] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    runs: list[Any] = field(default_factory=list)


@pytest.fixture
def fixes(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    module = types.ModuleType("posture.operations.fixes")

    def plan_fixes(ops: Any, tenant: str, *, findings: list[str], **_: Any) -> None:
        recorder.planned.append((tenant, list(findings)))
        recorder.runs.extend(types.SimpleNamespace(id=f"run-{f}", finding_id=f) for f in findings)

    def list_fix_runs(ops: Any, tenant: str, *, states: Any = (), **_: Any) -> list[Any]:
        return [r for r in recorder.runs if r.id not in recorder.approved]

    def approve_fix(ops: Any, run_id: str, **_: Any) -> None:
        recorder.approved.append(run_id)

    module.plan_fixes = plan_fixes  # type: ignore[attr-defined]
    module.list_fix_runs = list_fix_runs  # type: ignore[attr-defined]
    module.approve_fix = approve_fix  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "posture.operations.fixes", module)
    return recorder


def _buy_setting_repair(store: Store, slug: str) -> None:
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).one()
        tenant.options = {**tenant.options, "setting_repair": {"enabled": True}}
        session.add(tenant)


def test_no_buttons_without_setting_repair(client: TestClient, fixes: Recorder) -> None:
    login(client, ADMIN)
    fid = finding_ids(client.get("/t/acme/findings").text, "acme")[0]
    assert 'data-testid="fix-actions"' not in client.get(f"/t/acme/findings/{fid}").text


def test_request_then_approve_a_fix(
    client: TestClient, fixes: Recorder, console_store: Store
) -> None:
    _buy_setting_repair(console_store, "acme")
    login(client, CUSTOMER_ADMIN)
    fid = finding_ids(client.get("/t/acme/findings").text, "acme")[0]
    detail = client.get(f"/t/acme/findings/{fid}")  # the account speaks Japanese
    assert "修正を依頼" in detail.text and "修正を承認" not in detail.text
    requested = client.post(
        f"/t/acme/findings/{fid}/fix/request",
        data={"csrf_token": form_token(detail.text)},
    )
    assert fixes.planned == [("acme", [fid])]
    assert "修正を承認" in requested.text
    client.post(
        f"/t/acme/findings/{fid}/fix/approve", data={"csrf_token": form_token(requested.text)}
    )
    assert fixes.approved == [f"run-{fid}"]
