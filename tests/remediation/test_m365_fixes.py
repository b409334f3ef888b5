"""Microsoft 365 fixes against the local Graph: plan diff, apply resolves on re-scan,
rollback restores Graph's own read exactly, a setting changed after the plan aborts, and
a write app without the permission leaves the setting and the finding as they were."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from posture.catalog import Catalog
from posture.localapi.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    WRITER_SECRET,
    WRITER_SECRET_ENV,
    GraphServer,
    GraphState,
    graph_server,
)
from posture.store import Store

from .saas_support import SaasRepair

AUTHZ = "/policies/authorizationPolicy"
METHODS = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations"
MEMBER_GUEST_ROLE = "a0b1b346-4d3e-4e8b-98f8-753987be4970"
LIMITED_GUEST_ROLE = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
RESTRICTED_GUEST_ROLE = "2af84b1e-32c8-42b7-82bc-daa82404023b"
OWNED_RESOURCE = (
    "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"
)
LEGACY_CONSENT = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"


def _get(graph: GraphServer, path: str) -> dict[str, Any]:
    """Graph's own read of ``path``, signed in as the scanning app."""
    token = httpx.post(
        f"{graph.url}/{TENANT_ID}/oauth2/v2.0/token",
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        verify=graph.ca_bundle,
    ).json()["access_token"]
    answer = httpx.get(
        f"{graph.url}/v1.0{path}",
        headers={"Authorization": f"Bearer {token}"},
        verify=graph.ca_bundle,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    body.pop("@odata.context", None)
    return body


def _authz(name: str) -> Callable[[GraphServer], Any]:
    def read(graph: GraphServer) -> Any:
        return _get(graph, AUTHZ)["defaultUserRolePermissions"][name]

    return read


def _top(name: str) -> Callable[[GraphServer], Any]:
    def read(graph: GraphServer) -> Any:
        return _get(graph, AUTHZ)[name]

    return read


def _methods(*names: str) -> Callable[[GraphServer], Any]:
    def read(graph: GraphServer) -> Any:
        return {n: _get(graph, f"{METHODS}/{n}")["state"] for n in names}

    return read


def _set_method(name: str, value: str) -> Callable[[GraphState], None]:
    def change(state: GraphState) -> None:
        for key in (
            "/policies/authenticationMethodsPolicy",
            "/beta/policies/authenticationMethodsPolicy",
        ):
            for config in state.tenant[key]["authenticationMethodConfigurations"]:
                if config["id"] == name:
                    config["state"] = value

    return change


def _authz_set(**values: Any) -> Callable[[GraphState], None]:
    def change(state: GraphState) -> None:
        policy = state.tenant[AUTHZ]
        for key, value in values.items():
            if key in policy["defaultUserRolePermissions"]:
                policy["defaultUserRolePermissions"][key] = value
            else:
                policy[key] = value

    return change


def _nothing(state: GraphState) -> None:
    return None


@dataclass(frozen=True)
class Case:
    fix: str
    policy: str
    uid: str
    live: Callable[[GraphServer], Any]  # Graph's read of the setting, in the fix's state shape
    before: Any
    after: Any
    drift: Callable[[GraphState], None]  # someone else changes the setting after the plan
    prepare: Callable[[GraphState], None] = field(default=_nothing)


CASES = [
    Case(
        "m365.entra.block_user_app_registration",
        "m365.entra.users_cannot_register_apps",
        "authorizationPolicy",
        _authz("allowedToCreateApps"),
        True,
        False,
        _authz_set(allowedToCreateApps=False),
    ),
    Case(
        "m365.entra.block_user_security_group_creation",
        "m365.entra.users_cannot_create_security_groups",
        "authorizationPolicy",
        _authz("allowedToCreateSecurityGroups"),
        True,
        False,
        _authz_set(allowedToCreateSecurityGroups=False),
    ),
    Case(
        "m365.entra.block_user_tenant_creation",
        "m365.entra.users_cannot_create_tenants",
        "authorizationPolicy",
        _authz("allowedToCreateTenants"),
        True,
        False,
        _authz_set(allowedToCreateTenants=False),
    ),
    Case(
        "m365.entra.block_user_bitlocker_key_read",
        "m365.entra.users_cannot_read_bitlocker_keys",
        "authorizationPolicy",
        _authz("allowedToReadBitlockerKeysForOwnedDevice"),
        True,
        False,
        _authz_set(allowedToReadBitlockerKeysForOwnedDevice=False),
    ),
    Case(
        "m365.entra.restrict_guest_invitations",
        "m365.entra.guest_invites_restricted",
        "authorizationPolicy",
        _top("allowInvitesFrom"),
        "everyone",
        "adminsAndGuestInviters",
        _authz_set(allowInvitesFrom="adminsGuestInvitersAndAllMembers"),
    ),
    Case(
        "m365.entra.limit_guest_user_access",
        "m365.entra.guest_access_restricted",
        "authorizationPolicy",
        _top("guestUserRoleId"),
        MEMBER_GUEST_ROLE,
        LIMITED_GUEST_ROLE,
        _authz_set(guestUserRoleId=RESTRICTED_GUEST_ROLE),
        _authz_set(guestUserRoleId=MEMBER_GUEST_ROLE),
    ),
    Case(
        "m365.entra.disable_user_consent",
        "m365.entra.user_consent_disabled",
        "authorizationPolicy",
        _top("permissionGrantPolicyIdsAssignedToDefaultUserRole"),
        [LEGACY_CONSENT, OWNED_RESOURCE],
        [OWNED_RESOURCE],
        _authz_set(permissionGrantPolicyIdsAssignedToDefaultUserRole=[LEGACY_CONSENT]),
        _authz_set(
            permissionGrantPolicyIdsAssignedToDefaultUserRole=[LEGACY_CONSENT, OWNED_RESOURCE]
        ),
    ),
    Case(
        "m365.entra.disable_sms_voice_methods",
        "m365.entra.sms_voice_disabled",
        "authenticationMethodsPolicy",
        _methods("Sms", "Voice"),
        {"Sms": "enabled", "Voice": "enabled"},
        {"Sms": "disabled", "Voice": "disabled"},
        _set_method("Voice", "disabled"),
        _set_method("Voice", "enabled"),
    ),
    Case(
        "m365.entra.disable_email_otp",
        "m365.entra.email_otp_disabled",
        "authenticationMethodsPolicy",
        _methods("Email"),
        {"Email": "enabled"},
        {"Email": "disabled"},
        _set_method("Email", "disabled"),
    ),
]
IDS = [c.fix.split(".", 2)[2] for c in CASES]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphServer]:
    with graph_server(tmp_path_factory.mktemp("graph")) as running:
        yield running


@pytest.fixture
def graph(server: GraphServer, monkeypatch: pytest.MonkeyPatch) -> GraphServer:
    """The module's server with a fresh tenant and both apps' secrets set."""
    fresh = GraphState()
    server.state.tenant, server.state.apps = fresh.tenant, fresh.apps
    server.state.writes.clear()
    monkeypatch.setenv("POSTURE_TEST_M365_SECRET", CLIENT_SECRET)
    monkeypatch.setenv(WRITER_SECRET_ENV, WRITER_SECRET)
    return server


@pytest.fixture
def repair(store: Store, catalog: Catalog, graph: GraphServer) -> SaasRepair:
    settings = graph.settings(write=graph.write_settings())
    return SaasRepair(store, catalog, "m365", "contoso", settings)


def _ready(repair: SaasRepair, graph: GraphServer, case: Case, *, write: bool = True) -> None:
    case.prepare(graph.state)
    repair.setup([case.policy], write=write)
    repair.scan([case.policy])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_plan_shows_the_change_and_changes_nothing(
    repair: SaasRepair, graph: GraphServer, case: Case
) -> None:
    _ready(repair, graph, case)
    run = repair.plan(case.policy, case.uid)
    assert (run.fix_id, run.state) == (case.fix, "planned")
    assert run.before == case.before and run.after == case.after
    assert case.live(graph) == case.before
    assert graph.state.writes == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_apply_resolves_and_rollback_restores_graphs_read(
    repair: SaasRepair, graph: GraphServer, case: Case
) -> None:
    _ready(repair, graph, case)
    untouched = _get(graph, AUTHZ)
    run = repair.plan(case.policy, case.uid)
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert case.live(graph) == case.after
    finding = repair.finding(case.policy, case.uid)
    assert finding.state == "resolved"
    assert repair.events(finding.id)[-1] == ("resolved", "fixed")

    back = repair.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert case.live(graph) == case.before
    if case.uid == "authorizationPolicy":  # nothing else of the policy moved
        assert _get(graph, AUTHZ) == untouched
    assert repair.finding(case.policy, case.uid).state == "open"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_setting_changed_after_the_plan_aborts_untouched(
    repair: SaasRepair, graph: GraphServer, case: Case
) -> None:
    _ready(repair, graph, case)
    run = repair.plan(case.policy, case.uid)
    repair.approve(run)
    case.drift(graph.state)
    changed = case.live(graph)
    outcome = repair.apply(run)
    assert outcome.run.state == "aborted"
    assert "changed since the plan" in outcome.run.reason
    assert graph.state.writes == []
    assert case.live(graph) == changed


def test_a_write_app_without_the_permission_changes_nothing_and_names_it(
    repair: SaasRepair, graph: GraphServer
) -> None:
    case = CASES[0]
    _ready(repair, graph, case)
    run = repair.plan(case.policy, case.uid)
    repair.approve(run)
    graph.read_only()
    outcome = repair.apply(run)
    assert outcome.run.state in ("rolled_back", "failed")
    reason = outcome.run.reason
    assert "'contoso'" in reason and "Authorization_RequestDenied" in reason
    assert "Policy.ReadWrite.Authorization" in reason
    assert graph.state.writes == []
    assert case.live(graph) == case.before
    assert repair.finding(case.policy, case.uid).state == "open"
    assert not repair.audit("fix.verify")


def test_a_connection_without_write_credentials_is_refused(
    repair: SaasRepair, graph: GraphServer
) -> None:
    from posture.errors import FixRefused
    from posture.operations.fixes import plan_fixes

    case = CASES[0]
    _ready(repair, graph, case, write=False)
    finding = repair.finding(case.policy, case.uid)
    with pytest.raises(FixRefused) as refused:
        plan_fixes(repair.ops, repair.tenant, findings=[finding.id])
    assert "'contoso'" in str(refused.value) and "write credentials" in str(refused.value)


def test_the_write_client_takes_only_graph_reads_and_updates(graph: GraphServer) -> None:
    from posture.connectors.m365.settings import parse_settings
    from posture.remediate import ProviderCallError
    from posture.remediate.graph import GraphWriteClient

    settings = parse_settings("contoso", graph.settings(write=graph.write_settings()))
    client = GraphWriteClient("contoso", settings)
    with pytest.raises(ProviderCallError, match=r"no Graph call graph\.merge"):
        client.call("graph", "merge", {"path": AUTHZ}, region="global")
    with pytest.raises(ProviderCallError, match="needs a 'path'"):
        client.call("graph", "get", {"path": "policies"}, region="global")
    assert (
        client.call("graph", "get", {"path": AUTHZ}, region="global")["id"] == "authorizationPolicy"
    )
    with pytest.raises(ProviderCallError) as refused:
        client.call("graph", "patch", {"path": "/users/u-1", "body": {}}, region="global")
    assert "405" in str(refused.value) and graph.state.writes == []
