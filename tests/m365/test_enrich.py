"""Transforms, cross-type enrichers and licence gaps of the M365 types added for identity,
applications and tenant settings, through the real SDK against the local Graph."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import GLOBAL
from posture.connectors.m365.enrich import TRANSFORMS
from posture.connectors.m365.entry import collect
from posture.connectors.m365.failures import GraphFailure, licence_reason
from posture.connectors.m365.permissions import required_permissions
from posture.errors import CollectionError
from posture.localapi.graph import NO_INTUNE, NO_P1, NO_P2, THIRD_PARTY_STORAGE_APP_ID, GraphServer

P2 = "requires Microsoft Entra ID P2"
P2_PATHS = (
    "/roleManagement/directory/roleEligibilitySchedules",
    "/roleManagement/directory/roleAssignmentScheduleInstances",
    "/policies/roleManagementPolicyAssignments",
    "/identityGovernance/accessReviews/definitions",
)
P2_TYPES = {
    "m365.entra.role_eligibility",
    "m365.entra.role_assignment_instance",
    "m365.entra.pim",
    "m365.entra.role_management_policy",
    "m365.entra.access_review",
    "m365.entra.access_reviews",
    "m365.entra.risky_user",
}
ROLE_TYPES = {
    "m365.entra.role_assignment",
    "m365.entra.role_eligibility",
    "m365.entra.role_assignment_instance",
    "m365.entra.role_management_policy",
}


def of_type(inventory: Any, rtype: str) -> list[dict[str, Any]]:
    return [r.data for r in inventory.resources if r.type == rtype]


# --- transforms ----------------------------------------------------------------------------


def test_directory_settings_without_settings_objects_mean_directory_defaults() -> None:
    assert TRANSFORMS["directory_settings"]([], "t") == [
        {"group_unified": None, "password_rules": None, "settings": []}
    ]


def test_policy_definitions_are_parsed_and_a_malformed_one_names_its_policy() -> None:
    good = {"id": "p1", "displayName": "Timeout", "definition": ['{"A": {"Version": 1}}']}
    assert TRANSFORMS["policy_definitions"]([good], "t") == [
        {"policies": [{**good, "definition": [{"A": {"Version": 1}}]}]}
    ]
    bad = {"id": "p2", "displayName": "Broken timeout", "definition": ['{"A": ']}
    with pytest.raises(CollectionError) as caught:
        TRANSFORMS["policy_definitions"]([good, bad], "m365.entra.activity_timeout")
    assert "Broken timeout" in caught.value.message and "p2" in caught.value.message
    assert caught.value.provider_code == "MalformedDefinition"


def test_b2b_management_policy_absent_is_an_empty_definition() -> None:
    other = {"id": "x", "type": "TokenIssuancePolicy", "definition": ["{}"]}
    assert TRANSFORMS["b2b_management_policy"]([other], "t") == [{"definition": []}]


def test_enrollment_restrictions_keep_only_platform_restrictions() -> None:
    items = [
        {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "id": "a"},
        {"@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration"},
        {"@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration"},
        {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"},
    ]
    kept = TRANSFORMS["enrollment_restrictions"](items, "t")
    assert [i["@odata.type"] for i in kept] == [items[1]["@odata.type"], items[2]["@odata.type"]]


def test_a_malformed_definition_fails_only_its_type(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.tenant["/policies/activityBasedTimeoutPolicies"][0]["definition"] = ["{nope"]
    inventory = collect("contoso", graph.settings(), m365_specs)
    [failure] = inventory.failures
    assert failure.resource_type == "m365.entra.activity_timeout"
    assert "DefaultTimeoutPolicy" in failure.message
    assert failure.code == "MalformedDefinition"


# --- licence answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/v1.0/roleManagement/directory/roleEligibilitySchedules", P2),
        ("/v1.0/roleManagement/directory/roleAssignmentScheduleInstances", P2),
        ("/v1.0/policies/roleManagementPolicyAssignments", P2),
        ("/v1.0/identityGovernance/accessReviews/definitions", P2),
        ("/v1.0/identityProtection/riskyUsers", P2),
        (
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "requires Microsoft Entra ID P1",
        ),
        ("/v1.0/users", "requires Microsoft Entra ID P1"),
        ("/v1.0/deviceManagement", "requires Microsoft Intune"),
        ("/beta/deviceManagement/deviceEnrollmentConfigurations", "requires Microsoft Intune"),
    ],
)
def test_licence_reason_names_the_plan_of_each_path(path: str, reason: str) -> None:
    assert licence_reason(path) == reason


def test_intune_missing_is_a_licence_answer_but_a_plain_403_is_not() -> None:
    assert GraphFailure(*NO_INTUNE).licence
    assert not GraphFailure(403, "Forbidden", "Application is not authorized.").licence


def test_a_p2_unlicensed_tenant_makes_the_p2_types_not_applicable(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    for path in P2_PATHS:
        graph.state.unlicensed[path] = NO_P2
    graph.state.unlicensed["/identityProtection/riskyUsers"] = NO_P1  # its licence code
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    assert {t for (t, _), why in inventory.not_applicable.items() if why == P2} == P2_TYPES
    assert set(inventory.not_applicable) == {(t, GLOBAL) for t in P2_TYPES}
    collected = {r.type for r in inventory.resources}
    assert not P2_TYPES & collected
    assert "m365.entra.role_assignment" in collected  # no licence needed


def test_pim_is_not_judged_on_partial_data(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.unlicensed["/roleManagement/directory/roleEligibilitySchedules"] = NO_P2
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert inventory.not_applicable[("m365.entra.pim", GLOBAL)] == P2
    assert of_type(inventory, "m365.entra.pim") == []
    assert len(of_type(inventory, "m365.entra.role_assignment_instance")) == 4


def test_pim_fails_when_the_eligible_assignments_could_not_be_read(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/roleManagement/directory/roleEligibilitySchedules")
    inventory = collect("contoso", graph.settings(), m365_specs)
    failures = {f.resource_type: f for f in inventory.failures}
    assert set(failures) == {"m365.entra.role_eligibility", "m365.entra.pim"}
    assert failures["m365.entra.role_eligibility"].permission == (
        "RoleEligibilitySchedule.Read.Directory"
    )
    assert "m365.entra.role_eligibility" in failures["m365.entra.pim"].message
    assert of_type(inventory, "m365.entra.pim") == []


def test_intune_missing_makes_the_intune_types_not_applicable(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.unlicensed["/deviceManagement"] = NO_INTUNE
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    assert inventory.not_applicable == {
        ("m365.intune.settings", GLOBAL): "requires Microsoft Intune",
        ("m365.intune.enrollment_restriction", GLOBAL): "requires Microsoft Intune",
    }


# --- permissions and enricher sources ------------------------------------------------------


def test_a_403_on_one_new_path_fails_only_that_type(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/admin/sharepoint/settings")
    inventory = collect("contoso", graph.settings(), m365_specs)
    [failure] = inventory.failures
    assert failure.resource_type == "m365.sharepoint.settings"
    assert failure.permission == "SharePointTenantSettings.Read.All"
    assert "SharePointTenantSettings.Read.All" in failure.message


def test_role_definitions_are_read_once_and_their_denial_fails_the_role_types(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/roleManagement/directory/roleDefinitions")
    inventory = collect("contoso", graph.settings(), m365_specs)
    failures = {f.resource_type: f for f in inventory.failures}
    assert set(failures) == ROLE_TYPES | {"m365.entra.pim"}
    for rtype in ROLE_TYPES:
        assert failures[rtype].permission == "RoleManagement.Read.Directory"
        assert "/roleManagement/directory/roleDefinitions" in failures[rtype].message
    calls = [r for r in graph.graph_requests() if "/roleDefinitions" in r]
    assert len(calls) == 1


def test_mailboxes_fail_without_the_tenant_domains(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/organization?")
    inventory = collect("contoso", graph.settings(), m365_specs)
    failures = {f.resource_type: f for f in inventory.failures}
    assert set(failures) == {"m365.entra.organization", "m365.exchange.mailbox"}
    assert "m365.entra.organization" in failures["m365.exchange.mailbox"].message


def test_the_scan_collects_what_enrichers_and_aggregates_read(catalog: Catalog) -> None:
    from posture.scan import _needed_types

    needed = _needed_types(catalog, [SimpleNamespace(resource="m365.entra.pim")])  # type: ignore[list-item]
    assert {
        "m365.entra.pim",
        "m365.entra.role_assignment_instance",
        "m365.entra.role_eligibility",
    } <= set(needed)
    users = _needed_types(catalog, [SimpleNamespace(resource="m365.entra.user")])  # type: ignore[list-item]
    assert {"m365.entra.directory_role", "m365.entra.subscribed_sku"} <= set(users)


def test_permissions_include_the_new_types(m365_specs: list[ResourceSpec]) -> None:
    needed = set(required_permissions(m365_specs))
    assert {
        "RoleManagement.Read.Directory",
        "RoleEligibilitySchedule.Read.Directory",
        "RoleAssignmentSchedule.Read.Directory",
        "RoleManagementPolicy.Read.Directory",
        "AccessReview.Read.All",
        "IdentityRiskyUser.Read.All",
        "GroupSettings.Read.All",
        "Policy.Read.DeviceConfiguration",
        "Application.Read.All",
        "DelegatedPermissionGrant.Read.All",
        "GroupMember.Read.All",
        "SharePointTenantSettings.Read.All",
        "SecurityEvents.Read.All",
        "MailboxSettings.Read",
        "DeviceManagementConfiguration.Read.All",
        "DeviceManagementServiceConfig.Read.All",
    } <= needed


# --- shapes of edge cases ------------------------------------------------------------------


def test_single_pick_gives_one_resource_when_the_list_is_empty(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    sps = graph.state.tenant["/servicePrincipals"]
    graph.state.tenant["/servicePrincipals"] = [
        sp for sp in sps if sp["appId"] != THIRD_PARTY_STORAGE_APP_ID
    ]
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    assert of_type(inventory, "m365.admin.third_party_storage") == [{"service_principal": None}]


def test_missing_branding_is_null_and_cloud_only_tenants_have_no_sync(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    tenant = graph.state.tenant
    del tenant[f"/organization/{tenant['/organization'][0]['id']}/branding"]
    tenant["/directory/onPremisesSynchronization"] = []
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    [org] = of_type(inventory, "m365.entra.organization")
    assert org["branding"] is None and org["on_premises_synchronization"] == []


def test_unknown_app_roles_resolve_to_null(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    assignments = graph.state.tenant["/servicePrincipals/sp-3/appRoleAssignments"]
    assignments[0]["appRoleId"] = "00000000-0000-0000-0000-00000000abcd"
    inventory = collect("contoso", graph.settings(), m365_specs)
    [archiver] = [
        d for d in of_type(inventory, "m365.entra.service_principal") if d["id"] == "sp-3"
    ]
    assert archiver["app_role_assignments"][0]["appRoleValue"] is None


def test_per_item_details_go_out_in_batches(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(), m365_specs)
    assert not inventory.failures
    batched = {r.split("?")[0] for r in graph.state.batched}
    assert {
        "/v1.0/servicePrincipals/sp-3/appRoleAssignments",
        "/v1.0/groups/g-1/members",
        "/v1.0/users/u-2/mailFolders/inbox/messageRules",
        "/beta/users/u-1/authentication/requirements",
    } <= batched
    # only later pages (followed by @odata.nextLink) are fetched one by one
    direct = [r for r in graph.state.requests if r.startswith("/v1.0/groups/g-1/members")]
    assert direct and all("skiptoken" in r for r in direct)


def test_the_mailbox_listing_is_an_advanced_query(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(), m365_specs)
    [listing] = [
        r for r in graph.state.requests if r.startswith("/v1.0/users?") and "mail%20ne%20null" in r
    ][:1]
    assert "$count=true" in listing
    assert len(of_type(inventory, "m365.exchange.mailbox")) == 4


def test_the_local_graph_answers_ne_null_only_as_an_advanced_query(graph: GraphServer) -> None:
    import ssl

    import httpx

    from posture.localapi.graph import TOKEN

    url = f"{graph.url}/v1.0/users"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(verify=ssl.create_default_context(cafile=graph.ca_bundle)) as client:
        plain = client.get(url, params={"$filter": "mail ne null"}, headers=auth)
        assert plain.status_code == 400
        assert plain.json()["error"]["code"] == "Request_UnsupportedQuery"
        advanced = client.get(
            url,
            params={"$filter": "mail ne null", "$count": "true", "$top": "999"},
            headers={**auth, "ConsistencyLevel": "eventual"},
        )
    body = advanced.json()
    assert advanced.status_code == 200 and body["@odata.count"] == 4
    assert "@odata.nextLink" in body  # PAGE_SIZE still pages
