"""A local Microsoft identity platform token endpoint and Microsoft Graph, over HTTPS.

Answers in Graph's documented shapes (camelCase fields, collections in ``value``, absolute
``@odata.nextLink``, empty fields omitted, errors as ``{"error": {"code", "message"}}``),
so the real azure-identity and msgraph-sdk can be pointed at it with ``--authority``,
``--graph-url`` and ``--ca-bundle``. Faults are configured per URL fragment: a 429 with
``Retry-After`` once, a 403 for a missing permission, a licence answer.

Writes follow Graph's update semantics: ``PATCH`` changes only the properties it sends
(nested complex values merged), ``PUT`` replaces a singleton, both answer ``204 No Content``.
Two app registrations sign in: the scanner's (read only) and a separate one for setting
repair, whose application permissions a test can take away; a write without the documented
permission answers ``403 Authorization_RequestDenied`` and changes nothing.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from posture.localapi.tls import server_certificate

TENANT_ID = "7c1f2b9e-3f4a-4d2e-9b8a-1a2b3c4d5e6f"
CLIENT_ID = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
CLIENT_SECRET = "local-test-secret"
TOKEN = "fake-graph-access-token"
WRITER_CLIENT_ID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
WRITER_SECRET = "local-test-write-secret"
WRITER_TOKEN = "fake-graph-write-token"
# the least privileged application permission of each writable path (Graph's update pages)
WRITE_PERMISSIONS = {
    "/policies/authorizationPolicy": "Policy.ReadWrite.Authorization",
    "/policies/adminConsentRequestPolicy": "Policy.ReadWrite.ConsentRequest",
    "/policies/authenticationMethodsPolicy": "Policy.ReadWrite.AuthenticationMethod",
}
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN_TEMPLATE = "fe930be7-5e62-47db-91af-98c3a49a38b1"
PAGE_SIZE = 2
WRITER_SECRET_ENV = "POSTURE_TEST_M365_WRITE_SECRET"
DENIED = {
    "code": "Authorization_RequestDenied",
    "message": "Insufficient privileges to complete the operation.",
}
NO_P1 = (
    403,
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    "Neither tenant is B2C or tenant doesn't have premium license",
)
NO_P1_CA = (
    403,
    "AadPremiumLicenseRequired",
    "The tenant does not have a premium license required for this operation.",
)
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_CLI_APP_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
THIRD_PARTY_STORAGE_APP_ID = "c1f33bc0-bdb4-4248-ba9b-096807ddb43e"
PRIVILEGED_ROLE_ADMIN_TEMPLATE = "e8611ab8-c189-46e8-94e1-60213ab1f814"
GLOBAL_READER_TEMPLATE = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
MAIL_READWRITE_ROLE = "e2a3a72e-5f79-4c64-b1b1-878b674786c9"
USER_READ_ALL_ROLE = "df021288-bdef-4463-88db-98f22de89214"
BUSINESS_PREMIUM_SKU = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
ENTRA_P2_SKU = "eec0eb4f-6444-4f95-aba0-50c24d67f998"
NO_P2 = (400, "AadPremiumLicenseRequired", "The tenant needs an AAD Premium 2 license.")
NO_INTUNE = (400, "BadRequest", "Request not applicable to target tenant.")
MAILBOX_MISSING = (
    404,
    "MailboxNotEnabledForRESTAPI",
    "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
)


def _user(
    uid: str,
    upn: str,
    name: str,
    *,
    guest: bool = False,
    enabled: bool = True,
    mail: str | None = None,
    skus: tuple[str, ...] = (),
    synced: bool = False,
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": uid,
        "displayName": name,
        "userPrincipalName": upn,
        "mail": mail,
        "userType": "Guest" if guest else "Member",
        "accountEnabled": enabled,
        "createdDateTime": "2025-04-01T09:00:00Z",
        "creationType": "Invitation" if guest else None,
        "externalUserState": "Accepted" if guest else None,
        "onPremisesSyncEnabled": True if synced else None,
        "assignedLicenses": [{"disabledPlans": [], "skuId": sku} for sku in skus],
        "signInActivity": {
            "lastSignInDateTime": "2026-11-20T08:00:00Z",
            "lastNonInteractiveSignInDateTime": "2026-11-25T08:00:00Z",
        },
    }
    return {k: v for k, v in user.items() if v is not None}


def default_tenant() -> dict[str, Any]:
    """A small tenant with some misconfigurations: one global admin, a guest in a role."""
    p2 = (BUSINESS_PREMIUM_SKU, ENTRA_P2_SKU)
    users = [
        _user("u-1", "admin@contoso.example", "Aiko Admin", mail="admin@contoso.example", skus=p2),
        _user(
            "u-2",
            "kenji@contoso.example",
            "Kenji Sato",
            mail="kenji@contoso.example",
            skus=(BUSINESS_PREMIUM_SKU,),
            synced=True,
        ),
        _user("u-3", "mika@contoso.example", "Mika Ito", mail="mika@contoso.example", skus=p2),
        _user(
            "u-4",
            "partner_fabrikam.example#EXT#@contoso.example",
            "Partner",
            guest=True,
            mail="partner@fabrikam.example",
        ),
        _user("u-5", "old@contoso.example", "Former Staff", enabled=False),
    ]
    by_id = {u["id"]: u for u in users}

    def member(uid: str) -> dict[str, Any]:
        u = by_id[uid]
        keep = (
            "id",
            "displayName",
            "userPrincipalName",
            "userType",
            "accountEnabled",
            "onPremisesSyncEnabled",
        )
        return {"@odata.type": "#microsoft.graph.user", **{k: u[k] for k in keep if k in u}}

    tenant: dict[str, Any] = {
        "/organization": [
            {
                "id": TENANT_ID,
                "displayName": "Contoso KK",
                "countryLetterCode": "JP",
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": True,
                        "isInitial": False,
                        "name": "contoso.example",
                        "type": "Managed",
                    },
                    {
                        "capabilities": "Email",
                        "isDefault": False,
                        "isInitial": True,
                        "name": "contoso.onmicrosoft.com",
                        "type": "Managed",
                    },
                ],
                "technicalNotificationMails": ["it@contoso.example"],
                "onPremisesSyncEnabled": True,
                "onPremisesLastSyncDateTime": "2026-12-01T23:30:00Z",
            }
        ],
        "/domains": [
            {
                "id": "contoso.example",
                "authenticationType": "Managed",
                "isDefault": True,
                "isInitial": False,
                "isRoot": True,
                "isVerified": True,
                "passwordValidityPeriodInDays": 2147483647,
                "supportedServices": ["Email"],
            },
            {
                "id": "contoso.onmicrosoft.com",
                "authenticationType": "Managed",
                "isDefault": False,
                "isInitial": True,
                "isRoot": True,
                "isVerified": True,
                "supportedServices": ["Email"],
            },
        ],
        "/subscribedSkus": [
            {
                "id": f"{TENANT_ID}_f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                "accountId": TENANT_ID,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 4,
                "skuId": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                "skuPartNumber": "O365_BUSINESS_PREMIUM",
                "prepaidUnits": {"enabled": 10, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [
                    {
                        "servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318",
                        "servicePlanName": "EXCHANGE_S_STANDARD",
                        "provisioningStatus": "Success",
                        "appliesTo": "User",
                    }
                ],
            },
            {
                "id": f"{TENANT_ID}_{ENTRA_P2_SKU}",
                "accountId": TENANT_ID,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 2,
                "skuId": ENTRA_P2_SKU,
                "skuPartNumber": "AAD_PREMIUM_P2",
                "prepaidUnits": {"enabled": 5, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [
                    {
                        "servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998",
                        "servicePlanName": "AAD_PREMIUM_P2",
                        "provisioningStatus": "Success",
                        "appliesTo": "User",
                    }
                ],
            },
        ],
        "/users": users,
        "/directoryRoles": [
            {
                "id": "r-ga",
                "displayName": "Global Administrator",
                "roleTemplateId": GLOBAL_ADMIN_TEMPLATE,
                "description": "Can manage all aspects of Microsoft Entra ID.",
            },
            {
                "id": "r-ua",
                "displayName": "User Administrator",
                "roleTemplateId": USER_ADMIN_TEMPLATE,
                "description": "Can manage all aspects of users and groups.",
            },
        ],
        "/directoryRoles/r-ga/members": [member("u-1")],
        "/directoryRoles/r-ua/members": [member("u-2"), member("u-4")],
        "/identity/conditionalAccess/policies": [
            {
                "id": "ca-1",
                "displayName": "Require MFA for admins",
                "state": "enabled",
                "createdDateTime": "2025-05-01T00:00:00Z",
                "conditions": {
                    "clientAppTypes": ["all"],
                    "applications": {"includeApplications": ["All"]},
                    "users": {"includeRoles": [GLOBAL_ADMIN_TEMPLATE]},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            },
        ],
        "/identity/conditionalAccess/namedLocations": [
            {
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": "nl-1",
                "displayName": "Tokyo office",
                "isTrusted": True,
                "ipRanges": [
                    {
                        "@odata.type": "#microsoft.graph.iPv4CidrRange",
                        "cidrAddress": "203.0.113.0/24",
                    }
                ],
            },
        ],
        "/policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms.",
            "isEnabled": False,
        },
        "/policies/authorizationPolicy": {
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            "allowInvitesFrom": "everyone",
            "allowedToSignUpEmailBasedSubscriptions": True,
            "allowEmailVerifiedUsersToJoinOrganization": False,
            "blockMsolPowerShell": False,
            "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "defaultUserRolePermissions": {
                "allowedToCreateApps": True,
                "allowedToCreateSecurityGroups": True,
                "allowedToCreateTenants": True,
                "allowedToReadBitlockerKeysForOwnedDevice": True,
                "allowedToReadOtherUsers": True,
            },
            "permissionGrantPolicyIdsAssignedToDefaultUserRole": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
            ],
        },
        "/policies/authenticationMethodsPolicy": {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "policyMigrationState": "migrationComplete",
            "registrationEnforcement": {
                "authenticationMethodsRegistrationCampaign": {
                    "state": "default",
                    "snoozeDurationInDays": 1,
                    "includeTargets": [],
                }
            },
            "authenticationMethodConfigurations": [
                {
                    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                    "id": "Fido2",
                    "state": "disabled",
                },
                {
                    "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                    "id": "Sms",
                    "state": "enabled",
                    "excludeTargets": [],
                    "includeTargets": [
                        {"targetType": "group", "id": "all_users", "isUsableForSignIn": True}
                    ],
                },
                {
                    "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
                    "id": "Email",
                    "state": "enabled",
                    "allowExternalIdToUseEmailOtp": "default",
                    "excludeTargets": [],
                    "includeTargets": [{"targetType": "group", "id": "all_users"}],
                },
                {
                    "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
                    "id": "Voice",
                    "state": "disabled",
                    "isOfficePhoneAllowed": False,
                    "excludeTargets": [],
                    "includeTargets": [{"targetType": "group", "id": "all_users"}],
                },
                {
                    "@odata.type": (
                        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration"
                    ),
                    "id": "MicrosoftAuthenticator",
                    "state": "enabled",
                    "isSoftwareOathEnabled": False,
                },
            ],
        },
        "/policies/adminConsentRequestPolicy": {
            "isEnabled": False,
            "notifyReviewers": False,
            "remindersEnabled": False,
            "requestDurationInDays": 0,
            "reviewers": [],
            "version": 0,
        },
    }
    tenant.update(_identity(users, member))
    tenant.update(_applications())
    tenant.update(_tenant_settings())
    beta = copy.deepcopy(tenant["/policies/authenticationMethodsPolicy"])
    beta["systemCredentialPreferences"] = {
        "state": "default",
        "excludeTargets": [],
        "includeTargets": [{"id": "all_users", "targetType": "group"}],
    }
    tenant["/beta/policies/authenticationMethodsPolicy"] = beta
    return tenant


def _principal(user: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "displayName", "userPrincipalName", "userType")
    return {"@odata.type": "#microsoft.graph.user", **{k: user[k] for k in keep}}


def _rule(kind: str, rule_id: str, **fields: Any) -> dict[str, Any]:
    """One PIM rule; its id reads <kind>_<caller>[_<recipient>]_<level>."""
    parts = rule_id.split("_")
    target = {
        "caller": parts[1],
        "operations": ["All"],
        "level": parts[-1],
        "inheritableSettings": [],
        "enforcedSettings": [],
    }
    return {
        "@odata.type": f"#microsoft.graph.unifiedRoleManagementPolicy{kind}Rule",
        "id": rule_id,
        "target": target,
        **fields,
    }


def _role_policy(role: str, name: str, *, approval: bool, expiry: bool) -> dict[str, Any]:
    """A roleManagementPolicyAssignment of one directory role, its policy and rules expanded."""
    policy_id = f"Directory_{TENANT_ID}_{role[:8]}"
    approvers = [{"@odata.type": "#microsoft.graph.singleUser", "userId": "u-1"}]
    stage = {
        "approvalStageTimeOutInDays": 1,
        "isApproverJustificationRequired": True,
        "escalationTimeInMinutes": 0,
        "isEscalationEnabled": False,
        "primaryApprovers": approvers if approval else [],
        "escalationApprovers": [],
    }
    notify = {
        "notificationType": "Email",
        "recipientType": "Admin",
        "notificationLevel": "All",
        "isDefaultRecipientsEnabled": True,
        "notificationRecipients": ["security@contoso.example"] if approval else [],
    }
    rules = [
        _rule(
            "Approval",
            "Approval_EndUser_Assignment",
            setting={
                "isApprovalRequired": approval,
                "isApprovalRequiredForExtension": False,
                "isRequestorJustificationRequired": True,
                "approvalMode": "SingleStage",
                "approvalStages": [stage],
            },
        ),
        _rule(
            "Expiration",
            "Expiration_Admin_Eligibility",
            isExpirationRequired=expiry,
            maximumDuration="P365D",
        ),
        _rule(
            "Expiration",
            "Expiration_Admin_Assignment",
            isExpirationRequired=expiry,
            maximumDuration="P180D",
        ),
        _rule(
            "Expiration",
            "Expiration_EndUser_Assignment",
            isExpirationRequired=True,
            maximumDuration="PT8H",
        ),
        _rule(
            "Enablement",
            "Enablement_EndUser_Assignment",
            enabledRules=["MultiFactorAuthentication", "Justification"],
        ),
        _rule("Notification", "Notification_Admin_Admin_Eligibility", **notify),
        _rule("Notification", "Notification_Admin_EndUser_Assignment", **notify),
    ]
    return {
        "id": f"{policy_id}_{role}",
        "policyId": policy_id,
        "scopeId": "/",
        "scopeType": "DirectoryRole",
        "roleDefinitionId": role,
        "policy": {
            "id": policy_id,
            "displayName": "Directory",
            "description": f"PIM settings of {name}",
            "isOrganizationDefault": False,
            "scopeId": "/",
            "scopeType": "Directory",
            "lastModifiedDateTime": "2025-06-01T00:00:00Z",
            "rules": rules,
        },
    }


def _identity(users: list[dict[str, Any]], member: Any) -> dict[str, Any]:
    """Roles, PIM, access reviews, registration details, risky users, groups, mailboxes."""
    by_id = {u["id"]: u for u in users}
    roles = {
        GLOBAL_ADMIN_TEMPLATE: "Global Administrator",
        USER_ADMIN_TEMPLATE: "User Administrator",
        PRIVILEGED_ROLE_ADMIN_TEMPLATE: "Privileged Role Administrator",
        GLOBAL_READER_TEMPLATE: "Global Reader",
    }
    mail_app = {
        "@odata.type": "#microsoft.graph.servicePrincipal",
        "id": "sp-3",
        "displayName": "Mail Archiver Pro",
        "appId": "5b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
    }

    def assignment(rid: str, principal: dict[str, Any], role: str) -> dict[str, Any]:
        return {
            "id": rid,
            "principalId": principal["id"],
            "roleDefinitionId": role,
            "directoryScopeId": "/",
            "principal": principal,
        }

    def instance(
        rid: str, uid: str, role: str, kind: str = "Assigned", end: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": rid,
            "principalId": uid,
            "roleDefinitionId": role,
            "directoryScopeId": "/",
            "appScopeId": None,
            "assignmentType": kind,
            "memberType": "Direct",
            "startDateTime": "2025-05-01T09:00:00Z",
            "endDateTime": end,
            "roleAssignmentOriginId": f"origin-{rid}",
            "roleAssignmentScheduleId": f"schedule-{rid}",
            "principal": _principal(by_id[uid]),
        }

    registration = []
    methods = {
        "u-1": ["microsoftAuthenticatorPush", "fido2", "passKeyDeviceBoundAuthenticator"],
        "u-2": ["email"],
        "u-3": ["mobilePhone", "microsoftAuthenticatorPush"],
        "u-4": [],
        "u-5": [],
    }
    for user in users:
        registered = methods[user["id"]]
        strong = bool({"microsoftAuthenticatorPush", "fido2"} & set(registered))
        item = {
            "id": user["id"],
            "userPrincipalName": user["userPrincipalName"],
            "userDisplayName": user["displayName"],
            "userType": user["userType"].lower(),
            "isAdmin": user["id"] in ("u-1", "u-2", "u-4"),
            "isSsprRegistered": bool(registered),
            "isSsprEnabled": True,
            "isSsprCapable": bool(registered),
            "isMfaRegistered": strong,
            "isMfaCapable": strong,
            "isPasswordlessCapable": "fido2" in registered,
            "isSystemPreferredAuthenticationMethodEnabled": False,
            "methodsRegistered": registered,
            "defaultMfaMethod": "microsoftAuthenticatorPush" if strong else "none",
            "lastUpdatedDateTime": "2026-11-30T02:00:00Z",
        }
        registration.append(item)

    data: dict[str, Any] = {
        "/roleManagement/directory/roleDefinitions": [
            {
                "id": template,
                "templateId": template,
                "displayName": name,
                "description": f"{name} (built-in role).",
                "isBuiltIn": True,
                "isEnabled": True,
            }
            for template, name in roles.items()
        ],
        "/roleManagement/directory/roleAssignments": [
            assignment("ra-1", _principal(by_id["u-1"]), GLOBAL_ADMIN_TEMPLATE),
            assignment("ra-2", _principal(by_id["u-2"]), USER_ADMIN_TEMPLATE),
            assignment("ra-3", _principal(by_id["u-4"]), USER_ADMIN_TEMPLATE),
            assignment("ra-4", mail_app, GLOBAL_READER_TEMPLATE),
        ],
        "/roleManagement/directory/roleEligibilitySchedules": [
            {
                "id": "re-1",
                "principalId": "u-3",
                "roleDefinitionId": GLOBAL_ADMIN_TEMPLATE,
                "directoryScopeId": "/",
                "memberType": "Direct",
                "status": "Provisioned",
                "createdDateTime": "2025-05-01T09:00:00Z",
                "createdUsing": "re-1",
                "scheduleInfo": {
                    "startDateTime": "2025-05-01T09:00:00Z",
                    "expiration": {"type": "noExpiration"},
                },
                "principal": _principal(by_id["u-3"]),
            },
            {
                "id": "re-2",
                "principalId": "u-2",
                "roleDefinitionId": PRIVILEGED_ROLE_ADMIN_TEMPLATE,
                "directoryScopeId": "/",
                "memberType": "Direct",
                "status": "Provisioned",
                "createdDateTime": "2026-06-01T09:00:00Z",
                "createdUsing": "re-2",
                "scheduleInfo": {
                    "startDateTime": "2026-06-01T09:00:00Z",
                    "expiration": {"type": "afterDateTime", "endDateTime": "2027-05-31T09:00:00Z"},
                },
                "principal": _principal(by_id["u-2"]),
            },
        ],
        "/roleManagement/directory/roleAssignmentScheduleInstances": [
            instance("rai-1", "u-1", GLOBAL_ADMIN_TEMPLATE),
            instance("rai-2", "u-2", USER_ADMIN_TEMPLATE),
            instance("rai-3", "u-4", USER_ADMIN_TEMPLATE),
            instance("rai-4", "u-3", GLOBAL_ADMIN_TEMPLATE, "Activated", "2026-12-02T10:00:00Z"),
        ],
        "/policies/roleManagementPolicyAssignments": [
            _role_policy(GLOBAL_ADMIN_TEMPLATE, "Global Administrator", approval=True, expiry=True),
            _role_policy(
                PRIVILEGED_ROLE_ADMIN_TEMPLATE,
                "Privileged Role Administrator",
                approval=False,
                expiry=False,
            ),
        ],
        "/identityGovernance/accessReviews/definitions": [
            {
                "id": "ar-1",
                "displayName": "Guests in Microsoft 365 groups",
                "descriptionForAdmins": "Quarterly review of guest members",
                "status": "InProgress",
                "createdDateTime": "2025-06-01T00:00:00Z",
                "scope": {
                    "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                    "query": "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
                    "queryType": "MicrosoftGraph",
                },
                "instanceEnumerationScope": {
                    "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                    "query": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true",
                    "queryType": "MicrosoftGraph",
                },
                "reviewers": [
                    {"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}
                ],
                "settings": {
                    "mailNotificationsEnabled": True,
                    "reminderNotificationsEnabled": True,
                    "justificationRequiredOnApproval": True,
                    "defaultDecisionEnabled": True,
                    "defaultDecision": "Deny",
                    "instanceDurationInDays": 14,
                    "autoApplyDecisionsEnabled": True,
                    "recommendationsEnabled": True,
                    "recurrence": {
                        "pattern": {"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 0},
                        "range": {"type": "noEnd", "startDate": "2025-06-01"},
                    },
                },
            },
            {
                "id": "ar-2",
                "displayName": "Global Administrators",
                "status": "Completed",
                "createdDateTime": "2025-01-10T00:00:00Z",
                "scope": {
                    "@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
                    "principalScopes": [
                        {
                            "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                            "query": "/users",
                            "queryType": "MicrosoftGraph",
                        }
                    ],
                    "resourceScopes": [
                        {
                            "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                            "query": (
                                "/roleManagement/directory/roleDefinitions/" + GLOBAL_ADMIN_TEMPLATE
                            ),
                            "queryType": "MicrosoftGraph",
                        }
                    ],
                },
                "reviewers": [
                    {"query": "/users/u-1", "queryType": "MicrosoftGraph", "queryRoot": None}
                ],
                "settings": {
                    "mailNotificationsEnabled": False,
                    "justificationRequiredOnApproval": False,
                    "defaultDecisionEnabled": False,
                    "defaultDecision": "None",
                    "instanceDurationInDays": 3,
                    "autoApplyDecisionsEnabled": False,
                    "recurrence": {
                        "pattern": {"type": "absoluteMonthly", "interval": 1},
                        "range": {
                            "type": "endDate",
                            "startDate": "2025-01-10",
                            "endDate": "2025-02-10",
                        },
                    },
                },
            },
        ],
        "/identityProtection/riskyUsers": [
            {
                "id": "u-3",
                "userPrincipalName": "mika@contoso.example",
                "userDisplayName": "Mika Ito",
                "riskLevel": "high",
                "riskState": "atRisk",
                "riskDetail": "none",
                "riskLastUpdatedDateTime": "2026-11-28T04:12:00Z",
                "isDeleted": False,
                "isProcessing": False,
            },
            {
                "id": "u-2",
                "userPrincipalName": "kenji@contoso.example",
                "userDisplayName": "Kenji Sato",
                "riskLevel": "none",
                "riskState": "remediated",
                "riskDetail": "userPerformedSecuredPasswordChange",
                "riskLastUpdatedDateTime": "2026-10-02T11:00:00Z",
                "isDeleted": False,
                "isProcessing": False,
            },
        ],
        "/reports/authenticationMethods/userRegistrationDetails": registration,
        "/groups": [
            {
                "id": "g-1",
                "displayName": "All Company",
                "groupTypes": ["Unified"],
                "visibility": "Public",
                "securityEnabled": False,
                "mailEnabled": True,
                "createdDateTime": "2025-04-01T09:00:00Z",
            },
            {
                "id": "g-2",
                "displayName": "Tier 0 Admins",
                "groupTypes": [],
                "securityEnabled": True,
                "mailEnabled": False,
                "isAssignableToRole": True,
                "createdDateTime": "2025-04-02T09:00:00Z",
            },
            {
                "id": "g-3",
                "displayName": "All Employees",
                "groupTypes": ["DynamicMembership"],
                "securityEnabled": True,
                "mailEnabled": False,
                "membershipRule": 'user.userType -eq "Member"',
                "createdDateTime": "2025-04-03T09:00:00Z",
            },
        ],
        "/groups/g-1/members": [member("u-1"), member("u-3"), member("u-4")],
        "/groups/g-2/members": [member("u-1")],
        "/groups/g-3/members": [member("u-1"), member("u-2"), member("u-3")],
        "/users/u-2/mailFolders/inbox/messageRules": [
            {
                "id": "AQAAAJ5dZqA=",
                "displayName": "Forward to personal",
                "sequence": 1,
                "isEnabled": True,
                "hasError": False,
                "isReadOnly": False,
                "conditions": {},
                "actions": {
                    "forwardTo": [
                        {
                            "emailAddress": {
                                "name": "Kenji",
                                "address": "kenji.sato@gmail.example",
                            }
                        }
                    ],
                    "stopProcessingRules": True,
                },
            }
        ],
        "/users/u-3/mailFolders/inbox/messageRules": [
            {
                "id": "AQAAAJ5dZqB=",
                "displayName": "Newsletters",
                "sequence": 2,
                "isEnabled": True,
                "hasError": False,
                "isReadOnly": False,
                "conditions": {"senderContains": ["newsletter"]},
                "actions": {
                    "moveToFolder": "AAMkAGI1AAAoZCfHAAA=",
                    "redirectTo": [
                        {"emailAddress": {"name": "Aiko", "address": "admin@contoso.example"}}
                    ],
                    "stopProcessingRules": False,
                },
            }
        ],
        "/users/u-1/mailFolders/inbox/messageRules": [],
        "/users/u-4/mailFolders/inbox/messageRules": MAILBOX_MISSING,
        "/users/u-5/mailFolders/inbox/messageRules": [],
    }
    states = {"u-1": "enforced", "u-3": "enabled"}
    for user in users:
        data[f"/beta/users/{user['id']}/authentication/requirements"] = {
            "perUserMfaState": states.get(user["id"], "disabled")
        }
    return data


def _applications() -> dict[str, Any]:
    """Service principals with grants, app registrations, the third-party storage app."""

    def sp(sid: str, app_id: str, name: str, owner: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": sid,
            "appId": app_id,
            "displayName": name,
            "appOwnerOrganizationId": owner,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appRoleAssignmentRequired": False,
            "createdDateTime": "2025-04-01T09:00:00Z",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
            "passwordCredentials": [],
            "keyCredentials": [],
            "verifiedPublisher": {},
            "appRoles": [],
            **extra,
        }

    graph_roles = [
        {
            "id": MAIL_READWRITE_ROLE,
            "value": "Mail.ReadWrite",
            "displayName": "Read and write mail in all mailboxes",
            "description": "Allows the app to create, read, update, and delete mail.",
            "allowedMemberTypes": ["Application"],
            "isEnabled": True,
            "origin": "Application",
        },
        {
            "id": USER_READ_ALL_ROLE,
            "value": "User.Read.All",
            "displayName": "Read all users' full profiles",
            "description": "Allows the app to read user profiles without a signed-in user.",
            "allowedMemberTypes": ["Application"],
            "isEnabled": True,
            "origin": "Application",
        },
    ]
    hr_app_id = "8d1f2e3a-4b5c-4d6e-9f0a-1b2c3d4e5f60"
    legacy_app_id = "2c3d4e5f-6a7b-4c8d-9e0f-a1b2c3d4e5f6"
    return {
        "/servicePrincipals": [
            sp(
                "sp-1",
                GRAPH_APP_ID,
                "Microsoft Graph",
                MICROSOFT_TENANT,
                publisherName="Microsoft Services",
                appRoles=graph_roles,
                tags=[],
            ),
            sp("sp-2", hr_app_id, "Contoso HR Portal", TENANT_ID, publisherName="Contoso KK"),
            sp(
                "sp-3",
                "5b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
                "Mail Archiver Pro",
                "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                publisherName="Mail Archiver Ltd",
            ),
            sp(
                "sp-4",
                "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b",
                "Acme Sign",
                "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
                publisherName="Acme Sign Inc.",
                verifiedPublisher={
                    "displayName": "Acme Sign Inc.",
                    "verifiedPublisherId": "6012345",
                    "addedDateTime": "2024-03-01T00:00:00Z",
                },
            ),
            sp(
                "sp-6",
                GRAPH_CLI_APP_ID,
                "Microsoft Graph Command Line Tools",
                MICROSOFT_TENANT,
                publisherName="Microsoft Services",
                tags=[],
            ),
            sp(
                "sp-5",
                THIRD_PARTY_STORAGE_APP_ID,
                "Microsoft 365 third party storage",
                MICROSOFT_TENANT,
                accountEnabled=False,
                tags=[],
            ),
        ],
        "/oauth2PermissionGrants": [
            {
                "id": "grant-1",
                "clientId": "sp-3",
                "consentType": "AllPrincipals",
                "resourceId": "sp-1",
                "scope": "openid offline_access Mail.ReadWrite User.Read",
            },
            {
                "id": "grant-2",
                "clientId": "sp-4",
                "consentType": "Principal",
                "principalId": "u-2",
                "resourceId": "sp-1",
                "scope": "openid profile User.Read",
            },
            {
                "id": "grant-4",
                "clientId": "sp-6",
                "consentType": "AllPrincipals",
                "resourceId": "sp-1",
                "scope": "openid profile User.Read",
            },
            {
                "id": "grant-3",
                "clientId": "sp-2",
                "consentType": "AllPrincipals",
                "resourceId": "sp-1",
                "scope": "User.Read",
            },
        ],
        "/servicePrincipals/sp-1/appRoleAssignments": [],
        "/servicePrincipals/sp-2/appRoleAssignments": [
            {
                "id": "ara-2",
                "appRoleId": USER_READ_ALL_ROLE,
                "principalId": "sp-2",
                "principalType": "ServicePrincipal",
                "principalDisplayName": "Contoso HR Portal",
                "resourceId": "sp-1",
                "resourceDisplayName": "Microsoft Graph",
                "createdDateTime": "2025-04-05T09:00:00Z",
            }
        ],
        "/servicePrincipals/sp-3/appRoleAssignments": [
            {
                "id": "ara-3",
                "appRoleId": MAIL_READWRITE_ROLE,
                "principalId": "sp-3",
                "principalType": "ServicePrincipal",
                "principalDisplayName": "Mail Archiver Pro",
                "resourceId": "sp-1",
                "resourceDisplayName": "Microsoft Graph",
                "createdDateTime": "2025-08-01T09:00:00Z",
            }
        ],
        "/servicePrincipals/sp-4/appRoleAssignments": [],
        "/servicePrincipals/sp-5/appRoleAssignments": [],
        "/servicePrincipals/sp-6/appRoleAssignments": [],
        "/applications": [
            {
                "id": "app-1",
                "appId": hr_app_id,
                "displayName": "Contoso HR Portal",
                "signInAudience": "AzureADMyOrg",
                "publisherDomain": "contoso.example",
                "createdDateTime": "2025-04-01T09:00:00Z",
                "passwordCredentials": [
                    {
                        "keyId": "9f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
                        "displayName": "prod",
                        "startDateTime": "2026-06-01T00:00:00Z",
                        "endDateTime": "2026-12-31T00:00:00Z",
                        "hint": "Q~x",
                    }
                ],
                "keyCredentials": [],
                "requiredResourceAccess": [
                    {
                        "resourceAppId": GRAPH_APP_ID,
                        "resourceAccess": [{"id": USER_READ_ALL_ROLE, "type": "Role"}],
                    }
                ],
            },
            {
                "id": "app-2",
                "appId": legacy_app_id,
                "displayName": "Legacy Sync Tool",
                "signInAudience": "AzureADMultipleOrgs",
                "publisherDomain": "contoso.example",
                "createdDateTime": "2019-02-01T09:00:00Z",
                "passwordCredentials": [
                    {
                        "keyId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                        "displayName": "forever",
                        "startDateTime": "2019-02-01T09:00:00Z",
                        "endDateTime": "2299-12-31T09:00:00Z",
                        "hint": "abc",
                    }
                ],
                "keyCredentials": [
                    {
                        "keyId": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                        "displayName": "CN=legacy-sync",
                        "type": "AsymmetricX509Cert",
                        "usage": "Verify",
                        "startDateTime": "2024-01-01T00:00:00Z",
                        "endDateTime": "2026-01-01T00:00:00Z",
                    }
                ],
                "requiredResourceAccess": [],
            },
        ],
    }


def _tenant_settings() -> dict[str, Any]:
    """Directory settings, tenant policies, admin centre, Intune, SharePoint, Secure Score."""
    all_users = {"targetType": "group", "id": "all_users"}
    nobody = {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}
    blocked_all = {
        "usersAndGroups": {
            "accessType": "blocked",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": {
            "accessType": "blocked",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }
    allowed_all = {
        "usersAndGroups": {
            "accessType": "allowed",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": {
            "accessType": "allowed",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }
    b2b = {
        "B2BManagementPolicy": {
            "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["gmail.example"]},
            "AutoRedeemPolicy": {"AdminConsentedForUsersIntoTenantIds": []},
        }
    }
    timeout = {
        "ActivityBasedTimeoutPolicy": {
            "Version": 1,
            "ApplicationPolicies": [
                {"ApplicationId": "default", "WebSessionIdleTimeout": "03:00:00"}
            ],
        }
    }
    control = {
        "controlCategory": "Identity",
        "implementationStatus": "",
        "lastSynced": "2026-12-01T00:00:00Z",
    }
    return {
        f"/organization/{TENANT_ID}/branding": {
            "id": "0",
            "backgroundColor": "#FFFFFF",
            "signInPageText": "Contoso KK",
            "usernameHintText": "someone@contoso.example",
            "loginPageTextVisibilitySettings": {
                "hideCannotAccessYourAccount": False,
                "hideForgotMyPassword": False,
                "hideResetItNow": False,
                "hideTermsOfUse": True,
                "hidePrivacyAndCookies": True,
                "hideKeepMeSignedIn": False,
            },
        },
        "/directory/onPremisesSynchronization": [
            {
                "id": TENANT_ID,
                "configuration": {
                    "synchronizationInterval": "PT30M",
                    "customerRequestedSynchronizationInterval": "PT2H",
                    "accidentalDeletionPrevention": {
                        "synchronizationPreventionType": "enabledForCount",
                        "alertThreshold": 500,
                    },
                },
                "features": {
                    "passwordSyncEnabled": True,
                    "passwordWritebackEnabled": False,
                    "blockSoftMatchEnabled": False,
                    "blockCloudObjectTakeoverThroughHardMatchEnabled": False,
                    "cloudPasswordPolicyForPasswordSyncedUsersEnabled": False,
                    "userWritebackEnabled": False,
                    "deviceWritebackEnabled": False,
                    "directoryExtensionsEnabled": False,
                    "passwordSyncEnabledOnDemand": False,
                },
            }
        ],
        "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator": {
            "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
            "id": "MicrosoftAuthenticator",
            "state": "enabled",
            "isSoftwareOathEnabled": False,
            "excludeTargets": [],
            "includeTargets": [
                {
                    "targetType": "group",
                    "id": "all_users",
                    "isRegistrationRequired": False,
                    "authenticationMode": "any",
                }
            ],
            "featureSettings": {
                "displayAppInformationRequiredState": {
                    "state": "enabled",
                    "includeTarget": all_users,
                    "excludeTarget": nobody,
                },
                "displayLocationInformationRequiredState": {
                    "state": "default",
                    "includeTarget": all_users,
                    "excludeTarget": nobody,
                },
                "companionAppAllowedState": {
                    "state": "default",
                    "includeTarget": all_users,
                    "excludeTarget": nobody,
                },
            },
        },
        "/groupSettings": [
            {
                "id": "gs-1",
                "displayName": "Group.Unified",
                "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
                "values": [
                    {"name": "EnableGroupCreation", "value": "false"},
                    {"name": "GroupCreationAllowedGroupId", "value": "g-2"},
                    {"name": "AllowGuestsToAccessGroups", "value": "true"},
                    {"name": "AllowToAddGuests", "value": "true"},
                    {"name": "EnableMIPLabels", "value": "false"},
                    {"name": "UsageGuidelinesUrl", "value": ""},
                ],
            },
            {
                "id": "gs-2",
                "displayName": "Password Rule Settings",
                "templateId": "5cf42378-d67d-4f36-ba46-e8b86229381d",
                "values": [
                    {"name": "BannedPasswordCheckOnPremisesMode", "value": "Audit"},
                    {"name": "EnableBannedPasswordCheckOnPremises", "value": "False"},
                    {"name": "EnableBannedPasswordCheck", "value": "True"},
                    {"name": "LockoutDurationInSeconds", "value": "60"},
                    {"name": "LockoutThreshold", "value": "10"},
                    {"name": "BannedPasswordList", "value": "contoso\tkabushiki"},
                ],
            },
        ],
        "/policies/activityBasedTimeoutPolicies": [
            {
                "id": "abt-1",
                "displayName": "DefaultTimeoutPolicy",
                "isOrganizationDefault": True,
                "definition": [json.dumps(timeout)],
            }
        ],
        "/policies/defaultAppManagementPolicy": {
            "id": "00000000-0000-0000-0000-000000000000",
            "displayName": "Default app management tenant policy",
            "description": "Default tenant policy that enforces app management restrictions.",
            "isEnabled": True,
            "applicationRestrictions": {
                "passwordCredentials": [
                    {
                        "restrictionType": "passwordLifetime",
                        "state": "enabled",
                        "maxLifetime": "P365D",
                        "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
                    },
                    {
                        "restrictionType": "passwordAddition",
                        "state": "disabled",
                        "maxLifetime": None,
                        "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
                    },
                ],
                "keyCredentials": [
                    {
                        "restrictionType": "asymmetricKeyLifetime",
                        "state": "enabled",
                        "maxLifetime": "P730D",
                        "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
                    }
                ],
            },
            "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
        },
        "/beta/policies/deviceRegistrationPolicy": {
            "id": "deviceRegistrationPolicy",
            "displayName": "Device Registration Policy",
            "description": "Tenant-wide policy that manages initial provisioning controls",
            "userDeviceQuota": 50,
            "multiFactorAuthConfiguration": "notRequired",
            "azureADRegistration": {
                "isAdminConfigurable": False,
                "allowedToRegister": {
                    "@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"
                },
            },
            "azureADJoin": {
                "isAdminConfigurable": True,
                "allowedToJoin": {
                    "@odata.type": "#microsoft.graph.enumeratedDeviceRegistrationMembership",
                    "users": [],
                    "groups": ["g-2"],
                },
                "localAdmins": {
                    "enableGlobalAdmins": True,
                    "registeringUsers": {
                        "@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"
                    },
                },
            },
            "localAdminPassword": {"isEnabled": False},
        },
        "/policies/crossTenantAccessPolicy/default": {
            "isServiceDefault": True,
            "inboundTrust": {
                "isMfaAccepted": False,
                "isCompliantDeviceAccepted": False,
                "isHybridAzureADJoinedDeviceAccepted": False,
            },
            "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
            "b2bCollaborationInbound": allowed_all,
            "b2bCollaborationOutbound": allowed_all,
            "b2bDirectConnectInbound": blocked_all,
            "b2bDirectConnectOutbound": blocked_all,
        },
        "/policies/crossTenantAccessPolicy/partners": [
            {
                "tenantId": "3d0f5dbc-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
                "isServiceProvider": False,
                "isInMultiTenantOrganization": False,
                "inboundTrust": {
                    "isMfaAccepted": True,
                    "isCompliantDeviceAccepted": True,
                    "isHybridAzureADJoinedDeviceAccepted": False,
                },
                "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": False},
            }
        ],
        "/beta/legacy/policies": [
            {
                "id": "lp-1",
                "displayName": "B2BManagementPolicy",
                "type": "B2BManagementPolicy",
                "isOrganizationDefault": True,
                "definition": [json.dumps(b2b)],
            },
            {
                "id": "lp-2",
                "displayName": "TokenIssuancePolicy",
                "type": "TokenIssuancePolicy",
                "isOrganizationDefault": False,
                "definition": ['{"TokenIssuancePolicy":{"Version":1}}'],
            },
        ],
        "/beta/admin/appsAndServices": {
            "settings": {"isAppAndServicesTrialEnabled": True, "isOfficeStoreEnabled": True}
        },
        "/beta/admin/forms": {
            "settings": {
                "isExternalSendFormEnabled": True,
                "isExternalShareCollaborationEnabled": True,
                "isExternalShareResultEnabled": False,
                "isExternalShareTemplateEnabled": False,
                "isRecordIdentityByDefaultEnabled": True,
                "isBingImageSearchEnabled": True,
                "isInOrgFormsPhishingScanEnabled": True,
            }
        },
        "/deviceManagement": {
            "id": TENANT_ID,
            "subscriptionState": "active",
            "settings": {
                "deviceComplianceCheckinThresholdDays": 30,
                "isScheduledActionEnabled": True,
                "secureByDefault": False,
            },
        },
        "/beta/deviceManagement/deviceEnrollmentConfigurations": [
            {
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                "id": f"{TENANT_ID}_DefaultPlatformRestrictions",
                "displayName": "All users and all devices",
                "description": "This is the default Device Type Restriction applied",
                "priority": 0,
                "version": 3,
                "iosRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": False,
                },
                "windowsRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": False,
                    "osMinimumVersion": "10.0.19045",
                },
                "windowsMobileRestriction": {
                    "platformBlocked": True,
                    "personalDeviceEnrollmentBlocked": False,
                },
                "androidRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": False,
                },
                "androidForWorkRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": False,
                },
                "macOSRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": False,
                },
            },
            {
                "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                "id": f"{TENANT_ID}_DefaultLimit",
                "displayName": "All users and all devices",
                "priority": 0,
                "version": 1,
                "limit": 15,
            },
            {
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
                "id": f"{TENANT_ID}_SinglePlatformRestriction_android",
                "displayName": "Block personal Android",
                "priority": 1,
                "version": 1,
                "platformType": "android",
                "platformRestriction": {
                    "platformBlocked": False,
                    "personalDeviceEnrollmentBlocked": True,
                },
            },
        ],
        "/admin/sharepoint/settings": {
            "sharingCapability": "externalUserAndGuestSharing",
            "sharingDomainRestrictionMode": "none",
            "isResharingByExternalUsersEnabled": True,
            "isLegacyAuthProtocolsEnabled": True,
            "isUnmanagedSyncAppForTenantRestricted": False,
            "idleSessionSignOut": {
                "isEnabled": False,
                "warnAfterInSeconds": 0,
                "signOutAfterInSeconds": 0,
            },
            "isSiteCreationEnabled": True,
            "isSitePagesCreationEnabled": True,
            "personalSiteDefaultStorageLimitInMB": 1048576,
            "deletedUserPersonalSiteRetentionPeriodInDays": 30,
            "tenantDefaultTimezone": "(UTC+09:00) Osaka, Sapporo, Tokyo",
        },
        "/security/secureScores": [
            {
                "id": f"{TENANT_ID}_2026-12-01",
                "azureTenantId": TENANT_ID,
                "createdDateTime": "2026-12-01T00:00:00Z",
                "currentScore": 41.5,
                "maxScore": 220.0,
                "licensedUserCount": 10,
                "activeUserCount": 4,
                "enabledServices": ["HasExchange", "HasSharePoint", "HasOD4B"],
                "averageComparativeScores": [
                    {"basis": "AllTenants", "averageScore": 45.2},
                    {
                        "basis": "TotalSeats",
                        "averageScore": 40.1,
                        "seatSizeRangeLowerValue": 6,
                        "seatSizeRangeUpperValue": 10,
                    },
                ],
                "controlScores": [
                    {
                        **control,
                        "controlName": "AdminMFAV2",
                        "description": "Multifactor authentication for administrative roles.",
                        "score": 10.0,
                        "scoreInPercentage": 100.0,
                    },
                    {
                        **control,
                        "controlName": "BlockLegacyAuthentication",
                        "description": "Block legacy authentication.",
                        "score": 0.0,
                        "scoreInPercentage": 0.0,
                    },
                ],
            },
            {
                "id": f"{TENANT_ID}_2026-11-30",
                "azureTenantId": TENANT_ID,
                "createdDateTime": "2026-11-30T00:00:00Z",
                "currentScore": 40.0,
                "maxScore": 220.0,
                "licensedUserCount": 10,
                "activeUserCount": 4,
                "enabledServices": ["HasExchange", "HasSharePoint", "HasOD4B"],
                "averageComparativeScores": [],
                "controlScores": [],
            },
        ],
        "/security/secureScoreControlProfiles": [
            {
                "id": "AdminMFAV2",
                "azureTenantId": TENANT_ID,
                "title": "Ensure multifactor authentication is enabled for all users in administrative roles",
                "controlCategory": "Identity",
                "actionType": "Config",
                "service": "AzureAD",
                "maxScore": 10.0,
                "tier": "Core",
                "userImpact": "Low",
                "implementationCost": "Low",
                "rank": 1,
                "threats": ["AccountBreach", "ElevationOfPrivilege"],
                "deprecated": False,
                "remediation": "Require multifactor authentication for administrative roles.",
                "actionUrl": "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess",
                "controlStateUpdates": [],
            },
            {
                "id": "BlockLegacyAuthentication",
                "azureTenantId": TENANT_ID,
                "title": "Enable Conditional Access policies to block legacy authentication",
                "controlCategory": "Identity",
                "actionType": "Config",
                "service": "AzureAD",
                "maxScore": 8.0,
                "tier": "Core",
                "userImpact": "Moderate",
                "implementationCost": "Moderate",
                "rank": 5,
                "threats": ["PasswordCracking", "AccountBreach"],
                "deprecated": False,
                "remediation": "Block legacy authentication with a Conditional Access policy.",
                "actionUrl": "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess",
                "controlStateUpdates": [
                    {
                        "assignedTo": "",
                        "comment": "The archive tool still uses IMAP",
                        "state": "Ignored",
                        "updatedBy": "admin@contoso.example",
                        "updatedDateTime": "2026-09-01T00:00:00Z",
                    }
                ],
            },
        ],
    }


@dataclass
class GraphApp:
    """One app registration: its secret, the token it gets and its application permissions."""

    secret: str
    token: str
    permissions: set[str] = field(default_factory=set)


def _default_apps() -> dict[str, GraphApp]:
    return {
        WRITER_CLIENT_ID: GraphApp(WRITER_SECRET, WRITER_TOKEN, set(WRITE_PERMISSIONS.values()))
    }


def write_permission(path: str) -> str | None:
    """The permission a write to ``path`` (without version) needs; None: not writable."""
    for prefix, permission in WRITE_PERMISSIONS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return permission
    return None


@dataclass
class GraphState:
    """What the server holds and which faults it injects (matched on path + query)."""

    tenant: dict[str, Any] = field(default_factory=default_tenant)
    secret: str = CLIENT_SECRET
    # further app registrations by client id (the scanner's own is CLIENT_ID / secret / TOKEN)
    apps: dict[str, GraphApp] = field(default_factory=_default_apps)
    writes: list[tuple[str, str, Any]] = field(default_factory=list)  # applied (method, path, body)
    throttle_once: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    unlicensed: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    batched: list[str] = field(default_factory=list)  # requests answered inside a $batch
    tokens_issued: int = 0
    _throttled: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class GraphServer:
    url: str  # https://127.0.0.1:PORT, the authority and the Graph root
    ca_bundle: str
    state: GraphState

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The settings of a connection pointed at this server."""
        base = {
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret_env": "POSTURE_TEST_M365_SECRET",
            "authority": self.url,
            "graph_url": self.url,
            "ca_bundle": self.ca_bundle,
        }
        return base | extra

    def write_settings(self, **extra: Any) -> dict[str, Any]:
        """The credential of the separate app registration that repairs settings."""
        return {"client_id": WRITER_CLIENT_ID, "client_secret_env": WRITER_SECRET_ENV} | extra

    def read_only(self, client_id: str = WRITER_CLIENT_ID) -> None:
        """Take every application permission away from an app: its writes answer 403."""
        self.state.apps[client_id].permissions.clear()

    def graph_requests(self) -> list[str]:
        """Every Graph request, those inside a JSON batch included (not the batch itself)."""
        direct = [r for r in self.state.requests if r.startswith(("/v1.0/", "/beta/"))]
        return direct + self.state.batched


_CLAUSE = re.compile(r"^\s*([\w/.]+)\s+(eq|ne)\s+('(?:[^']|'')*'|true|false|null|[\w.-]+)\s*$")


def _matches(item: dict[str, Any], text: str) -> bool:
    """Graph's simple ``$filter``: ``field eq|ne value`` clauses joined by ``and``."""
    if not text.strip():
        return True
    for clause in re.split(r"\s+and\s+", text.strip()):
        found = _CLAUSE.match(clause)
        if not found:
            raise ValueError(f"Invalid filter clause: {clause!r}")
        name, op, raw = found.groups()
        value: Any
        if raw.startswith("'"):
            value = raw[1:-1].replace("''", "'")
        else:
            value = {"true": True, "false": False, "null": None}.get(raw, raw)
        actual = item.get(name)
        if (actual == value) != (op == "eq"):
            return False
    return True


def _resolve(tenant: dict[str, Any], key: str) -> Any:
    """The object at ``key``: a stored path, or an item (by id) or property of a stored parent."""
    if key in tenant:
        return tenant[key]
    head, _, last = key.rpartition("/")
    if not head or head in ("/beta",):
        return None
    parent = _resolve(tenant, head)
    if isinstance(parent, dict):
        return parent.get(last)
    if isinstance(parent, list):
        for item in parent:
            if isinstance(item, dict) and str(item.get("id", "")).lower() == last.lower():
                return item
    return None


def _targets(tenant: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """Every stored copy of the object at ``path``: v1.0 and beta read the same setting."""
    found: list[dict[str, Any]] = []
    for key in (path, f"/beta{path}"):
        target = _resolve(tenant, key)
        if isinstance(target, dict) and all(target is not t for t in found):
            found.append(target)
    return found


def _invalid(target: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Graph refuses an update naming another type than the object's."""
    sent, kind = body.get("@odata.type"), target.get("@odata.type")
    if sent is not None and kind is not None and sent != kind:
        return f"The type '{sent}' does not match the object's type '{kind}'."
    return None


def _merge(target: dict[str, Any], body: dict[str, Any]) -> None:
    """PATCH: the properties sent replace the stored ones; complex values merge."""
    for key, value in body.items():
        if key.startswith("@odata."):
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value)
        else:
            target[key] = copy.deepcopy(value)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        if parts.path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = segments[0]
            root = f"{self.server.url}/{tenant}"
            self._send(
                200,
                {
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "issuer": f"{self.server.url}/{tenant}/v2.0",
                    "jwks_uri": f"{root}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                    ],
                },
            )
            return
        if segments[0] not in ("v1.0", "beta"):
            self._send(404, {"error": {"code": "NotFound", "message": "unknown path"}})
            return
        if self._caller(state) is None:
            self._send(
                401,
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "Access token is empty.",
                    }
                },
            )
            return
        self._send(*self._graph(state, self.path, dict(self.headers.items())))

    def _caller(self, state: GraphState) -> GraphApp | None:
        """The app whose token the request carries (the scanner's has no write permission)."""
        header = self.headers.get("Authorization") or ""
        if header == f"Bearer {TOKEN}":
            return GraphApp(state.secret, TOKEN)
        for app in state.apps.values():
            if header == f"Bearer {app.token}":
                return app
        return None

    def do_PATCH(self) -> None:
        self._write("PATCH")

    def do_PUT(self) -> None:
        self._write("PUT")

    def _write(self, method: str) -> None:
        """An update of a singleton or of one item of a collection, as Graph applies it."""
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        with state.lock:
            state.requests.append(f"{method} {self.path}")
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        if segments[0] not in ("v1.0", "beta"):
            self._send(404, {"error": {"code": "NotFound", "message": "unknown path"}})
            return
        app = self._caller(state)
        if app is None:
            error = {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}
            self._send(401, {"error": error})
            return
        path = "/" + "/".join(segments[1:])
        status, body = self._update(state, app, method, path, raw)
        if status == 204:
            self.send_response(204)
            self.end_headers()
            return
        self._send(status, body)

    def _update(
        self, state: GraphState, app: GraphApp, method: str, path: str, raw: str
    ) -> tuple[int, dict[str, Any]]:
        if any(fragment in path for fragment in state.denied):
            return 403, {"error": DENIED}
        permission = write_permission(path)
        if permission is None:
            message = "Specified HTTP method is not allowed for the request uri."
            return 405, {"error": {"code": "Request_BadRequest", "message": message}}
        if permission not in app.permissions:
            return 403, {"error": DENIED}
        try:
            body = json.loads(raw or "{}")
        except ValueError:
            return 400, {"error": {"code": "BadRequest", "message": "Invalid JSON body."}}
        if not isinstance(body, dict):
            return 400, {"error": {"code": "BadRequest", "message": "The body is not an object."}}
        with state.lock:
            targets = _targets(state.tenant, path)
            if not targets:
                missing = {
                    "code": "Request_ResourceNotFound",
                    "message": f"'{path}' does not exist.",
                }
                return 404, {"error": missing}
            problem = _invalid(targets[0], body)
            if problem:
                return 400, {"error": {"code": "Request_BadRequest", "message": problem}}
            for target in targets:
                if method == "PUT":
                    kept = {k: v for k, v in target.items() if k.startswith("@odata.")}
                    target.clear()
                    target.update(kept | copy.deepcopy(body))
                else:
                    _merge(target, body)
            state.writes.append((method, path, copy.deepcopy(body)))
        return 204, {}

    def _graph(
        self, state: GraphState, full: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer to one Graph GET (``full`` is /version/path?query)."""
        parts = urlsplit(full)
        segments = parts.path.strip("/").split("/")
        version, path, query = segments[0], "/" + "/".join(segments[1:]), parse_qs(parts.query)
        with state.lock:
            for fragment in state.throttle_once:
                if fragment in full and fragment not in state._throttled:
                    state._throttled.add(fragment)
                    error = {"error": {"code": "TooManyRequests", "message": "Too many requests."}}
                    return 429, error, {"Retry-After": "1"}
        if any(fragment in full for fragment in state.denied):
            return 403, {"error": DENIED}, {}
        for fragment, (status, code, message) in state.unlicensed.items():
            if fragment in full:
                return status, {"error": {"code": code, "message": message}}, {}
        # data keyed "/beta/<path>" answers beta only; plain paths answer both versions
        data = state.tenant.get(f"/{version}{path}", state.tenant.get(path))
        if data is None and write_permission(path):  # an item of a writable setting
            with state.lock:
                found = _resolve(state.tenant, f"/beta{path}") if version == "beta" else None
                if found is None:
                    found = _resolve(state.tenant, path)
                data = copy.deepcopy(found) if isinstance(found, dict) else None
        if data is None:
            missing = {"code": "Request_ResourceNotFound", "message": f"'{path}' does not exist."}
            return 404, {"error": missing}, {}
        if isinstance(data, tuple):  # (status, code, message): this path answers an error
            status, code, message = data
            return status, {"error": {"code": code, "message": message}}, {}
        context = f"{self.server.url}/{version}/$metadata#{path.strip('/')}"
        if isinstance(data, dict):
            return 200, {"@odata.context": context, **self._select(data, query, whole=True)}, {}
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        count = query.get("$count", [""])[0].lower() == "true"
        text = query.get("$filter", [""])[0]
        if " ne null" in text and not (count and lowered.get("consistencylevel") == "eventual"):
            # directory objects answer `ne null` only as an advanced query
            unsupported = {
                "code": "Request_UnsupportedQuery",
                "message": "Unsupported or invalid query filter clause specified.",
            }
            return 400, {"error": unsupported}, {}
        try:
            selected = [i for i in data if _matches(i, text)]
        except ValueError as exc:
            return 400, {"error": {"code": "BadRequest", "message": str(exc)}}, {}
        items = [self._select(item, query) for item in selected]
        start = int(query.get("$skiptoken", ["0"])[0])
        size = min(PAGE_SIZE, int(query.get("$top", [str(PAGE_SIZE)])[0]))
        page = items[start : start + size]
        body: dict[str, Any] = {"@odata.context": context, "value": page}
        if count:
            body["@odata.count"] = len(items)
        if start + size < len(items):
            rest = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + size)
            body["@odata.nextLink"] = f"{self.server.url}/{version}{path}?{urlencode(rest)}"
        return 200, body, {}

    @staticmethod
    def _select(
        item: dict[str, Any], query: dict[str, list[str]], *, whole: bool = False
    ) -> dict[str, Any]:
        fields = query.get("$select", [""])[0]
        if not fields:
            if whole:
                return copy.deepcopy(item)
            return {k: copy.deepcopy(v) for k, v in item.items() if k != "signInActivity"}
        wanted = set(fields.split(",")) | {"@odata.type"}
        return {k: copy.deepcopy(v) for k, v in item.items() if k in wanted}

    def do_POST(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        if self.path in ("/v1.0/$batch", "/beta/$batch"):
            self._batch(state, self.path.split("/")[1], json.loads(raw))
            return
        form = parse_qs(raw)
        if not self.path.endswith("/oauth2/v2.0/token"):
            self._send(404, {"error": "not_found"})
            return
        secret = form.get("client_secret", [""])[0]
        assertion = form.get("client_assertion", [""])[0]
        client = form.get("client_id", [""])[0]
        apps = {CLIENT_ID: GraphApp(state.secret, TOKEN)} | state.apps
        app = apps.get(client)
        if app is None or not (secret == app.secret or assertion):
            self._send(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
            )
            return
        with state.lock:
            state.tokens_issued += 1
        self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": app.token,
            },
        )

    def _batch(self, state: GraphState, version: str, body: dict[str, Any]) -> None:
        """A JSON batch: each request answered as a GET would be, in one response."""
        if self._caller(state) is None:
            self._send(
                401, {"error": {"code": "InvalidAuthenticationToken", "message": "no token"}}
            )
            return
        responses = []
        for request in body.get("requests", []):
            full = f"/{version}{request['url']}"
            with state.lock:
                state.batched.append(full)
            status, answer, headers = self._graph(state, full, request.get("headers"))
            responses.append(
                {
                    "id": request["id"],
                    "status": status,
                    "headers": {"Content-Type": "application/json", **headers},
                    "body": answer,
                }
            )
        self._send(200, {"responses": responses})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a scan opens a connection per type, all at once
    state: GraphState
    url: str


@contextmanager
def graph_server(folder: Path, state: GraphState | None = None) -> Iterator[GraphServer]:
    """Serve the token endpoint and Graph on https://127.0.0.1:<free port>."""
    cert_path, key_path = server_certificate(folder, "graph")
    cert, key = str(cert_path), str(key_path)
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = state or GraphState()
    server.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GraphServer(server.url, cert, server.state)
    finally:
        server.shutdown()
        server.server_close()
