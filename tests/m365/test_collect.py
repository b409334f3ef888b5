"""The real msgraph-sdk and azure-identity against the local Graph: every spec, paging,
throttling, missing permissions and licence gaps."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import GLOBAL
from posture.connectors.m365.entry import collect
from posture.localapi.graph import NO_P1, NO_P1_CA, TENANT_ID, GraphServer
from posture.localapi.tls import self_signed


def by_type(inventory_resources: list) -> Counter[str]:  # type: ignore[type-arg]
    return Counter(r.type for r in inventory_resources)


def test_every_spec_is_collected_through_the_sdk(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures and not inventory.not_applicable
    counts = by_type(inventory.resources)
    for spec in m365_specs:
        assert counts[spec.type] >= 1, spec.type
    assert counts["m365.entra.user"] == 5  # three pages of two
    assert inventory.account == TENANT_ID
    roles = {r.name: r.data for r in inventory.resources if r.type == "m365.entra.directory_role"}
    guests = [m["userPrincipalName"] for m in roles["User Administrator"]["members"]]
    assert guests == ["kenji@contoso.example", "partner_fabrikam.example#EXT#@contoso.example"]
    auth = next(r for r in inventory.resources if r.type == "m365.entra.authorization_policy")
    assert auth.data["allowInvitesFrom"] == "everyone"
    assert "@odata.context" not in auth.data
    sign_in = next(r for r in inventory.resources if r.type == "m365.entra.user_sign_in")
    assert sign_in.data["signInActivity"]["lastSignInDateTime"] == "2026-11-20T08:00:00Z"


def test_paging_follows_absolute_next_links_and_each_url_is_called_once(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(), m365_specs)
    requests = graph.graph_requests()
    assert len(requests) == len(set(requests))
    user_pages = [r for r in requests if r.startswith("/v1.0/users?") and "signInActivity" not in r]
    assert len(user_pages) == 3
    assert sum(1 for r in user_pages if "skiptoken" in r) == 2
    assert inventory.stats["m365.entra.user"].calls == 3
    # the list, then the members of both roles in one JSON batch
    assert inventory.stats["m365.entra.directory_role"].calls == 2
    assert sorted(r.split("?")[0] for r in graph.state.batched) == [
        "/v1.0/directoryRoles/r-ga/members",
        "/v1.0/directoryRoles/r-ua/members",
    ]
    batches = [r for r in graph.state.requests if r.endswith("/$batch")]
    assert len(batches) == 1
    assert inventory.api_calls == len(requests) - len(graph.state.batched)  # a batch is one call
    assert graph.state.tokens_issued == 1


def test_without_batching_each_detail_is_its_own_call(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(batch=False), m365_specs)
    assert inventory.stats["m365.entra.directory_role"].calls == 3
    assert not graph.state.batched
    members = {
        r.name: len(r.data["members"])
        for r in inventory.resources
        if r.type == "m365.entra.directory_role"
    }
    assert members == {"Global Administrator": 1, "User Administrator": 2}


def test_throttling_is_retried_after_retry_after(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.throttle_once.update({"/domains", "/directoryRoles/r-ua/members"})
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    assert inventory.stats["m365.entra.domain"].throttles == 1
    assert inventory.stats["m365.entra.domain"].calls == 2
    assert inventory.stats["m365.entra.directory_role"].throttles == 1  # inside the batch
    assert inventory.stats["m365.entra.directory_role"].calls == 3  # list, batch, retried part
    roles = {r.name: r.data for r in inventory.resources if r.type == "m365.entra.directory_role"}
    assert len(roles["User Administrator"]["members"]) == 2
    assert by_type(inventory.resources)["m365.entra.domain"] == 2


def test_missing_permission_fails_the_type_and_names_the_permission(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.update({"/policies/authorizationPolicy"})
    inventory = collect("contoso", graph.settings(), m365_specs)
    [failure] = inventory.failures
    assert failure.resource_type == "m365.entra.authorization_policy"
    assert failure.region == GLOBAL
    assert failure.permission == "Policy.Read.All"
    assert failure.code == "Authorization_RequestDenied"
    assert "Policy.Read.All" in failure.message
    assert inventory.stats["m365.entra.authorization_policy"].errors == 1
    assert by_type(inventory.resources)["m365.entra.security_defaults"] == 1


def test_licence_answers_are_not_applicable_with_the_plan(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.unlicensed["/identity/conditionalAccess/policies"] = NO_P1_CA
    graph.state.unlicensed["signInActivity"] = NO_P1
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    assert inventory.not_applicable == {
        ("m365.entra.conditional_access_policy", GLOBAL): "requires Microsoft Entra ID P1",
        ("m365.entra.conditional_access", GLOBAL): "requires Microsoft Entra ID P1",
        ("m365.entra.user_sign_in", GLOBAL): "requires Microsoft Entra ID P1",
    }
    assert by_type(inventory.resources)["m365.entra.user"] == 5
    stats = inventory.stats_json()
    assert {
        "resource_type": "m365.entra.user_sign_in",
        "region": GLOBAL,
        "reason": "requires Microsoft Entra ID P1",
    } in stats["not_applicable"]


def test_pim_licence_answer_names_p2() -> None:
    from posture.connectors.m365.failures import GraphFailure, licence_reason

    failure = GraphFailure(400, "BadRequest", "The tenant needs an AAD Premium 2 license.")
    assert failure.licence
    path = "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"
    assert licence_reason(path) == "requires Microsoft Entra ID P2"


def test_a_denied_answer_inside_a_batch_fails_only_that_type(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/directoryRoles/r-ua/members")
    inventory = collect("contoso", graph.settings(), m365_specs)
    [failure] = inventory.failures
    assert failure.resource_type == "m365.entra.directory_role"
    assert failure.permission == "RoleManagement.Read.Directory"
    assert "/directoryRoles/r-ua/members" in failure.message
    assert not any(r.type == "m365.entra.directory_role" for r in inventory.resources)


def test_certificate_credential_signs_in(
    graph: GraphServer, m365_specs: list[ResourceSpec], tmp_path: Path
) -> None:
    pem = tmp_path / "app.pem"
    pem.write_bytes(_app_certificate())
    settings = graph.settings(certificate=str(pem))
    del settings["client_secret_env"]
    inventory = collect("contoso", settings, [s for s in m365_specs if s.type.endswith("domain")])
    assert not inventory.failures
    assert graph.state.tokens_issued == 1


def _app_certificate() -> bytes:
    """A PEM holding a private key and its self-signed certificate, as an app registration uses."""
    cert, key = self_signed("posture-scanner")
    return key + cert
