"""Two Microsoft 365 tenants for the demo, served by the local Graph server.

``tenant(hardened=False)`` is Acme's main tenant, with the misconfigurations and threat
indicators a managed security provider meets most often, next to correctly configured twins
of every per-object mistake (a verified Microsoft app beside a risky third-party one, an
MFA-ready user beside one who is not). ``tenant(hardened=True)`` is its subsidiary's tenant
with every setting as CIS and CISA SCuBA recommend: no policy may fail on it.

The documents follow Microsoft Graph's documented shapes (camelCase, collections under
``value``, empty fields omitted, ``@odata.type`` on polymorphic objects); the server adds
paging and the ``@odata`` context.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

#: Directory (tenant) ids of the two demo tenants.
MAIN_TENANT_ID = "5d1c3a7e-8b2f-4e61-9a0d-3c4b5a6d7e8f"
HARDENED_TENANT_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
CLIENT_ID = "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f"
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
THIRD_PARTY_STORAGE_APP = "c1f33bc0-bdb4-4248-ba9b-096807ddb43e"
INTUNE_ENROLLMENT_APP = "d4ebce55-015a-49b5-a083-c84d1797ae8c"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMIN = "e8611ab8-c189-46e8-94e1-60213ab1f814"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
EXCHANGE_ADMIN = "29232cdf-9323-42fd-ade2-1d097af3e4de"
ADMIN_ROLES = [
    GLOBAL_ADMIN,
    PRIVILEGED_ROLE_ADMIN,
    USER_ADMIN,
    SECURITY_ADMIN,
    EXCHANGE_ADMIN,
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",  # Privileged Authentication Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",  # Conditional Access Administrator
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
    "b0f54661-2d74-4c50-afa3-1ec803f12efe",  # Billing Administrator
    "966707d0-3269-4727-9be2-8c3a10f19b9d",  # Password Administrator
    "c4e39bd9-1100-46d3-8c65-fb160da0071f",  # Authentication Administrator
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",  # Global Reader
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",  # Hybrid Identity Administrator
    "69091246-20e8-4a56-aa4d-066075b2a7a8",  # Teams Administrator
]
#: Roles the hardened tenant reviews every month.
REVIEWED_ROLES = [
    GLOBAL_ADMIN,
    EXCHANGE_ADMIN,
    SECURITY_ADMIN,
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
    "69091246-20e8-4a56-aa4d-066075b2a7a8",  # Teams Administrator
]
ROLE_NAMES = {
    GLOBAL_ADMIN: "Global Administrator",
    PRIVILEGED_ROLE_ADMIN: "Privileged Role Administrator",
    USER_ADMIN: "User Administrator",
    SECURITY_ADMIN: "Security Administrator",
    EXCHANGE_ADMIN: "Exchange Administrator",
}
SKU_E5 = ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5")
SKU_P2 = ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2")


def _when(days_ago: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return moment.isoformat().replace("+00:00", "Z")


def _later(days: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return moment.isoformat().replace("+00:00", "Z")


def _compact(doc: dict[str, Any]) -> dict[str, Any]:
    """Graph omits null fields."""
    return {k: v for k, v in doc.items() if v is not None}


class _Tenant:
    def __init__(self, hardened: bool) -> None:
        self.hardened = hardened
        self.tenant_id = HARDENED_TENANT_ID if hardened else MAIN_TENANT_ID
        self.domain = "acme-sec.example" if hardened else "acme.example"
        self.initial = "acmesec.onmicrosoft.com" if hardened else "acmejp.onmicrosoft.com"
        self.users: list[dict[str, Any]] = []
        self.registration: list[dict[str, Any]] = []
        self.requirements: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, list[dict[str, Any]]] = {}
        self.role_members: dict[str, list[str]] = {}

    # -- people ----------------------------------------------------------------------
    def user(
        self,
        uid: str,
        local: str,
        name: str,
        *,
        roles: tuple[str, ...] = (),
        guest: bool = False,
        synced: bool = False,
        licence: tuple[str, str] | None = SKU_E5,
        last_sign_in: int | None = 2,
        methods: tuple[str, ...] = ("microsoftAuthenticatorPush",),
        per_user_mfa: str = "disabled",
        enabled: bool = True,
        rules: list[dict[str, Any]] | None = None,
    ) -> None:
        upn = (
            f"{local.replace('@', '_')}#EXT#@{self.initial}" if guest else f"{local}@{self.domain}"
        )
        mail = local if guest else upn
        sign_in = (
            {
                "lastSignInDateTime": _when(last_sign_in),
                "lastNonInteractiveSignInDateTime": _when(last_sign_in),
                "lastSuccessfulSignInDateTime": _when(last_sign_in),
            }
            if last_sign_in is not None
            else None
        )
        self.users.append(
            _compact(
                {
                    "id": uid,
                    "displayName": name,
                    "userPrincipalName": upn,
                    "mail": mail,
                    "userType": "Guest" if guest else "Member",
                    "accountEnabled": enabled,
                    "createdDateTime": "2024-04-01T00:00:00Z",
                    "creationType": "Invitation" if guest else None,
                    "externalUserState": "Accepted" if guest else None,
                    "onPremisesSyncEnabled": True if synced else None,
                    "passwordPolicies": "None",
                    "assignedLicenses": [{"skuId": licence[0], "disabledPlans": []}]
                    if licence
                    else [],
                    "signInActivity": sign_in,
                }
            )
        )
        capable = any(m not in ("email",) for m in methods)
        self.registration.append(
            {
                "id": uid,
                "userPrincipalName": upn,
                "userDisplayName": name,
                "userType": "guest" if guest else "member",
                "isAdmin": bool(roles),
                "isMfaCapable": capable,
                "isMfaRegistered": capable,
                "isPasswordlessCapable": "fido2" in methods,
                "isSsprRegistered": capable,
                "isSsprEnabled": True,
                "isSsprCapable": capable,
                "isSystemPreferredAuthenticationMethodEnabled": True,
                "methodsRegistered": list(methods),
                "defaultMfaMethod": "microsoftAuthenticatorPush" if capable else "none",
                "lastUpdatedDateTime": _when(3),
            }
        )
        self.requirements[uid] = {"perUserMfaState": per_user_mfa}
        self.rules[uid] = rules or []
        for role in roles:
            self.role_members.setdefault(role, []).append(uid)

    def people(self) -> None:
        phishing_resistant = ("fido2", "microsoftAuthenticatorPush")
        if self.hardened:
            self.user(
                "h-bg1",
                "breakglass1",
                "Emergency Access 1",
                roles=(GLOBAL_ADMIN,),
                licence=None,
                methods=("fido2",),
                last_sign_in=20,
            )
            self.user(
                "h-bg2",
                "breakglass2",
                "Emergency Access 2",
                roles=(GLOBAL_ADMIN,),
                licence=None,
                methods=("fido2",),
                last_sign_in=25,
            )
            self.user(
                "h-adm",
                "adm-sato",
                "Sato (admin)",
                roles=(SECURITY_ADMIN,),
                licence=SKU_P2,
                methods=phishing_resistant,
            )
            self.user("h-u1", "sato", "Sato Haruka", methods=("microsoftAuthenticatorPush",))
            self.user("h-u2", "kato", "Kato Ren", methods=("fido2",))
            return
        # misconfigured: five Global Administrators, one synced from on-premises with a
        # mailbox licence, a dormant one, one without phishing-resistant MFA; a guest admin
        self.user(
            "m-bg1",
            "breakglass1",
            "Emergency Access 1",
            roles=(GLOBAL_ADMIN,),
            licence=None,
            methods=("fido2",),
            last_sign_in=30,
        )
        self.user(
            "m-ga1",
            "it-admin",
            "IT Admin (synced)",
            roles=(GLOBAL_ADMIN,),
            synced=True,
            methods=("mobilePhone",),
            per_user_mfa="enforced",
        )
        self.user(
            "m-ga2",
            "tanaka.admin",
            "Tanaka (former admin)",
            roles=(GLOBAL_ADMIN,),
            last_sign_in=200,
            methods=("microsoftAuthenticatorPush",),
        )
        self.user(
            "m-ga3",
            "suzuki.admin",
            "Suzuki (admin)",
            roles=(GLOBAL_ADMIN, USER_ADMIN),
            licence=SKU_P2,
            methods=phishing_resistant,
        )
        self.user(
            "m-ga4",
            "ops-admin",
            "Operations admin",
            roles=(GLOBAL_ADMIN,),
            licence=SKU_P2,
            methods=phishing_resistant,
        )
        self.user(
            "m-guest",
            "consultant@partner.example",
            "Partner consultant",
            guest=True,
            roles=(USER_ADMIN,),
            licence=None,
            methods=("email",),
        )
        forward = {
            "id": "AQAAAJ5dZp8=",
            "displayName": "Copy to my private mail",
            "sequence": 1,
            "isEnabled": True,
            "conditions": {},
            "actions": {
                "forwardTo": [
                    {"emailAddress": {"name": "me", "address": "kenji.private@freemail.example"}}
                ],
                "stopProcessingRules": False,
            },
        }
        internal = {
            "id": "AQAAAJ5dZp9=",
            "displayName": "Invoices to accounting",
            "sequence": 1,
            "isEnabled": True,
            "conditions": {"subjectContains": ["invoice"]},
            "actions": {
                "forwardTo": [
                    {"emailAddress": {"name": "Accounting", "address": f"ap@{self.domain}"}}
                ],
                "stopProcessingRules": False,
            },
        }
        self.user(
            "m-u1",
            "kenji",
            "Sato Kenji",
            methods=("email",),
            per_user_mfa="enabled",
            rules=[forward],
        )
        self.user(
            "m-u2", "mika", "Ito Mika", methods=("microsoftAuthenticatorPush",), rules=[internal]
        )
        self.user("m-u3", "yuki", "Mori Yuki", methods=("fido2",))

    # -- documents ---------------------------------------------------------------------
    def member(self, uid: str) -> dict[str, Any]:
        u = next(x for x in self.users if x["id"] == uid)
        keep = ("id", "displayName", "userPrincipalName", "userType", "accountEnabled")
        doc = {"@odata.type": "#microsoft.graph.user", **{k: u[k] for k in keep if k in u}}
        if u.get("onPremisesSyncEnabled"):
            doc["onPremisesSyncEnabled"] = True
        return doc

    def principal(self, uid: str) -> dict[str, Any]:
        return self.member(uid)

    def build(self) -> dict[str, Any]:
        h = self.hardened
        self.people()
        data: dict[str, Any] = {}
        data["/organization"] = [
            _compact(
                {
                    "id": self.tenant_id,
                    "displayName": "Acme Security K.K." if h else "Acme Japan K.K.",
                    "countryLetterCode": "JP",
                    "onPremisesSyncEnabled": None if h else True,
                    "verifiedDomains": [
                        {
                            "capabilities": "Email, OfficeCommunicationsOnline",
                            "isDefault": True,
                            "isInitial": False,
                            "name": self.domain,
                            "type": "Managed",
                        },
                        {
                            "capabilities": "Email, OfficeCommunicationsOnline",
                            "isDefault": False,
                            "isInitial": True,
                            "name": self.initial,
                            "type": "Managed",
                        },
                    ],
                    "technicalNotificationMails": [f"security@{self.domain}"],
                }
            )
        ]
        if h:
            data[f"/organization/{self.tenant_id}/branding"] = {
                "id": "0",
                "signInPageText": "Acme Security",
                "loginPageTextVisibilitySettings": {
                    "hideKeepMeSignedIn": True,
                    "hideCannotAccessYourAccount": False,
                },
            }
        data["/directory/onPremisesSynchronization"] = (
            []
            if h
            else [
                {
                    "id": self.tenant_id,
                    "configuration": {"accidentalDeletionPrevention": {"alertThreshold": 500}},
                    "features": {"passwordSyncEnabled": False, "passwordWritebackEnabled": False},
                }
            ]
        )
        data["/domains"] = [
            _compact(
                {
                    "id": self.domain,
                    "authenticationType": "Managed",
                    "isDefault": True,
                    "isInitial": False,
                    "isRoot": True,
                    "isVerified": True,
                    "passwordValidityPeriodInDays": 2147483647 if h else 90,
                    "supportedServices": ["Email", "OfficeCommunicationsOnline"],
                }
            ),
            {
                "id": self.initial,
                "authenticationType": "Managed",
                "isDefault": False,
                "isInitial": True,
                "isRoot": True,
                "isVerified": True,
                "passwordValidityPeriodInDays": 2147483647,
                "supportedServices": ["Email", "OfficeCommunicationsOnline"],
            },
        ]
        data["/subscribedSkus"] = [
            {
                "id": f"{self.tenant_id}_{sku}",
                "accountId": self.tenant_id,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 6,
                "skuId": sku,
                "skuPartNumber": part,
                "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [
                    {
                        "servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
                        "servicePlanName": "AAD_PREMIUM",
                        "provisioningStatus": "Success",
                        "appliesTo": "User",
                    },
                    {
                        "servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998",
                        "servicePlanName": "AAD_PREMIUM_P2",
                        "provisioningStatus": "Success",
                        "appliesTo": "User",
                    },
                ],
            }
            for sku, part in (SKU_E5, SKU_P2)
        ]
        data["/users"] = self.users
        data["/reports/authenticationMethods/userRegistrationDetails"] = self.registration
        for uid, requirement in self.requirements.items():
            data[f"/users/{uid}/authentication/requirements"] = requirement
        for uid, rules in self.rules.items():
            data[f"/users/{uid}/mailFolders/inbox/messageRules"] = rules
        data.update(self.roles())
        data.update(self.conditional_access())
        data.update(self.policies())
        data.update(self.apps())
        data.update(self.groups())
        data.update(self.workloads())
        return data

    def roles(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        roles = []
        for n, (template, members) in enumerate(sorted(self.role_members.items())):
            rid = f"dr-{n}"
            roles.append(
                {
                    "id": rid,
                    "displayName": ROLE_NAMES.get(template, template),
                    "roleTemplateId": template,
                    "description": f"{ROLE_NAMES.get(template, template)} role.",
                }
            )
            data[f"/directoryRoles/{rid}/members"] = [self.member(uid) for uid in members]
        data["/directoryRoles"] = roles
        data["/roleManagement/directory/roleDefinitions"] = [
            {
                "id": template,
                "templateId": template,
                "displayName": name,
                "isBuiltIn": True,
                "isEnabled": True,
            }
            for template, name in ROLE_NAMES.items()
        ]
        assignments = []
        instances = []
        eligible = []
        for template, members in sorted(self.role_members.items()):
            for uid in members:
                permanent = not self.hardened or uid.startswith("h-bg")
                assignments.append(
                    {
                        "id": f"ra-{template[:8]}-{uid}",
                        "principalId": uid,
                        "roleDefinitionId": template,
                        "directoryScopeId": "/",
                        "principal": self.principal(uid),
                    }
                )
                if permanent:
                    instances.append(
                        {
                            "id": f"rai-{template[:8]}-{uid}",
                            "principalId": uid,
                            "roleDefinitionId": template,
                            "directoryScopeId": "/",
                            "assignmentType": "Assigned",
                            "memberType": "Direct",
                            "startDateTime": "2024-04-01T00:00:00Z",
                            "principal": self.principal(uid),
                        }
                    )
                else:
                    eligible.append(
                        {
                            "id": f"res-{template[:8]}-{uid}",
                            "principalId": uid,
                            "roleDefinitionId": template,
                            "directoryScopeId": "/",
                            "memberType": "Direct",
                            "status": "Provisioned",
                            "scheduleInfo": {
                                "startDateTime": "2025-04-01T00:00:00Z",
                                "expiration": {
                                    "type": "afterDateTime",
                                    "endDateTime": _later(180),
                                },
                            },
                            "principal": self.principal(uid),
                        }
                    )
        if self.hardened:
            # the security administrator may activate Global Administrator when needed
            eligible.append(
                {
                    "id": "res-ga-h-adm",
                    "principalId": "h-adm",
                    "roleDefinitionId": GLOBAL_ADMIN,
                    "directoryScopeId": "/",
                    "memberType": "Direct",
                    "status": "Provisioned",
                    "scheduleInfo": {
                        "startDateTime": "2025-04-01T00:00:00Z",
                        "expiration": {"type": "afterDateTime", "endDateTime": _later(180)},
                    },
                    "principal": self.principal("h-adm"),
                }
            )
        if not self.hardened:
            # an automation account holding Global Administrator: a service principal
            assignments.append(
                {
                    "id": "ra-sp-ga",
                    "principalId": "sp-backup",
                    "roleDefinitionId": GLOBAL_ADMIN,
                    "directoryScopeId": "/",
                    "principal": {
                        "@odata.type": "#microsoft.graph.servicePrincipal",
                        "id": "sp-backup",
                        "displayName": "CloudBackup Pro",
                        "appId": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    },
                }
            )
        data["/roleManagement/directory/roleAssignments"] = assignments
        data["/roleManagement/directory/roleAssignmentScheduleInstances"] = instances
        data["/roleManagement/directory/roleEligibilitySchedules"] = eligible
        data["/policies/roleManagementPolicyAssignments"] = [
            self.pim_policy(GLOBAL_ADMIN),
            self.pim_policy(PRIVILEGED_ROLE_ADMIN),
        ]
        reviews = []
        if self.hardened:
            monthly = {
                "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 1},
                "range": {"type": "noEnd", "startDate": "2025-04-01"},
            }
            reviews = [
                {
                    "id": "ar-guests",
                    "displayName": "Guests in Microsoft 365 groups",
                    "status": "InProgress",
                    "scope": {
                        "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                        "query": "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
                        "queryType": "MicrosoftGraph",
                    },
                    "instanceEnumerationScope": {
                        "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                        "query": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))",
                        "queryType": "MicrosoftGraph",
                    },
                    "reviewers": [{"query": "./owners", "queryType": "MicrosoftGraph"}],
                    "settings": {
                        "mailNotificationsEnabled": True,
                        "reminderNotificationsEnabled": True,
                        "justificationRequiredOnApproval": True,
                        "defaultDecisionEnabled": True,
                        "defaultDecision": "Deny",
                        "instanceDurationInDays": 14,
                        "autoApplyDecisionsEnabled": True,
                        "recommendationsEnabled": True,
                        "recurrence": monthly,
                    },
                },
                *(self.role_review(n, role, monthly) for n, role in enumerate(REVIEWED_ROLES)),
            ]
        data["/identityGovernance/accessReviews/definitions"] = reviews
        data["/identityProtection/riskyUsers"] = (
            []
            if self.hardened
            else [
                {
                    "id": "m-u1",
                    "isDeleted": False,
                    "isProcessing": False,
                    "riskLastUpdatedDateTime": _when(4),
                    "riskLevel": "high",
                    "riskState": "atRisk",
                    "riskDetail": "none",
                    "userDisplayName": "Sato Kenji",
                    "userPrincipalName": f"kenji@{self.domain}",
                },
                {
                    "id": "m-u2",
                    "isDeleted": False,
                    "isProcessing": False,
                    "riskLastUpdatedDateTime": _when(40),
                    "riskLevel": "none",
                    "riskState": "remediated",
                    "riskDetail": "userPerformedSecuredPasswordChange",
                    "userDisplayName": "Ito Mika",
                    "userPrincipalName": f"mika@{self.domain}",
                },
            ]
        )
        return data

    @staticmethod
    def role_review(n: int, role: str, recurrence: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"ar-role-{n}",
            "displayName": f"Monthly review: {ROLE_NAMES.get(role, role)}",
            "status": "InProgress",
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
                        "query": f"/roleManagement/directory/roleDefinitions/{role}",
                        "queryType": "MicrosoftGraph",
                    }
                ],
            },
            "reviewers": [{"query": "/users/h-adm", "queryType": "MicrosoftGraph"}],
            "settings": {
                "mailNotificationsEnabled": True,
                "justificationRequiredOnApproval": True,
                "defaultDecisionEnabled": True,
                "defaultDecision": "Deny",
                "instanceDurationInDays": 14,
                "autoApplyDecisionsEnabled": True,
                "recurrence": recurrence,
            },
        }

    def pim_policy(self, role: str) -> dict[str, Any]:
        h = self.hardened
        recipients = [f"security@{self.domain}"] if h else []

        def notification(rule_id: str, level: str, kind: str) -> dict[str, Any]:
            return {
                "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule",
                "id": rule_id,
                "notificationType": "Email",
                "recipientType": kind,
                "notificationLevel": level,
                "isDefaultRecipientsEnabled": True,
                "notificationRecipients": recipients,
                "target": {"caller": "Admin", "operations": ["all"], "level": "Assignment"},
            }

        return {
            "id": f"Directory_{self.tenant_id}_{role}",
            "policyId": f"Directory_{self.tenant_id}_{role[:8]}",
            "scopeId": "/",
            "scopeType": "DirectoryRole",
            "roleDefinitionId": role,
            "policy": {
                "id": f"Directory_{self.tenant_id}_{role[:8]}",
                "displayName": "DirectoryRole",
                "isOrganizationDefault": False,
                "rules": [
                    {
                        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
                        "id": "Approval_EndUser_Assignment",
                        "target": {
                            "caller": "EndUser",
                            "operations": ["all"],
                            "level": "Assignment",
                        },
                        "setting": {
                            "isApprovalRequired": h,
                            "isApprovalRequiredForExtension": False,
                            "isRequestorJustificationRequired": True,
                            "approvalMode": "SingleStage",
                            "approvalStages": [
                                {
                                    "approvalStageTimeOutInDays": 1,
                                    "isApproverJustificationRequired": True,
                                    "escalationTimeInMinutes": 0,
                                    "isEscalationEnabled": False,
                                    "primaryApprovers": [
                                        {
                                            "@odata.type": "#microsoft.graph.singleUser",
                                            "userId": "h-adm",
                                        }
                                    ]
                                    if h
                                    else [],
                                    "escalationApprovers": [],
                                }
                            ],
                        },
                    },
                    {
                        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
                        "id": "Expiration_Admin_Eligibility",
                        "isExpirationRequired": h,
                        "maximumDuration": "P180D" if h else "P365D",
                        "target": {
                            "caller": "Admin",
                            "operations": ["all"],
                            "level": "Eligibility",
                        },
                    },
                    {
                        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
                        "id": "Expiration_Admin_Assignment",
                        "isExpirationRequired": h,
                        "maximumDuration": "P15D" if h else "P180D",
                        "target": {"caller": "Admin", "operations": ["all"], "level": "Assignment"},
                    },
                    notification("Notification_Admin_Admin_Eligibility", "All", "Admin"),
                    notification("Notification_Admin_Admin_Assignment", "All", "Admin"),
                    notification("Notification_Admin_EndUser_Assignment", "All", "Admin"),
                ],
            },
        }

    def conditional_access(self) -> dict[str, Any]:
        everyone = {"includeUsers": ["All"], "excludeUsers": ["h-bg1", "h-bg2"]}
        apps = {"includeApplications": ["All"]}

        def ca(
            pid: str,
            name: str,
            conditions: dict[str, Any],
            grant: dict[str, Any] | None = None,
            session: dict[str, Any] | None = None,
            state: str = "enabled",
        ) -> dict[str, Any]:
            base = {"clientAppTypes": ["all"], "applications": apps, "users": everyone}
            return _compact(
                {
                    "id": pid,
                    "displayName": name,
                    "state": state,
                    "createdDateTime": "2025-05-01T00:00:00Z",
                    "conditions": base | conditions,
                    "grantControls": grant,
                    "sessionControls": session,
                }
            )

        mfa = {"operator": "OR", "builtInControls": ["mfa"]}
        block = {"operator": "OR", "builtInControls": ["block"]}
        strong = {
            "operator": "OR",
            "builtInControls": [],
            "authenticationStrength": {
                "id": PHISHING_RESISTANT,
                "displayName": "Phishing-resistant MFA",
                "allowedCombinations": [
                    "windowsHelloForBusiness",
                    "fido2",
                    "x509CertificateMultiFactor",
                ],
            },
        }
        admins = {"includeRoles": ADMIN_ROLES, "excludeUsers": ["h-bg1", "h-bg2"]}
        every_time = {
            "isEnabled": True,
            "frequencyInterval": "everyTime",
            "authenticationType": "primaryAndSecondaryAuthentication",
        }
        if not self.hardened:
            policies = [
                ca(
                    "ca-m1",
                    "Require MFA for admins (pilot)",
                    {"users": {"includeRoles": [GLOBAL_ADMIN]}},
                    mfa,
                    state="enabledForReportingButNotEnforced",
                ),
                ca("ca-m2", "MFA for Sales", {"users": {"includeGroups": ["g-sales"]}}, mfa),
                ca(
                    "ca-m3",
                    "Block legacy authentication (draft)",
                    {"clientAppTypes": ["exchangeActiveSync", "other"]},
                    block,
                    state="disabled",
                ),
            ]
        else:
            policies = [
                ca(
                    "ca-h1",
                    "Phishing-resistant MFA for admins",
                    {"users": admins},
                    strong,
                    {
                        "signInFrequency": {
                            "isEnabled": True,
                            "type": "hours",
                            "value": 4,
                            "frequencyInterval": "timeBased",
                            "authenticationType": "primaryAndSecondaryAuthentication",
                        },
                        "persistentBrowser": {"isEnabled": True, "mode": "never"},
                    },
                ),
                ca(
                    "ca-h2",
                    "Phishing-resistant MFA for everyone",
                    {},
                    strong,
                    {
                        "signInFrequency": {
                            "isEnabled": True,
                            "type": "days",
                            "value": 7,
                            "frequencyInterval": "timeBased",
                            "authenticationType": "primaryAndSecondaryAuthentication",
                        }
                    },
                ),
                ca("ca-h2b", "MFA for everyone", {}, mfa),
                ca(
                    "ca-h3",
                    "Block legacy authentication",
                    {"clientAppTypes": ["exchangeActiveSync", "other"]},
                    block,
                ),
                ca(
                    "ca-h4",
                    "Block device code flow and authentication transfer",
                    {
                        "authenticationFlows": {
                            "transferMethods": "deviceCodeFlow,authenticationTransfer"
                        }
                    },
                    block,
                ),
                ca("ca-h5", "High user risk: block", {"userRiskLevels": ["high"]}, block),
                ca(
                    "ca-h5b",
                    "User risk: secure password change",
                    {"userRiskLevels": ["high"]},
                    {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]},
                    {"signInFrequency": every_time},
                ),
                ca(
                    "ca-h6",
                    "Risky sign-ins: block",
                    {"signInRiskLevels": ["high", "medium"]},
                    block,
                ),
                ca(
                    "ca-h6b",
                    "Risky sign-ins: MFA every time",
                    {"signInRiskLevels": ["high", "medium"]},
                    mfa,
                    {"signInFrequency": every_time},
                ),
                ca(
                    "ca-h7",
                    "Managed devices only",
                    {},
                    {
                        "operator": "OR",
                        "builtInControls": ["compliantDevice", "domainJoinedDevice"],
                    },
                ),
                ca(
                    "ca-h8",
                    "Register security information from managed devices",
                    {"applications": {"includeUserActions": ["urn:user:registersecurityinfo"]}},
                    {
                        "operator": "OR",
                        "builtInControls": ["compliantDevice", "domainJoinedDevice"],
                    },
                ),
                ca(
                    "ca-h9",
                    "Intune enrollment: sign in every time",
                    {"applications": {"includeApplications": [INTUNE_ENROLLMENT_APP]}},
                    mfa,
                    {"signInFrequency": every_time},
                ),
                ca(
                    "ca-h10",
                    "Block untrusted locations",
                    {
                        "locations": {
                            "includeLocations": ["All"],
                            "excludeLocations": ["AllTrusted"],
                        }
                    },
                    block,
                ),
                ca(
                    "ca-h11",
                    "Token protection for Windows sign-ins",
                    {
                        "applications": {
                            "includeApplications": [
                                "00000002-0000-0ff1-ce00-000000000000",
                                "00000003-0000-0ff1-ce00-000000000000",
                            ]
                        },
                        "clientAppTypes": ["mobileAppsAndDesktopClients"],
                        "platforms": {"includePlatforms": ["windows"]},
                    },
                    None,
                    {"secureSignInSession": {"isEnabled": True}},
                ),
            ]
        locations = [
            {
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": "nl-1",
                "displayName": "Tokyo head office",
                "isTrusted": self.hardened,
                "ipRanges": [
                    {
                        "@odata.type": "#microsoft.graph.iPv4CidrRange",
                        "cidrAddress": "203.0.113.0/24",
                    }
                ],
            }
        ]
        return {
            "/identity/conditionalAccess/policies": policies,
            "/identity/conditionalAccess/namedLocations": locations,
        }

    def policies(self) -> dict[str, Any]:
        h = self.hardened

        def method(kind: str, mid: str, state: str, **extra: Any) -> dict[str, Any]:
            return {
                "@odata.type": f"#microsoft.graph.{kind}AuthenticationMethodConfiguration",
                "id": mid,
                "state": state,
                **extra,
            }

        targets = [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}]
        feature = {
            "displayAppInformationRequiredState": {
                "state": "enabled" if h else "default",
                "includeTarget": {"targetType": "group", "id": "all_users"},
            },
            "displayLocationInformationRequiredState": {
                "state": "enabled" if h else "disabled",
                "includeTarget": {"targetType": "group", "id": "all_users"},
            },
            "companionAppAllowedState": {
                "state": "disabled" if h else "default",
                "includeTarget": {"targetType": "group", "id": "all_users"},
            },
        }
        authenticator = method(
            "microsoftAuthenticator",
            "MicrosoftAuthenticator",
            "enabled",
            isSoftwareOathEnabled=False,
            featureSettings=feature,
            includeTargets=targets,
        )
        configurations = [
            method("fido2", "Fido2", "enabled", isAttestationEnforced=True, includeTargets=targets),
            authenticator,
            method("sms", "Sms", "disabled" if h else "enabled", includeTargets=targets),
            method("voice", "Voice", "disabled" if h else "enabled", includeTargets=targets),
            method(
                "email",
                "Email",
                "disabled" if h else "enabled",
                allowExternalIdToUseEmailOtp="default",
            ),
            method("temporaryAccessPass", "TemporaryAccessPass", "enabled", isUsableOnce=True),
        ]
        password_rules = {
            "id": "gs-pw",
            "displayName": "Password Rule Settings",
            "templateId": "5cf42378-d67d-4f36-ba46-e8b86229381d",
            "values": [
                {"name": "BannedPasswordCheckOnPremisesMode", "value": "Enforce" if h else "Audit"},
                {"name": "EnableBannedPasswordCheckOnPremises", "value": "True"},
                {"name": "EnableBannedPasswordCheck", "value": "True" if h else "False"},
                {"name": "LockoutDurationInSeconds", "value": "60" if h else "30"},
                {"name": "LockoutThreshold", "value": "10" if h else "50"},
                {"name": "BannedPasswordList", "value": "acme\tacme2026\tpassword" if h else ""},
            ],
        }
        unified = {
            "id": "gs-unified",
            "displayName": "Group.Unified",
            "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
            "values": [
                {"name": "EnableGroupCreation", "value": "false"},
                {"name": "GroupCreationAllowedGroupId", "value": "g-creators"},
                {"name": "AllowGuestsToAccessGroups", "value": "true"},
                {"name": "EnableMIPLabels", "value": "true"},
            ],
        }
        timeout = json.dumps(
            {
                "ActivityBasedTimeoutPolicy": {
                    "Version": 1,
                    "ApplicationPolicies": [
                        {"ApplicationId": "default", "WebSessionIdleTimeout": "01:00:00"}
                    ],
                }
            }
        )
        credential = [
            {
                "restrictionType": "passwordAddition",
                "state": "enabled",
                "maxLifetime": None,
                "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
            },
            {
                "restrictionType": "passwordLifetime",
                "state": "enabled",
                "maxLifetime": "P90D",
                "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
            },
            {
                "restrictionType": "customPasswordAddition",
                "state": "enabled",
                "maxLifetime": None,
                "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
            },
        ]
        keys = [
            {
                "restrictionType": "asymmetricKeyLifetime",
                "state": "enabled",
                "maxLifetime": "P180D",
                "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z",
            },
        ]
        return {
            "/policies/identitySecurityDefaultsEnforcementPolicy": {
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms.",
                "isEnabled": False,
            },
            "/policies/authorizationPolicy": {
                "id": "authorizationPolicy",
                "displayName": "Authorization Policy",
                "allowInvitesFrom": "adminsAndGuestInviters" if h else "everyone",
                "allowedToSignUpEmailBasedSubscriptions": not h,
                "allowedToUseSSPR": True,
                "allowEmailVerifiedUsersToJoinOrganization": False,
                "blockMsolPowerShell": h,
                "guestUserRoleId": "2af84b1e-32c8-42b7-82bc-daa82404023b"
                if h
                else "a0b1b346-4d3e-4e8b-98f8-753987be4970",
                "defaultUserRolePermissions": {
                    "allowedToCreateApps": not h,
                    "allowedToCreateSecurityGroups": not h,
                    "allowedToCreateTenants": not h,
                    "allowedToReadBitlockerKeysForOwnedDevice": not h,
                    "allowedToReadOtherUsers": True,
                    "permissionGrantPoliciesAssigned": []
                    if h
                    else ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
                },
                "permissionGrantPolicyIdsAssignedToDefaultUserRole": []
                if h
                else ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
            },
            "/policies/authenticationMethodsPolicy": _compact(
                {
                    "id": "authenticationMethodsPolicy",
                    "displayName": "Authentication Methods Policy",
                    "policyVersion": "1.5",
                    "policyMigrationState": "migrationComplete" if h else "preMigration",
                    "registrationEnforcement": {
                        "authenticationMethodsRegistrationCampaign": {
                            "state": "enabled" if h else "default",
                            "snoozeDurationInDays": 1,
                            "includeTargets": [],
                        }
                    },
                    "systemCredentialPreferences": {
                        "state": "enabled" if h else "disabled",
                        "includeTargets": [{"targetType": "group", "id": "all_users"}],
                        "excludeTargets": [],
                    },
                    "authenticationMethodConfigurations": configurations,
                }
            ),
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator": authenticator,
            "/policies/adminConsentRequestPolicy": {
                "isEnabled": h,
                "notifyReviewers": h,
                "remindersEnabled": h,
                "requestDurationInDays": 30 if h else 0,
                "reviewers": [{"query": "/users/h-adm", "queryType": "MicrosoftGraph"}]
                if h
                else [],
                "version": 1,
            },
            "/groupSettings": [password_rules, unified] if h else [password_rules],
            "/policies/activityBasedTimeoutPolicies": [
                {
                    "id": "abt-1",
                    "displayName": "DefaultTimeoutPolicy",
                    "isOrganizationDefault": True,
                    "definition": [timeout],
                }
            ]
            if h
            else [],
            "/policies/defaultAppManagementPolicy": {
                "id": "00000000-0000-0000-0000-000000000000",
                "displayName": "Default app management tenant policy",
                "description": "Default tenant policy that enforces app management restrictions.",
                "isEnabled": h,
                "applicationRestrictions": {
                    "passwordCredentials": credential if h else [],
                    "keyCredentials": keys if h else [],
                },
                "servicePrincipalRestrictions": {
                    "passwordCredentials": credential if h else [],
                    "keyCredentials": keys if h else [],
                },
            },
            "/policies/deviceRegistrationPolicy": {
                "id": "deviceRegistrationPolicy",
                "displayName": "Device Registration Policy",
                "description": "Tenant-wide policy that manages initial provisioning controls.",
                "userDeviceQuota": 10 if h else 50,
                "multiFactorAuthConfiguration": "required" if h else "notRequired",
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
                        "groups": ["g-device-joiners"],
                    }
                    if h
                    else {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                    "localAdmins": {
                        "enableGlobalAdmins": not h,
                        "registeringUsers": {
                            "@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"
                        }
                        if h
                        else {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                    },
                },
                "localAdminPassword": {"isEnabled": h},
            },
            "/policies/crossTenantAccessPolicy/default": self.cross_tenant(),
            "/policies/crossTenantAccessPolicy/partners": [],
            "/legacy/policies": [
                {
                    "id": "b2b-1",
                    "displayName": "B2BManagementPolicy",
                    "type": "B2BManagementPolicy",
                    "isOrganizationDefault": True,
                    "definition": [
                        json.dumps(
                            {
                                "B2BManagementPolicy": {
                                    "InvitationsAllowedAndBlockedDomainsPolicy": {
                                        "AllowedDomains": ["partner.example"]
                                    }
                                    if h
                                    else {"BlockedDomains": []},
                                    "AutoRedeemPolicy": {"AdminConsentedForUsersIntoTenantIds": []},
                                }
                            }
                        )
                    ],
                }
            ],
        }

    def cross_tenant(self) -> dict[str, Any]:
        allowed = {
            "accessType": "allowed",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        }
        blocked = {
            "accessType": "blocked",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        }
        apps_allowed = {
            "accessType": "allowed",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        }
        apps_blocked = {
            "accessType": "blocked",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        }
        return {
            "isServiceDefault": not self.hardened,
            "inboundTrust": {
                "isMfaAccepted": False,
                "isCompliantDeviceAccepted": False,
                "isHybridAzureADJoinedDeviceAccepted": False,
            },
            "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
            "b2bCollaborationOutbound": {"usersAndGroups": allowed, "applications": apps_allowed},
            "b2bCollaborationInbound": {"usersAndGroups": allowed, "applications": apps_allowed},
            "b2bDirectConnectOutbound": {"usersAndGroups": blocked, "applications": apps_blocked},
            "b2bDirectConnectInbound": {"usersAndGroups": blocked, "applications": apps_blocked},
        }

    def apps(self) -> dict[str, Any]:
        h = self.hardened
        graph_roles = [
            {
                "id": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
                "value": "Mail.Read",
                "allowedMemberTypes": ["Application"],
                "displayName": "Read mail in all mailboxes",
                "isEnabled": True,
                "description": "Read mail.",
            },
            {
                "id": "75359482-378d-4052-8f01-80520e7db3cd",
                "value": "Files.ReadWrite.All",
                "allowedMemberTypes": ["Application"],
                "displayName": "Read and write files in all site collections",
                "isEnabled": True,
                "description": "Files.",
            },
            {
                "id": "df021288-bdef-4463-88db-98f22de89214",
                "value": "User.Read.All",
                "allowedMemberTypes": ["Application"],
                "displayName": "Read all users' full profiles",
                "isEnabled": True,
                "description": "Users.",
            },
        ]
        sps: list[dict[str, Any]] = [
            {
                "id": "sp-graph",
                "appId": GRAPH_APP_ID,
                "displayName": "Microsoft Graph",
                "appOwnerOrganizationId": MICROSOFT_TENANT,
                "servicePrincipalType": "Application",
                "accountEnabled": True,
                "appRoleAssignmentRequired": False,
                "verifiedPublisher": {},
                "tags": [],
                "passwordCredentials": [],
                "keyCredentials": [],
                "createdDateTime": "2024-04-01T00:00:00Z",
                "appRoles": graph_roles,
            },
            {
                "id": "sp-teams-helper",
                "appId": "11112222-3333-4444-5555-666677778888",
                "displayName": "Meeting Notes Assistant",
                "appOwnerOrganizationId": "7a7a7a7a-1b1b-4c4c-8d8d-9e9e9e9e9e9e",
                "servicePrincipalType": "Application",
                "accountEnabled": True,
                "appRoleAssignmentRequired": False,
                "publisherName": "Notes Co",
                "verifiedPublisher": {
                    "displayName": "Notes Co",
                    "verifiedPublisherId": "5017345",
                    "addedDateTime": "2024-02-01T00:00:00Z",
                },
                "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
                "passwordCredentials": [],
                "keyCredentials": [],
                "createdDateTime": "2025-06-01T00:00:00Z",
                "appRoles": [],
            },
        ]
        grants: list[dict[str, Any]] = [
            {
                "id": "grant-notes",
                "clientId": "sp-teams-helper",
                "consentType": "Principal",
                "principalId": "h-u1" if h else "m-u2",
                "resourceId": "sp-graph",
                "scope": "openid profile User.Read Calendars.Read",
            }
        ]
        assignments: dict[str, list[dict[str, Any]]] = {"sp-graph": [], "sp-teams-helper": []}
        applications: list[dict[str, Any]] = [
            {
                "id": "app-intranet",
                "appId": "aaaa1111-2222-4333-8444-555566667777",
                "displayName": "Intranet portal",
                "signInAudience": "AzureADMyOrg",
                "publisherDomain": self.domain,
                "createdDateTime": "2025-01-10T00:00:00Z",
                "passwordCredentials": [],
                "keyCredentials": [
                    {
                        "keyId": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                        "displayName": "CN=intranet",
                        "type": "AsymmetricX509Cert",
                        "usage": "Verify",
                        "startDateTime": _when(60),
                        "endDateTime": _later(300),
                    }
                ],
                "requiredResourceAccess": [],
            }
        ]
        if not h:
            sps.append(
                {
                    "id": "sp-mailsync",
                    "appId": "99998888-7777-4666-9555-444433332222",
                    "displayName": "MailSync Free",
                    "appOwnerOrganizationId": "0f0f0f0f-1e1e-4d2d-8c3c-4b4b4b4b4b4b",
                    "servicePrincipalType": "Application",
                    "accountEnabled": True,
                    "appRoleAssignmentRequired": False,
                    "publisherName": "MailSync",
                    "verifiedPublisher": {},
                    "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
                    "passwordCredentials": [],
                    "keyCredentials": [],
                    "createdDateTime": _when(20),
                    "appRoles": [],
                }
            )
            sps.append(
                {
                    "id": "sp-backup",
                    "appId": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "displayName": "CloudBackup Pro",
                    "appOwnerOrganizationId": "2c2c2c2c-3d3d-4e4e-8f5f-6a6a6a6a6a6a",
                    "servicePrincipalType": "Application",
                    "accountEnabled": True,
                    "appRoleAssignmentRequired": False,
                    "publisherName": "CloudBackup",
                    "verifiedPublisher": {
                        "displayName": "CloudBackup Inc.",
                        "verifiedPublisherId": "6123456",
                        "addedDateTime": "2023-02-01T00:00:00Z",
                    },
                    "tags": [],
                    "passwordCredentials": [],
                    "keyCredentials": [],
                    "createdDateTime": "2025-03-01T00:00:00Z",
                    "appRoles": [],
                }
            )
            grants.append(
                {
                    "id": "grant-mailsync",
                    "clientId": "sp-mailsync",
                    "consentType": "AllPrincipals",
                    "resourceId": "sp-graph",
                    "scope": "openid offline_access Mail.ReadWrite Mail.Send Files.ReadWrite.All",
                }
            )
            assignments["sp-mailsync"] = []
            assignments["sp-backup"] = [
                {
                    "id": "ara-backup-1",
                    "appRoleId": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
                    "principalDisplayName": "CloudBackup Pro",
                    "principalId": "sp-backup",
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph",
                    "resourceId": "sp-graph",
                    "createdDateTime": "2025-03-01T00:00:00Z",
                },
                {
                    "id": "ara-backup-2",
                    "appRoleId": "75359482-378d-4052-8f01-80520e7db3cd",
                    "principalDisplayName": "CloudBackup Pro",
                    "principalId": "sp-backup",
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph",
                    "resourceId": "sp-graph",
                    "createdDateTime": "2025-03-01T00:00:00Z",
                },
            ]
            applications.append(
                {
                    "id": "app-legacy-sync",
                    "appId": "bbbb1111-2222-4333-8444-555566667777",
                    "displayName": "Legacy HR sync",
                    "signInAudience": "AzureADMultipleOrgs",
                    "publisherDomain": self.domain,
                    "createdDateTime": "2022-05-10T00:00:00Z",
                    "passwordCredentials": [
                        {
                            "keyId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                            "displayName": "forever",
                            "hint": "k7Q",
                            "startDateTime": "2022-05-10T00:00:00Z",
                            "endDateTime": "2299-12-31T00:00:00Z",
                        },
                        {
                            "keyId": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                            "displayName": "old",
                            "hint": "x9P",
                            "startDateTime": "2022-05-10T00:00:00Z",
                            "endDateTime": "2024-05-10T00:00:00Z",
                        },
                    ],
                    "keyCredentials": [],
                    "requiredResourceAccess": [
                        {
                            "resourceAppId": GRAPH_APP_ID,
                            "resourceAccess": [
                                {"id": "df021288-bdef-4463-88db-98f22de89214", "type": "Role"}
                            ],
                        }
                    ],
                }
            )
        else:
            sps.append(
                {
                    "id": "sp-3ps",
                    "appId": THIRD_PARTY_STORAGE_APP,
                    "displayName": "Microsoft 365 Third Party Storage",
                    "appOwnerOrganizationId": MICROSOFT_TENANT,
                    "servicePrincipalType": "Application",
                    "accountEnabled": False,
                    "appRoleAssignmentRequired": False,
                    "verifiedPublisher": {},
                    "tags": [],
                    "passwordCredentials": [],
                    "keyCredentials": [],
                    "createdDateTime": "2025-04-01T00:00:00Z",
                    "appRoles": [],
                }
            )
            assignments["sp-3ps"] = []
        data: dict[str, Any] = {
            "/servicePrincipals": sps,
            "/oauth2PermissionGrants": grants,
            "/applications": applications,
        }
        for sp, items in assignments.items():
            data[f"/servicePrincipals/{sp}/appRoleAssignments"] = items
        return data

    def groups(self) -> dict[str, Any]:
        def group(gid: str, name: str, *, unified: bool, visibility: str | None) -> dict[str, Any]:
            return _compact(
                {
                    "id": gid,
                    "displayName": name,
                    "groupTypes": ["Unified"] if unified else [],
                    "visibility": visibility,
                    "securityEnabled": not unified,
                    "mailEnabled": unified,
                    "isAssignableToRole": False,
                    "createdDateTime": "2025-02-01T00:00:00Z",
                }
            )

        groups = [
            group("g-sales", "Sales", unified=True, visibility="Private"),
            group("g-creators", "Group creators", unified=False, visibility=None),
        ]
        members = {"g-sales": ["h-u1"] if self.hardened else ["m-u1", "m-u2"], "g-creators": []}
        if not self.hardened:
            groups.append(group("g-project", "Project Sakura", unified=True, visibility="Public"))
            members["g-project"] = ["m-u1", "m-guest"]
        data: dict[str, Any] = {"/groups": groups}
        for gid, uids in members.items():
            data[f"/groups/{gid}/members"] = [self.member(uid) for uid in uids]
        return data

    def workloads(self) -> dict[str, Any]:
        h = self.hardened
        platform = {
            "platformBlocked": False,
            "personalDeviceEnrollmentBlocked": h,
            "osMinimumVersion": None,
            "osMaximumVersion": None,
        }
        return {
            "/admin/appsAndServices": {
                "settings": {"isAppAndServicesTrialEnabled": not h, "isOfficeStoreEnabled": not h}
            },
            "/admin/forms": {
                "settings": {
                    "isExternalSendFormEnabled": False,
                    "isExternalShareCollaborationEnabled": False,
                    "isExternalShareResultEnabled": False,
                    "isExternalShareTemplateEnabled": False,
                    "isRecordIdentityByDefaultEnabled": True,
                    "isBingImageSearchEnabled": True,
                    "isInOrgFormsPhishingScanEnabled": h,
                }
            },
            "/deviceManagement": {
                "id": self.tenant_id,
                "settings": {
                    "deviceComplianceCheckinThresholdDays": 30,
                    "isScheduledActionEnabled": True,
                    "secureByDefault": h,
                },
            },
            "/deviceManagement/deviceEnrollmentConfigurations": [
                {
                    "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                    "id": f"{self.tenant_id}_DefaultPlatformRestrictions",
                    "displayName": "All users and all devices",
                    "description": "This is the default Device Type Restriction applied with the lowest priority to all users regardless of group membership.",
                    "priority": 0,
                    "version": 1,
                    "iosRestriction": platform,
                    "windowsRestriction": platform,
                    "windowsMobileRestriction": platform,
                    "androidRestriction": platform,
                    "androidForWorkRestriction": platform,
                    "macOSRestriction": platform,
                },
                {
                    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                    "id": f"{self.tenant_id}_DefaultLimit",
                    "displayName": "All users and all devices",
                    "priority": 0,
                    "version": 1,
                    "limit": 5,
                },
            ],
            "/admin/sharepoint/settings": {
                "sharingCapability": "existingExternalUserSharingOnly"
                if h
                else "externalUserAndGuestSharing",
                "sharingDomainRestrictionMode": "allowList" if h else "none",
                "sharingAllowedDomainList": ["partner.example"] if h else [],
                "sharingBlockedDomainList": [],
                "isResharingByExternalUsersEnabled": not h,
                "isLegacyAuthProtocolsEnabled": not h,
                "isUnmanagedSyncAppForTenantRestricted": h,
                "isSiteCreationEnabled": not h,
                "isCommentingOnSitePagesEnabled": True,
                "isFileActivityNotificationEnabled": True,
                "isLoopEnabled": True,
                "isMacSyncAppEnabled": True,
                "isRequireAcceptingUserToMatchInvitedUserEnabled": True,
                "isSitesStorageLimitAutomatic": True,
                "isSyncButtonHiddenOnPersonalSite": False,
                "personalSiteDefaultStorageLimitInMB": 1048576,
                "siteCreationDefaultManagedPath": "/sites/",
                "siteCreationDefaultStorageLimitInMB": 26214400,
                "tenantDefaultTimezone": "(UTC+09:00) Osaka, Sapporo, Tokyo",
                "idleSessionSignOut": {
                    "isEnabled": h,
                    "warnAfterInSeconds": 2700 if h else 0,
                    "signOutAfterInSeconds": 3600 if h else 0,
                },
                "allowedDomainGuidsForSyncApp": [],
                "availableManagedPathsForSiteCreation": ["/sites/", "/teams/"],
                "excludedFileExtensionsForSyncApp": [],
                "imageTaggingOption": "basic",
            },
            "/security/secureScores": [
                {
                    "id": f"{self.tenant_id}_{datetime.now(UTC):%Y-%m-%d}",
                    "azureTenantId": self.tenant_id,
                    "activeUserCount": 6,
                    "createdDateTime": _when(1),
                    "currentScore": 312.0 if h else 96.0,
                    "maxScore": 380.0,
                    "licensedUserCount": 25,
                    "enabledServices": ["HasExchange", "HasSharePoint", "HasOD4B"],
                    "averageComparativeScores": [
                        {"basis": "AllTenants", "averageScore": 38.5},
                        {
                            "basis": "TotalSeats",
                            "averageScore": 41.2,
                            "seatSizeRangeLowerValue": 6,
                            "seatSizeRangeUpperValue": 25,
                        },
                    ],
                    "controlScores": [
                        {
                            "controlCategory": "Identity",
                            "controlName": "AdminMFAV2",
                            "description": "Require MFA for administrative roles",
                            "score": 10.0 if h else 0.0,
                        },
                        {
                            "controlCategory": "Data",
                            "controlName": "mdo_safelinksforemail",
                            "description": "Safe Links for email",
                            "score": 8.0 if h else 0.0,
                        },
                    ],
                }
            ],
            "/security/secureScoreControlProfiles": [
                {
                    "id": "AdminMFAV2",
                    "azureTenantId": self.tenant_id,
                    "title": "Ensure multifactor authentication is enabled for all users in administrative roles",
                    "controlCategory": "Identity",
                    "actionType": "Config",
                    "service": "AzureAD",
                    "maxScore": 10.0,
                    "tier": "Core",
                    "userImpact": "Low",
                    "implementationCost": "Low",
                    "rank": 1,
                    "threats": ["accountBreach", "elevationOfPrivilege"],
                    "deprecated": False,
                    "remediation": "Require MFA for administrators with Conditional Access.",
                    "actionUrl": "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess",
                    "controlStateUpdates": [],
                }
            ],
        }


def tenant(*, hardened: bool) -> dict[str, Any]:
    """The Graph documents of one demo tenant, keyed by path (see module docstring)."""
    return _Tenant(hardened).build()
