"""The real msgraph-sdk and azure-identity against the local Graph: every spec, paging,
throttling, missing permissions and licence gaps."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import GLOBAL
from posture.connectors.m365.entry import collect
from posture.localapi.graph import (
    GLOBAL_ADMIN_TEMPLATE,
    GLOBAL_READER_TEMPLATE,
    NO_P1,
    NO_P1_CA,
    TENANT_ID,
    GraphServer,
)
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
    assert sign_in.data["roles"] == [
        {"roleTemplateId": GLOBAL_ADMIN_TEMPLATE, "displayName": "Global Administrator"}
    ]
    docs = documents(inventory.resources)
    # users: roles held actively and licence names, added after every type is collected
    users = docs["m365.entra.user"]
    assert users["u-1"]["licenses"] == ["O365_BUSINESS_PREMIUM", "AAD_PREMIUM_P2"]
    assert users["u-5"]["licenses"] == [] and users["u-5"]["roles"] == []
    assert [r["displayName"] for r in users["u-4"]["roles"]] == ["User Administrator"]
    assert users["u-2"]["onPremisesSyncEnabled"] is True
    ua = roles["User Administrator"]["members"][0]
    assert ua["onPremisesSyncEnabled"] is True
    org = docs["m365.entra.organization"][TENANT_ID]
    assert org["branding"]["loginPageTextVisibilitySettings"]["hideKeepMeSignedIn"] is False
    assert org["on_premises_synchronization"][0]["features"]["passwordSyncEnabled"] is True
    methods = docs["m365.entra.authentication_methods_policy"]["authenticationMethodsPolicy"]
    assert methods["system_credential_preferences"]["state"] == "default"
    companion = methods["authenticator_beta"]["featureSettings"]["companionAppAllowedState"]
    assert companion["state"] == "default"
    # identity
    registration = docs["m365.entra.user_registration"]
    assert registration["u-2"]["isAdmin"] and not registration["u-2"]["isMfaRegistered"]
    assert registration["u-1"]["roles"][0]["roleTemplateId"] == GLOBAL_ADMIN_TEMPLATE
    mfa_state = docs["m365.entra.user_mfa_state"]
    assert mfa_state["u-1"]["requirements"] == {"perUserMfaState": "enforced"}
    assert mfa_state["u-2"]["requirements"]["perUserMfaState"] == "disabled"
    assignment = docs["m365.entra.role_assignment"]["ra-4"]
    assert assignment["principal"]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert assignment["role"] == {
        "displayName": "Global Reader",
        "templateId": GLOBAL_READER_TEMPLATE,
    }
    eligible = docs["m365.entra.role_eligibility"]["re-1"]
    assert eligible["scheduleInfo"]["expiration"]["type"] == "noExpiration"
    assert eligible["role"]["displayName"] == "Global Administrator"
    active = docs["m365.entra.role_assignment_instance"]["rai-4"]
    assert (active["assignmentType"], active["endDateTime"]) == (
        "Activated",
        "2026-12-02T10:00:00Z",
    )
    [pim] = docs["m365.entra.pim"].values()
    assert len(pim["active"]) == 4 and len(pim["eligible"]) == 2
    assert {e["role"]["displayName"] for e in pim["eligible"]} == {
        "Global Administrator",
        "Privileged Role Administrator",
    }
    policies = {
        p["role"]["displayName"]: p for p in docs["m365.entra.role_management_policy"].values()
    }
    ga_rules = {r["id"]: r for r in policies["Global Administrator"]["policy"]["rules"]}
    assert ga_rules["Approval_EndUser_Assignment"]["setting"]["isApprovalRequired"] is True
    pra_rules = {r["id"]: r for r in policies["Privileged Role Administrator"]["policy"]["rules"]}
    assert pra_rules["Expiration_Admin_Assignment"]["isExpirationRequired"] is False
    [reviews] = docs["m365.entra.access_reviews"].values()
    assert [d["id"] for d in reviews["definitions"]] == ["ar-1", "ar-2"]
    assert docs["m365.entra.risky_user"]["u-3"]["riskState"] == "atRisk"
    # applications and what they were granted
    sps = docs["m365.entra.service_principal"]
    archiver = sps["sp-3"]
    assert archiver["tenant_id"] == TENANT_ID and archiver["verifiedPublisher"] == {}
    assert archiver["oauth2_grants"][0]["consentType"] == "AllPrincipals"
    assert "Mail.ReadWrite" in archiver["oauth2_grants"][0]["scope"].split()
    assert [a["appRoleValue"] for a in archiver["app_role_assignments"]] == ["Mail.ReadWrite"]
    assert sps["sp-4"]["verifiedPublisher"]["verifiedPublisherId"] == "6012345"
    assert sps["sp-1"]["appOwnerOrganizationId"] == "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    assert not any("appRoles" in sp for sp in sps.values())  # big; dropped once resolved
    apps = docs["m365.entra.application"]
    assert apps["app-2"]["passwordCredentials"][0]["endDateTime"].startswith("2299")
    groups = docs["m365.entra.group"]
    assert [m["userType"] for m in groups["g-1"]["members"]] == ["Member", "Member", "Guest"]
    # tenant-wide settings
    [settings] = docs["m365.entra.directory_settings"].values()
    assert settings["group_unified"]["EnableGroupCreation"] == "false"
    assert settings["password_rules"]["LockoutThreshold"] == "10"
    [timeout] = docs["m365.entra.activity_timeout"].values()
    policy = timeout["policies"][0]["definition"][0]["ActivityBasedTimeoutPolicy"]
    assert policy["ApplicationPolicies"][0]["WebSessionIdleTimeout"] == "03:00:00"
    [b2b] = docs["m365.entra.b2b_management_policy"].values()
    domains = b2b["definition"][0]["B2BManagementPolicy"][
        "InvitationsAllowedAndBlockedDomainsPolicy"
    ]
    assert domains == {"BlockedDomains": ["gmail.example"]}
    [registration_policy] = docs["m365.entra.device_registration_policy"].values()
    assert registration_policy["azureADJoin"]["localAdmins"]["enableGlobalAdmins"] is True
    [cross] = docs["m365.entra.cross_tenant_access"].values()
    assert cross["partners"][0]["inboundTrust"]["isMfaAccepted"] is True
    [storage] = docs["m365.admin.third_party_storage"].values()
    assert storage["service_principal"]["accountEnabled"] is False
    [apps_services] = docs["m365.admin.apps_and_services"].values()
    assert apps_services["settings"]["isOfficeStoreEnabled"] is True
    [forms] = docs["m365.admin.forms"].values()
    assert forms["settings"]["isInOrgFormsPhishingScanEnabled"] is True
    [intune] = docs["m365.intune.settings"].values()
    assert intune == {
        "deviceComplianceCheckinThresholdDays": 30,
        "isScheduledActionEnabled": True,
        "secureByDefault": False,
    }
    restrictions = docs["m365.intune.enrollment_restriction"].values()
    assert sorted(r["@odata.type"].rsplit(".", 1)[1] for r in restrictions) == [
        "deviceEnrollmentPlatformRestrictionConfiguration",
        "deviceEnrollmentPlatformRestrictionsConfiguration",
    ]
    [sharepoint] = docs["m365.sharepoint.settings"].values()
    assert sharepoint["sharingCapability"] == "externalUserAndGuestSharing"
    [score] = docs["m365.security.secure_score"].values()
    assert score["createdDateTime"] == "2026-12-01T00:00:00Z"  # the newest of two
    controls = docs["m365.security.secure_score_control"]
    assert controls["BlockLegacyAuthentication"]["controlStateUpdates"][0]["state"] == "Ignored"
    # mailboxes: users with a mail address (advanced query), guests without a mailbox
    mailboxes = docs["m365.exchange.mailbox"]
    assert sorted(mailboxes) == ["u-1", "u-2", "u-3", "u-4"]
    assert mailboxes["u-4"]["inbox_rules"] == []  # MailboxNotEnabledForRESTAPI
    forward = mailboxes["u-2"]["inbox_rules"][0]["actions"]["forwardTo"][0]
    assert forward["emailAddress"]["address"] == "kenji.sato@gmail.example"
    assert mailboxes["u-1"]["tenant_domains"] == ["contoso.example", "contoso.onmicrosoft.com"]


def documents(resources: list) -> dict[str, dict[str, dict]]:  # type: ignore[type-arg]
    """type -> uid -> document."""
    out: dict[str, dict[str, dict]] = {}  # type: ignore[type-arg]
    for r in resources:
        out.setdefault(r.type, {})[r.uid] = r.data
    return out


def test_paging_follows_absolute_next_links_and_each_url_is_called_once(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    inventory = collect("contoso", graph.settings(), m365_specs)
    requests = [r for r in graph.graph_requests() if not r.endswith("/$batch")]
    assert len(requests) == len(set(requests))
    user_pages = [r for r in requests if r.startswith("/v1.0/users?") and "assignedLicenses" in r]
    assert len(user_pages) == 3
    assert sum(1 for r in user_pages if "skiptoken" in r) == 2
    assert inventory.stats["m365.entra.user"].calls == 3
    # the list, then the members of both roles in one JSON batch
    assert inventory.stats["m365.entra.directory_role"].calls == 2
    role_members = [r for r in graph.state.batched if r.startswith("/v1.0/directoryRoles/")]
    assert sorted(r.split("?")[0] for r in role_members) == [
        "/v1.0/directoryRoles/r-ga/members",
        "/v1.0/directoryRoles/r-ua/members",
    ]
    batches = [r for r in graph.state.requests if r.endswith("/$batch")]
    dns_queries = inventory.stats["m365.dns.mail_domain"].calls  # to the resolver, not Graph
    graph_calls = len(requests) + len(batches) - len(graph.state.batched)
    assert inventory.api_calls == graph_calls + dns_queries
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


def test_a_denied_detail_inside_a_batch_fails_only_that_detail(
    graph: GraphServer, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/directoryRoles/r-ua/members")
    inventory = collect("contoso", graph.settings(), m365_specs)
    failures = {f.resource_type: f for f in inventory.failures}
    assert "m365.entra.directory_role" not in failures  # the listing was read
    roles = {r.name: r for r in inventory.resources if r.type == "m365.entra.directory_role"}
    denied = roles["User Administrator"]
    assert set(denied.failed) == {"members"} and denied.data["members"] is None
    gap = denied.failed["members"]
    assert gap.permission == "RoleManagement.Read.Directory"
    assert gap.code == "Authorization_RequestDenied"
    assert gap.call == "GET /v1.0/directoryRoles/r-ua/members"
    assert not roles["Global Administrator"].failed
    assert len(roles["Global Administrator"].data["members"]) == 1
    (summary,) = inventory.detail_failures
    assert (summary.resource_type, summary.detail, summary.resources) == (
        "m365.entra.directory_role",
        "members",
        1,
    )
    assert "missing permission RoleManagement.Read.Directory" in summary.describe()
    # the types whose `roles` come from the directory roles are not judged without them
    assert set(failures) == {
        "m365.entra.user",
        "m365.entra.user_sign_in",
        "m365.entra.user_registration",
    }
    for dependent in failures.values():
        assert "m365.entra.directory_role" in dependent.message
        assert dependent.code == "SourceFailed"
    assert not any(r.type == "m365.entra.user" for r in inventory.resources)


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
