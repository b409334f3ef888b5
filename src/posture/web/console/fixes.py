"""The "request a fix" and "approve a fix" buttons of a finding.

Shown only when the tenant bought setting repair (``options.setting_repair.enabled``),
the installation has the fix operations, and the reader holds the right; the operations
decide again when the button is pressed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from posture.operations.access import Principal
from posture.operations.context import Operations
from posture.operations.dashboard import TenantView
from posture.operations.rows import FindingRow

ACTIONS = ("request", "approve")


@dataclass(frozen=True)
class FixActions:
    request: bool  # may ask for a fix plan of this finding
    approve: list[str]  # ids of planned fix runs of it the reader may approve


def _module() -> ModuleType | None:
    try:
        return importlib.import_module("posture.operations.fixes")
    except ImportError:
        return None


def fix_actions(
    ops: Operations, principal: Principal, tenant: TenantView, row: FindingRow
) -> FixActions | None:
    fixes = _module()
    if fixes is None or not tenant.setting_repair or row.status != "open":
        return None
    approvable: list[str] = []
    if principal.can("fix.approve") and hasattr(fixes, "list_fix_runs"):
        runs: list[Any] = fixes.list_fix_runs(ops, tenant.slug, states=["planned"])
        approvable = [str(run.id) for run in runs if run.finding_id == row.id]
    return FixActions(request=principal.can("fix.request"), approve=approvable)


def run_action(ops: Operations, tenant: TenantView, row: FindingRow, action: str) -> str:
    """Plan or approve; the notice to show. Unknown actions and a missing module: nothing."""
    fixes = _module()
    if fixes is None or action not in ACTIONS:
        return ""
    if action == "request":
        fixes.plan_fixes(ops, tenant.slug, findings=[row.id])
        return "fix_requested"
    actions = fix_actions(ops, ops.principal, tenant, row) if ops.principal else None
    for run_id in actions.approve if actions else []:
        fixes.approve_fix(ops, run_id)
    return "fix_approved"
