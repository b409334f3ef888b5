"""The engine and inventory side of licence gaps: one not_applicable result per policy."""

from __future__ import annotations

from posture.catalog import Catalog
from posture.connectors.inventory import GLOBAL, Inventory, ScopeFailure
from posture.engine import evaluate
from posture.models import Resource, Status

REASON = "requires Microsoft Entra ID P1"


def test_unlicensed_scope_gives_one_not_applicable_result_per_policy(catalog: Catalog) -> None:
    policies = catalog.select(provider="m365")
    inventory = Inventory("c", "m365", "t", [GLOBAL])
    inventory.mark_not_applicable("m365.entra.conditional_access", GLOBAL, REASON)
    inventory.fail(ScopeFailure("m365.entra.authorization_policy", GLOBAL, "denied"))
    stray = Resource("m365.entra.conditional_access", "t/ca", GLOBAL, "CA", {"policies": []})
    results = evaluate(
        policies,
        [stray],
        failed_scopes=inventory.failed_scopes(),
        not_applicable_scopes=inventory.not_applicable_scopes(),
    )
    mfa = [r for r in results if r.policy_id == "m365.entra.mfa_required_for_admins"]
    assert [(r.status, r.reason, r.resource_uid) for r in mfa] == [
        (Status.NOT_APPLICABLE, REASON, "")
    ]
    invites = [r for r in results if r.policy_id == "m365.entra.guest_invites_restricted"]
    assert [r.status for r in invites] == [Status.ERROR]


def test_a_failed_scope_wins_over_not_applicable(catalog: Catalog) -> None:
    policies = catalog.select(provider="m365")
    key = ("m365.entra.conditional_access", GLOBAL)
    results = evaluate(
        policies, [], failed_scopes={key: "boom"}, not_applicable_scopes={key: REASON}
    )
    mfa = [r for r in results if r.policy_id == "m365.entra.mfa_required_for_admins"]
    assert [r.status for r in mfa] == [Status.ERROR]
