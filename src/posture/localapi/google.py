"""A local Google server for the Workspace connector: OAuth token endpoint, Admin SDK
Directory and Reports (activities.list) and the Cloud Identity Policy API, over HTTPS with a
certificate made at start.

It answers in the documented shapes: ``pageToken`` / ``nextPageToken`` paging, empty lists
and fields omitted, the JWT-bearer grant verified against the service account's public key,
``unauthorized_client`` for a scope outside the delegation, 403
``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` for a token without the method's scope, and 429 with
``Retry-After``.

It also takes the documented writes setting repair uses: Groups Settings ``groups.update``
(PUT) and ``groups.patch`` (PATCH), answering the whole settings object, and Directory
``tokens.delete`` (DELETE, an empty answer). A second service account signs in for those
writes with its own key and delegation; ``read_only`` makes its writes answer 403
``PERMISSION_DENIED`` / ``insufficientPermissions`` without changing anything.
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from posture.localapi.tls import server_certificate

SCOPE = "https://www.googleapis.com/auth/"
USER_RO = SCOPE + "admin.directory.user.readonly"
ROLE_RO = SCOPE + "admin.directory.rolemanagement.readonly"
OU_RO = SCOPE + "admin.directory.orgunit.readonly"
DOMAIN_RO = SCOPE + "admin.directory.domain.readonly"
GROUP_RO = SCOPE + "admin.directory.group.readonly"
USER_SECURITY = SCOPE + "admin.directory.user.security"
POLICY_RO = SCOPE + "cloud-identity.policies.readonly"
MOBILE_RO = SCOPE + "admin.directory.device.mobile.readonly"
GROUP_SETTINGS = SCOPE + "apps.groups.settings"
REPORTS_RO = SCOPE + "admin.reports.audit.readonly"
USAGE_RO = SCOPE + "admin.reports.usage.readonly"
ALL_SCOPES = {
    REPORTS_RO,
    USAGE_RO,
    USER_RO,
    ROLE_RO,
    OU_RO,
    DOMAIN_RO,
    GROUP_RO,
    USER_SECURITY,
    POLICY_RO,
    MOBILE_RO,
    GROUP_SETTINGS,
}
CUSTOMER = "C03az79cb"
SCANNER_EMAIL = "scanner@posture-test.iam.gserviceaccount.com"
WRITER_EMAIL = "fixer@posture-test.iam.gserviceaccount.com"
# enumerations of the Groups Settings fields a write may set (the discovery document's values)
GROUP_ENUMS = {
    "whoCanJoin": {
        "ANYONE_CAN_JOIN",
        "ALL_IN_DOMAIN_CAN_JOIN",
        "INVITED_CAN_JOIN",
        "CAN_REQUEST_TO_JOIN",
    },
    "whoCanViewGroup": {
        "ANYONE_CAN_VIEW",
        "ALL_IN_DOMAIN_CAN_VIEW",
        "ALL_MEMBERS_CAN_VIEW",
        "ALL_MANAGERS_CAN_VIEW",
        "ALL_OWNERS_CAN_VIEW",
    },
    "whoCanViewMembership": {
        "ALL_IN_DOMAIN_CAN_VIEW",
        "ALL_MEMBERS_CAN_VIEW",
        "ALL_MANAGERS_CAN_VIEW",
        "ALL_OWNERS_CAN_VIEW",
    },
    "whoCanPostMessage": {
        "NONE_CAN_POST",
        "ALL_MANAGERS_CAN_POST",
        "ALL_MEMBERS_CAN_POST",
        "ALL_OWNERS_CAN_POST",
        "ALL_IN_DOMAIN_CAN_POST",
        "ANYONE_CAN_POST",
    },
    "whoCanDiscoverGroup": {
        "ANYONE_CAN_DISCOVER",
        "ALL_IN_DOMAIN_CAN_DISCOVER",
        "ALL_MEMBERS_CAN_DISCOVER",
    },
    "whoCanContactOwner": {
        "ALL_IN_DOMAIN_CAN_CONTACT",
        "ALL_MANAGERS_CAN_CONTACT",
        "ALL_MEMBERS_CAN_CONTACT",
        "ANYONE_CAN_CONTACT",
        "ALL_OWNERS_CAN_CONTACT",
    },
    "allowExternalMembers": {"true", "false"},
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _ago(days: float) -> str:
    """A Reports API time ``days`` before now (events are kept for 180 days)."""
    when = datetime.now(UTC) - timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def activity(
    app: str,
    name: str,
    actor: str,
    days: float,
    params: dict[str, Any],
    *,
    kind: str,
    n: int,
    ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """One Reports API activity in its documented shape (parameters as name/value pairs)."""
    parameters = []
    for key, value in params.items():
        field_name = (
            "boolValue"
            if isinstance(value, bool)
            else ("intValue" if isinstance(value, int) else "value")
        )
        parameters.append(
            {"name": key, field_name: str(value) if field_name == "intValue" else value}
        )
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": _ago(days),
            "uniqueQualifier": str(-7000000000000000000 + n),
            "applicationName": app,
            "customerId": CUSTOMER,
        },
        "etag": '"fake"',
        "actor": {"email": actor, "profileId": "1" + str(n).zfill(20)},
        "ownerDomain": "example.jp",
        "ipAddress": ip,
        "events": [{"type": kind, "name": name, "parameters": parameters}],
    }


def estate() -> dict[str, Any]:
    """A small customer: admins with and without 2SV, org units overriding their parents."""
    users = [
        {
            "id": "100",
            "primaryEmail": "alice@example.jp",
            "isAdmin": True,
            "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": True,
            "isEnforcedIn2Sv": True,
            "suspended": False,
            "lastLoginTime": "2026-01-10T09:00:00.000Z",
            "orgUnitPath": "/",
        },
        {
            "id": "101",
            "primaryEmail": "bob@example.jp",
            "isAdmin": True,
            "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "suspended": False,
            "lastLoginTime": "2026-01-11T09:00:00.000Z",
            "orgUnitPath": "/Engineering",
        },
        {
            "id": "102",
            "primaryEmail": "carol@example.jp",
            "isAdmin": False,
            "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "suspended": False,
            "lastLoginTime": "2026-01-12T09:00:00.000Z",
            "orgUnitPath": "/Sales",
        },
        {
            "id": "103",
            "primaryEmail": "dave@example.jp",
            "isAdmin": False,
            "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "suspended": True,
            "lastLoginTime": "1970-01-01T00:00:00.000Z",
            "orgUnitPath": "/Sales/EMEA",
        },
        {
            "id": "105",
            "primaryEmail": "frank@contractor.example.com",
            "isAdmin": False,
            "isDelegatedAdmin": True,
            "isEnrolledIn2Sv": True,
            "isEnforcedIn2Sv": True,
            "suspended": False,
            "lastLoginTime": "2026-01-13T09:00:00.000Z",
            "orgUnitPath": "/Engineering",
        },
        {
            "id": "104",
            "primaryEmail": "erin@example.jp",
            "isAdmin": False,
            "isDelegatedAdmin": True,
            "isEnrolledIn2Sv": True,
            "isEnforcedIn2Sv": True,
            "suspended": False,
            "lastLoginTime": "2026-01-13T09:00:00.000Z",
            "orgUnitPath": "/Sales/EMEA",
        },
    ]
    for user in users:
        user["kind"] = "admin#directory#user"
        user["customerId"] = CUSTOMER
    roles = [
        {
            "kind": "admin#directory#role",
            "roleId": "9170516996784129",
            "roleName": "_SEED_ADMIN_ROLE",
            "roleDescription": "Super Admin",
            "isSystemRole": True,
            "isSuperAdminRole": True,
        },
        {
            "kind": "admin#directory#role",
            "roleId": "9170516996784130",
            "roleName": "_HELP_DESK_ADMIN_ROLE",
            "roleDescription": "Help Desk Admin",
            "isSystemRole": True,
        },
    ]
    assignments = [
        {
            "kind": "admin#directory#roleAssignment",
            "roleAssignmentId": "91705169967841",
            "roleId": "9170516996784129",
            "assignedTo": "100",
            "assigneeType": "user",
            "scopeType": "CUSTOMER",
        },
        {
            "kind": "admin#directory#roleAssignment",
            "roleAssignmentId": "91705169967842",
            "roleId": "9170516996784129",
            "assignedTo": "101",
            "assigneeType": "user",
            "scopeType": "CUSTOMER",
        },
        {
            "kind": "admin#directory#roleAssignment",
            "roleAssignmentId": "91705169967843",
            "roleId": "9170516996784130",
            "assignedTo": "104",
            "assigneeType": "user",
            "scopeType": "ORG_UNIT",
            "orgUnitId": "03ph8a2z2",
        },
        {
            "kind": "admin#directory#roleAssignment",
            "roleAssignmentId": "91705169967844",
            "roleId": "9170516996784130",
            "assignedTo": "105",
            "assigneeType": "user",
            "scopeType": "CUSTOMER",
        },
    ]
    org_units = [
        {
            "name": "example.jp",
            "orgUnitPath": "/",
            "orgUnitId": "id:03ph8a2z0",
            "description": "The root",
        },
        {
            "name": "Engineering",
            "orgUnitPath": "/Engineering",
            "orgUnitId": "id:03ph8a2z1",
            "parentOrgUnitPath": "/",
            "parentOrgUnitId": "id:03ph8a2z0",
        },
        {
            "name": "Sales",
            "orgUnitPath": "/Sales",
            "orgUnitId": "id:03ph8a2z2",
            "parentOrgUnitPath": "/",
            "parentOrgUnitId": "id:03ph8a2z0",
        },
        {
            "name": "EMEA",
            "orgUnitPath": "/Sales/EMEA",
            "orgUnitId": "id:03ph8a2z3",
            "parentOrgUnitPath": "/Sales",
            "parentOrgUnitId": "id:03ph8a2z2",
        },
    ]
    for unit in org_units:
        unit["kind"] = "admin#directory#orgUnit"

    def policy(
        n: int, ou: str, setting: str, value: dict[str, Any], kind: str = "ADMIN"
    ) -> dict[str, Any]:
        return {
            "name": f"policies/akbr{n:04d}",
            "customer": f"customers/{CUSTOMER}",
            "policyQuery": {
                "orgUnit": f"orgUnits/{ou}",
                "query": "entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('"
                + ou
                + "'))",
                "sortOrder": 1,
            },
            "setting": {"type": f"settings/{setting}", "value": value},
            "type": kind,
        }

    def group_policy(n: int, group: str, setting: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": f"policies/akbr{n:04d}",
            "customer": f"customers/{CUSTOMER}",
            "policyQuery": {
                "group": f"groups/{group}",
                "query": f"entity.groups.exists(group, group.group_id == groupId('{group}'))",
                "sortOrder": 1,
            },
            "setting": {"type": f"settings/{setting}", "value": value},
            "type": "ADMIN",
        }

    def rule(n: int, setting: str, value: dict[str, Any]) -> dict[str, Any]:
        found = policy(n, "03ph8a2z0", setting, value)
        found["type"] = "SYSTEM" if setting == "rule.system_defined_alerts" else "ADMIN"
        return found

    policies = [
        policy(
            1, "03ph8a2z0", "security.two_step_verification_enrollment", {"allowEnrollment": True}
        ),
        policy(
            2,
            "03ph8a2z0",
            "security.two_step_verification_enforcement",
            {"enforcedFrom": "2025-06-01T00:00:00Z"},
        ),
        policy(3, "03ph8a2z0", "security.less_secure_apps", {"allowLessSecureApps": False}),
        policy(
            4,
            "03ph8a2z0",
            "drive_and_docs.external_sharing",
            {"externalSharingMode": "ALLOWLISTED_DOMAINS", "warnForExternalSharing": True},
        ),
        policy(
            5,
            "03ph8a2z2",
            "drive_and_docs.external_sharing",
            {"externalSharingMode": "ALLOWED", "warnForExternalSharing": False},
        ),
        policy(6, "03ph8a2z1", "security.less_secure_apps", {"allowLessSecureApps": True}),
        {
            "name": "policies/akbr0007",
            "customer": f"customers/{CUSTOMER}",
            "policyQuery": {"group": "groups/01tuee742", "query": "...", "sortOrder": 2},
            "setting": {
                "type": "settings/drive_and_docs.external_sharing",
                "value": {"externalSharingMode": "DISALLOWED"},
            },
            "type": "ADMIN",
        },
        group_policy(8, "01tuee743", "gmail.auto_forwarding", {"enableAutoForwarding": True}),
        group_policy(9, "01tuee743", "security.less_secure_apps", {"allowLessSecureApps": True}),
        rule(
            10,
            "rule.system_defined_alerts",
            {
                "displayName": "Suspicious login",
                "description": "Google detected a sign-in attempt that doesn't match a user's normal behavior",
                "action": {
                    "alertCenterAction": {
                        "alertCenterConfig": {"severity": "MEDIUM"},
                        "recipients": [{"allSuperAdmins": True}],
                    }
                },
                "state": "ACTIVE",
                "createTime": "2024-01-01T00:00:00Z",
                "updateTime": "2025-06-01T00:00:00Z",
            },
        ),
        rule(
            11,
            "rule.system_defined_alerts",
            {
                "displayName": "User's password changed",
                "description": "A user's password was changed",
                "action": {"alertCenterAction": {"alertCenterConfig": {"severity": "LOW"}}},
                "state": "INACTIVE",
            },
        ),
        rule(
            12,
            "rule.system_defined_alerts",
            {
                "displayName": "Government-backed attacks",
                "description": "Google believes government-backed attackers tried to compromise an account",
                "action": {"alertCenterAction": {"alertCenterConfig": {"severity": "HIGH"}}},
                "state": "ACTIVE",
            },
        ),
        rule(
            13,
            "rule.dlp",
            {
                "displayName": "Card numbers in Drive",
                "description": "Warn before sharing files with credit card numbers outside",
                "triggers": ["google.workspace.drive.file.v1.share"],
                "condition": {
                    "contentCondition": "all_content.matches_dlp_detector('CREDIT_CARD_NUMBER')"
                },
                "action": {"driveAction": {"warnUser": {}}},
                "state": "ACTIVE",
            },
        ),
    ]
    activities = {
        "login": [
            activity(
                "login",
                "suspicious_login",
                "carol@example.jp",
                3,
                {"affected_email_address": "carol@example.jp", "login_timestamp": 1767000000000000},
                kind="account_warning",
                n=1,
            ),
            activity(
                "login",
                "gov_attack_warning",
                "bob@example.jp",
                10,
                {"affected_email_address": "bob@example.jp"},
                kind="account_warning",
                n=2,
            ),
            activity(
                "login",
                "suspicious_login",
                "alice@example.jp",
                60,  # outside the 30-day window
                {"affected_email_address": "alice@example.jp"},
                kind="account_warning",
                n=3,
            ),
            activity(
                "login",
                "login_success",
                "alice@example.jp",
                1,
                {"login_type": "google_password", "is_suspicious": False},
                kind="login",
                n=4,
            ),
        ],
        "admin": [
            activity(
                "admin",
                "CHANGE_APPLICATION_SETTING",
                "alice@example.jp",
                40,
                {
                    "APPLICATION_NAME": "Gmail",
                    "SETTING_NAME": "OutOfDomainWarningProto disable_untrusted_recipient_warning",
                    "OLD_VALUE": "false",
                    "NEW_VALUE": "true",
                    "ORG_UNIT_NAME": "/Sales",
                },
                kind="APPLICATION_SETTINGS",
                n=6,
            ),
            activity(
                "admin",
                "CHANGE_APPLICATION_SETTING",
                "alice@example.jp",
                100,
                {
                    "APPLICATION_NAME": "Gmail",
                    "SETTING_NAME": "OutOfDomainWarningProto disable_untrusted_recipient_warning",
                    "OLD_VALUE": "true",
                    "NEW_VALUE": "false",
                    "ORG_UNIT_NAME": "/",
                },
                kind="APPLICATION_SETTINGS",
                n=7,
            ),
            activity(
                "admin",
                "CREATE_APPLICATION_SETTING",
                "bob@example.jp",
                50,
                {
                    "APPLICATION_NAME": "Gmail",
                    "SETTING_NAME": "AttachmentDeepScanningSettingsProto deep_scanning_enabled",
                    "NEW_VALUE": "true",
                    "ORG_UNIT_NAME": "/",
                },
                kind="APPLICATION_SETTINGS",
                n=8,
            ),
            activity(
                "admin",
                "CHANGE_APPLICATION_SETTING",
                "bob@example.jp",
                200,  # outside the 180-day window
                {
                    "APPLICATION_NAME": "Gmail",
                    "SETTING_NAME": "AttachmentDeepScanningSettingsProto deep_scanning_enabled",
                    "OLD_VALUE": "true",
                    "NEW_VALUE": "false",
                    "ORG_UNIT_NAME": "/Engineering",
                },
                kind="APPLICATION_SETTINGS",
                n=9,
            ),
        ],
        "user_accounts": [
            activity(
                "user_accounts",
                "email_forwarding_out_of_domain",
                "carol@example.jp",
                20,
                {"email_forwarding_destination_address": "carol.private@mail.example.org"},
                kind="email_forwarding_change",
                n=5,
            ),
        ],
    }
    tokens = {
        "alice@example.jp": [
            {
                "kind": "admin#directory#token",
                "clientId": "1234.apps.googleusercontent.com",
                "displayText": "Calendar Sync",
                "scopes": [SCOPE + "calendar.readonly"],
                "userKey": "100",
                "anonymous": False,
                "nativeApp": False,
            },
        ],
        "carol@example.jp": [
            {
                "kind": "admin#directory#token",
                "clientId": "5678.apps.googleusercontent.com",
                "displayText": "Mail Mover",
                "scopes": ["https://mail.google.com/", SCOPE + "drive"],
                "userKey": "102",
                "anonymous": False,
                "nativeApp": False,
            },
        ],
    }
    domains = [
        {
            "kind": "admin#directory#domain",
            "domainName": "example.jp",
            "isPrimary": True,
            "verified": True,
            "creationTime": "1700000000000",
            "domainAliases": [
                {
                    "kind": "admin#directory#domainAlias",
                    "domainAliasName": "example.net",
                    "parentDomainName": "example.jp",
                    "verified": True,
                    "creationTime": "1700000000002",
                },
                {
                    "kind": "admin#directory#domainAlias",
                    "domainAliasName": "example.org",
                    "parentDomainName": "example.jp",
                    "verified": False,
                    "creationTime": "1700000000003",
                },
            ],
        },
        {
            "kind": "admin#directory#domain",
            "domainName": "example.co.jp",
            "isPrimary": False,
            "verified": False,
            "creationTime": "1700000000001",
        },
    ]
    groups = [
        {
            "kind": "admin#directory#group",
            "id": "01tuee742",
            "email": "all@example.jp",
            "name": "All",
            "directMembersCount": "5",
            "adminCreated": True,
        },
        {
            "kind": "admin#directory#group",
            "id": "01tuee743",
            "email": "sales@example.jp",
            "name": "Sales",
            "directMembersCount": "2",
            "adminCreated": True,
        },
    ]
    devices = [
        {
            "kind": "admin#directory#mobiledevice",
            "resourceId": "AFiQxQ8a",
            "deviceId": "dev-1",
            "email": ["carol@example.jp"],
            "model": "Pixel 9",
            "os": "Android 15",
            "type": "ANDROID",
            "status": "APPROVED",
            "encryptionStatus": "Encrypted",
            "devicePasswordStatus": "On",
            "deviceCompromisedStatus": "No compromise detected",
            "lastSync": "2026-01-12T10:00:00.000Z",
        },
    ]
    group_settings = {
        "all@example.jp": {
            "kind": "groupsSettings#groups",
            "email": "all@example.jp",
            "whoCanJoin": "INVITED_CAN_JOIN",
            "allowExternalMembers": "false",
            "whoCanViewMembership": "ALL_IN_DOMAIN_CAN_VIEW",
            "whoCanViewGroup": "ALL_MEMBERS_CAN_VIEW",
            "whoCanPostMessage": "ALL_IN_DOMAIN_CAN_POST",
            "whoCanDiscoverGroup": "ALL_IN_DOMAIN_CAN_DISCOVER",
            "whoCanContactOwner": "ALL_MANAGERS_CAN_CONTACT",
        },
        "sales@example.jp": {
            "kind": "groupsSettings#groups",
            "email": "sales@example.jp",
            "whoCanJoin": "ANYONE_CAN_JOIN",
            "allowExternalMembers": "true",
            "whoCanViewMembership": "ALL_IN_DOMAIN_CAN_VIEW",
            "whoCanViewGroup": "ANYONE_CAN_VIEW",
            "whoCanPostMessage": "ANYONE_CAN_POST",
            "whoCanDiscoverGroup": "ANYONE_CAN_DISCOVER",
            "whoCanContactOwner": "ANYONE_CAN_CONTACT",
        },
    }
    # e-mails each user sent on the usage report's day (a zero is omitted, as Google does)
    emails_sent = {"alice@example.jp": 12, "bob@example.jp": 0, "carol@example.jp": 30}
    return {
        "emails_sent": emails_sent,
        "activities": activities,
        "devices": devices,
        "group_settings": group_settings,
        "users": users,
        "roles": roles,
        "assignments": assignments,
        "org_units": org_units,
        "policies": policies,
        "tokens": tokens,
        "domains": domains,
        "groups": groups,
    }


@dataclass
class FakeGoogle:
    """State and switches of the fake; tests change them between scans."""

    data: dict[str, Any] = field(default_factory=estate)
    page_size: int = 2  # small pages, so every listing pages
    granted: set[str] = field(default_factory=lambda: set(ALL_SCOPES))  # the delegation's scopes
    forbidden: set[str] = field(default_factory=set)  # path prefixes answering 403 scope
    throttle_once: set[str] = field(default_factory=set)  # path prefixes answering one 429
    throttle_always: set[str] = field(default_factory=set)  # path prefixes answering 429
    disabled: set[str] = field(default_factory=set)  # path prefixes answering SERVICE_DISABLED
    retry_after: str = "1"
    usage_available: bool = True  # False: usage reports answer "data not available" warnings
    public_key: Any = None
    writer_key: Any = None  # the repairing service account's public key
    writer_granted: set[str] = field(default_factory=lambda: set(ALL_SCOPES))
    read_only: set[str] = field(default_factory=set)  # service accounts whose writes answer 403
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    writes: list[tuple[str, str, Any]] = field(default_factory=list)  # applied writes
    tokens: dict[str, set[str]] = field(default_factory=dict)
    token_owner: dict[str, str] = field(default_factory=dict)  # token -> service account
    subjects: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the OAuth token endpoint -----------------------------------------------------
    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        claims, refused = jwt_grant(self.public_key, form)
        granted, owner = self.granted, SCANNER_EMAIL
        if refused is not None and self.writer_key is not None:
            claims, refused = jwt_grant(self.writer_key, form)
            granted, owner = self.writer_granted, WRITER_EMAIL
        if refused is not None:
            return 400, refused
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes or not scopes <= granted:
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using this method, or "
                "client not authorized for any of the scopes requested.",
            }
        with self.lock:
            value = f"ya29.fake-{len(self.tokens)}"
            self.tokens[value] = scopes
            self.token_owner[value] = owner
            self.subjects.append(str(claims.get("sub")))
        return 200, {"access_token": value, "expires_in": 3599, "token_type": "Bearer"}

    # -- the APIs ---------------------------------------------------------------------
    def route(self, path: str, query: dict[str, str]) -> tuple[set[str], str, list[Any]] | None:
        """(scopes accepted, list key, items) of a listing, or None for an unknown path."""
        d = self.data
        parts = path.strip("/").split("/")
        if path == "/admin/directory/v1/users":
            return {USER_RO}, "users", d["users"]
        if path == "/admin/directory/v1/groups":
            return {GROUP_RO}, "groups", d["groups"]
        if parts[:4] == ["admin", "directory", "v1", "users"] and parts[-1] == "tokens":
            key = unquote(parts[4])
            return {USER_SECURITY}, "items", d["tokens"].get(key, [])
        if parts[:4] == ["admin", "directory", "v1", "customer"] and len(parts) == 6:
            kind = parts[5]
            table = {
                "roleassignments": ({ROLE_RO}, "items", d["assignments"]),
                "roles": ({ROLE_RO}, "items", d["roles"]),
                "orgunits": ({OU_RO}, "organizationUnits", d["org_units"]),
                "domains": ({DOMAIN_RO}, "domains", d["domains"]),
            }
            return table.get(kind)
        if parts[:4] == ["admin", "directory", "v1", "customer"] and parts[5:] == [
            "devices",
            "mobile",
        ]:
            return {MOBILE_RO}, "mobiledevices", d["devices"]
        if path == "/v1/policies":
            return {POLICY_RO}, "policies", d["policies"]
        if parts[:6] == ["admin", "reports", "v1", "activity", "users", "all"] and len(parts) == 8:
            found = d["activities"].get(parts[7], [])
            since = query.get("startTime") or ""
            wanted = query.get("eventName")
            found = [
                a
                for a in found
                if a["id"]["time"] >= since
                and (not wanted or any(e["name"] == wanted for e in a["events"]))
            ]
            # newest first, as the Reports API answers
            found = sorted(found, key=lambda a: str(a["id"]["time"]), reverse=True)
            return {REPORTS_RO}, "items", found
        if parts[:6] == ["admin", "reports", "v1", "usage", "users", "all"] and len(parts) == 8:
            date = parts[7]
            if not self.usage_available:
                return {USAGE_RO}, "usageReports", []
            reports = []
            for user in d["users"]:
                params: list[dict[str, Any]] = []
                sent = d["emails_sent"].get(user["primaryEmail"], 0)
                if sent:
                    params.append({"name": "gmail:num_emails_sent", "intValue": str(sent)})
                reports.append(
                    {
                        "kind": "admin#reports#usageReport",
                        "date": date,
                        "etag": '"fake"',
                        "entity": {
                            "customerId": CUSTOMER,
                            "userEmail": user["primaryEmail"],
                            "profileId": user["id"],
                            "type": "USER",
                        },
                        "parameters": params,
                    }
                )
            return {USAGE_RO}, "usageReports", reports
        return None

    def answer(
        self, method: str, url: str, auth: str
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        parts = urlsplit(url)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(f"{method} {path}?{parts.query}")
        scopes = self.tokens.get(auth.removeprefix("Bearer "))
        if scopes is None:
            return (
                401,
                {},
                _error(
                    401,
                    "Request had invalid authentication credentials.",
                    "UNAUTHENTICATED",
                    "authError",
                ),
            )
        for prefix in sorted(self.disabled):
            if path.startswith(prefix):
                return 403, {}, _disabled()
        for prefix in sorted(self.throttle_once | self.throttle_always):
            if path.startswith(prefix):
                self.throttle_once.discard(prefix)
                return (
                    429,
                    {"Retry-After": self.retry_after},
                    _error(429, "Quota exceeded", "RESOURCE_EXHAUSTED", "rateLimitExceeded"),
                )
        if path.startswith("/groups/v1/groups/"):  # Groups Settings: one object per group
            if GROUP_SETTINGS not in scopes or any(path.startswith(p) for p in self.forbidden):
                return 403, {}, _scope_error()
            if query.get("alt") != "json":
                return (
                    400,
                    {},
                    _error(400, "only alt=json is served here", "INVALID_ARGUMENT", "invalid"),
                )
            found = self.data["group_settings"].get(unquote(path.rsplit("/", 1)[1]))
            if found is None:
                return (
                    404,
                    {},
                    _error(404, "Resource Not Found: groupUniqueId", "NOT_FOUND", "notFound"),
                )
            return 200, {}, copy.deepcopy(found)
        segs = path.strip("/").split("/")
        grant = segs[:4] == ["admin", "directory", "v1", "users"] and segs[5:6] == ["tokens"]
        if grant and len(segs) == 7:  # tokens.get: one grant, or 404
            if USER_SECURITY not in scopes or any(path.startswith(p) for p in self.forbidden):
                return 403, {}, _scope_error()
            return self._token_of(unquote(segs[4]), unquote(segs[6]))
        routed = self.route(path, query)
        if routed is None:
            return 404, {}, _error(404, "Not Found", "NOT_FOUND", "notFound")
        accepted, key, items = routed
        # orgunits, domains and tokens do not page in the Directory API: all in one answer
        paged = not any(path.endswith(x) for x in ("/orgunits", "/domains", "/tokens"))
        if any(path.startswith(p) for p in self.forbidden) or not accepted & scopes:
            return 403, {}, _scope_error()
        size = int(query.get("maxResults") or query.get("pageSize") or 100)
        size = min(size, self.page_size) if paged else len(items) or 1
        start = int(query.get("pageToken") or 0)
        page = copy.deepcopy(items[start : start + size])
        kind = "admin#directory#list"
        if path.startswith("/admin/reports/v1/activity/"):
            kind = "admin#reports#activities"
        elif path.startswith("/admin/reports/v1/usage/"):
            kind = "admin#reports#usageReports"
        body: dict[str, Any] = {"kind": kind, "etag": '"fake"'}
        if page:
            body[key] = page  # Google omits an empty list
        if kind == "admin#reports#usageReports" and not items:
            date = path.rsplit("/", 1)[1]
            body["warnings"] = [
                {
                    "code": "DATA_NOT_AVAILABLE",
                    "message": f'Sorry, data for date {date} for application "gmail" is not available.',
                    "data": [{"key": "application", "value": "gmail"}],
                }
            ]
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return 200, {}, body

    def write(
        self, method: str, url: str, auth: str, raw: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        """A Groups Settings update/patch or a Directory tokens.delete (None: empty answer)."""
        parts = urlsplit(url)
        path = parts.path
        with self.lock:
            self.requests.append(f"{method} {path}?{parts.query}")
        token = auth.removeprefix("Bearer ")
        scopes = self.tokens.get(token)
        if scopes is None:
            message = "Request had invalid authentication credentials."
            return 401, {}, _error(401, message, "UNAUTHENTICATED", "authError")
        for prefix in sorted(self.throttle_once | self.throttle_always):
            if path.startswith(prefix):
                self.throttle_once.discard(prefix)
                error = _error(429, "Quota exceeded", "RESOURCE_EXHAUSTED", "rateLimitExceeded")
                return 429, {"Retry-After": self.retry_after}, error
        segments = path.strip("/").split("/")
        if path.startswith("/groups/v1/groups/") and method in ("PUT", "PATCH"):
            needed = GROUP_SETTINGS
        elif segments[:4] == ["admin", "directory", "v1", "users"] and len(segments) == 7:
            needed = USER_SECURITY if method == "DELETE" and segments[5] == "tokens" else ""
        else:
            needed = ""
        if not needed:
            return 404, {}, _error(404, "Not Found", "NOT_FOUND", "notFound")
        refused = self.token_owner.get(token) in self.read_only
        if needed not in scopes or refused or any(path.startswith(p) for p in self.forbidden):
            return 403, {}, _scope_error()
        if needed == USER_SECURITY:
            return self._delete_token(method, path, unquote(segments[4]), unquote(segments[6]))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return (
                400,
                {},
                _error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT", "parseError"),
            )
        return self._update_group(method, path, unquote(segments[-1]), body)

    def _update_group(
        self, method: str, path: str, key: str, body: Any
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            found = self.data["group_settings"].get(key)
            if found is None:
                message = "Resource Not Found: groupUniqueId"
                return 404, {}, _error(404, message, "NOT_FOUND", "notFound")
            if not isinstance(body, dict):
                return 400, {}, _error(400, "Invalid value", "INVALID_ARGUMENT", "invalid")
            for name, value in body.items():
                allowed = GROUP_ENUMS.get(name)
                if allowed is not None and value not in allowed:
                    message = f"Invalid Value: {name}"
                    return 400, {}, _error(400, message, "INVALID_ARGUMENT", "invalid")
            fixed = {"kind": found.get("kind"), "email": found.get("email")}
            if method == "PUT":
                found.clear()
            found.update({k: copy.deepcopy(v) for k, v in body.items() if k not in fixed})
            found.update(fixed)
            self.writes.append((method, unquote(path), copy.deepcopy(body)))
            return 200, {}, copy.deepcopy(found)

    def _email(self, user: str) -> str:
        for candidate in self.data["users"]:
            if user in (candidate["id"], candidate["primaryEmail"]):
                return str(candidate["primaryEmail"])
        return user

    def _token_of(self, user: str, client: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            for grant in self.data["tokens"].get(self._email(user), []):
                if grant.get("clientId") == client:
                    return 200, {}, copy.deepcopy(grant)
        return 404, {}, _error(404, "Resource Not Found: clientId", "NOT_FOUND", "notFound")

    def _delete_token(
        self, method: str, path: str, user: str, client: str
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        with self.lock:
            email = self._email(user)
            grants = self.data["tokens"].get(email, [])
            kept = [t for t in grants if t.get("clientId") != client]
            if len(kept) == len(grants):
                return 404, {}, _error(404, "Resource Not Found: clientId", "NOT_FOUND", "notFound")
            self.data["tokens"][email] = kept
            self.writes.append((method, unquote(path), None))
            return 204, {}, None


def jwt_grant(
    public_key: Any, form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The claims of a JWT-bearer grant signed by the service account's key, or the token
    endpoint's error answer (unsupported grant type, bad signature)."""
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return {}, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
    try:
        head, body, signature = form["assertion"].split(".")
        public_key.verify(
            _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        claims: dict[str, Any] = json.loads(_unb64(body))
    except Exception:
        return {}, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    return claims, None


def _error(code: int, message: str, status: str, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "status": status,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _scope_error() -> dict[str, Any]:
    body = _error(
        403,
        "Request had insufficient authentication scopes.",
        "PERMISSION_DENIED",
        "insufficientPermissions",
    )
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
        }
    ]
    return body


def _disabled() -> dict[str, Any]:
    message = "Cloud Identity API has not been used in project 1234 before or it is disabled."
    body = _error(403, message, "PERMISSION_DENIED", "accessNotConfigured")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": "cloudidentity.googleapis.com"},
        }
    ]
    return body


def _handler(fake: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if self.path.startswith("/token"):
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, body = fake.token(form)
                self._send(status, {}, body)
                return
            self._send(404, {}, _error(404, "Not Found", "NOT_FOUND", "notFound"))

        def do_GET(self) -> None:
            status, headers, body = fake.answer(
                "GET", self.path, self.headers.get("Authorization", "")
            )
            self._send(status, headers, body)

        def _write(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            auth = self.headers.get("Authorization", "")
            status, headers, body = fake.write(method, self.path, auth, raw)
            if body is None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(status, headers, body)

        def do_PUT(self) -> None:
            self._write("PUT")

        def do_PATCH(self) -> None:
            self._write("PATCH")

        def do_DELETE(self) -> None:
            self._write("DELETE")

    return Handler


def write_key_file(
    folder: Path, token_uri: str, *, name: str = "key.json", client_email: str = SCANNER_EMAIL
) -> tuple[Path, Any]:
    """A service-account key file naming ``token_uri``; returns (path, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {
        "type": "service_account",
        "project_id": "posture-test",
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": client_email,
        "client_id": "111111111111111111111"
        if client_email == SCANNER_EMAIL
        else "222222222222222222222",
        "token_uri": token_uri,
    }
    path = folder / name
    path.write_text(json.dumps(info))
    return path, key.public_key()


@dataclass
class RunningGoogle:
    fake: FakeGoogle
    url: str  # https://127.0.0.1:PORT/
    ca_bundle: Path
    key_file: Path
    writer_key_file: Path  # the service account that repairs settings

    def read_only(self, account: str = WRITER_EMAIL) -> None:
        """Writes of ``account`` answer 403 insufficientPermissions from now on."""
        self.fake.read_only.add(account)


@contextmanager
def google_server(folder: Path) -> Iterator[RunningGoogle]:
    """Start the fake on 127.0.0.1 over HTTPS; a key file for it is written into ``folder``."""
    cert, key = server_certificate(folder, "google")
    fake = FakeGoogle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    url = f"https://127.0.0.1:{port}/"
    key_file, public = write_key_file(folder, url + "token")
    writer_file, writer = write_key_file(
        folder, url + "token", name="writer-key.json", client_email=WRITER_EMAIL
    )
    fake.public_key, fake.writer_key, fake.base_url = public, writer, url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningGoogle(fake, url, cert, key_file, writer_file)
    finally:
        server.shutdown()
        server.server_close()
