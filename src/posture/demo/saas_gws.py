"""The demo's Google Workspace customer, served by the local Google server.

Acme's Workspace has the usual mistakes: five super administrators, one of them without
2-Step Verification, a third-party app holding full mail access, a group open to outside
members, and org units whose settings (most of them Google's defaults) leave mail, Drive,
Chat and sign-in loosely protected. The ``/Hardened`` org unit is the twin: it sets every
setting the policy library reads to the recommended value, its user is enrolled in 2SV and
uses only a harmless app, so no policy may fail on it.

Documents follow the Admin SDK Directory, Groups Settings and Cloud Identity Policy API
shapes (empty lists and fields omitted); the server adds paging.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from posture.demo.saas_gws_settings import HARDENED_SETTINGS, WEAK_SETTINGS
from posture.localapi.google import activity

CUSTOMER = "C04acme77"
DOMAIN = "acme-jp.example"
SCOPE = "https://www.googleapis.com/auth/"
OU_IDS = {"/": "03ac0001", "/IT": "03ac0002", "/Sales": "03ac0003", "/Hardened": "03ac0004"}
SUPER_ADMIN_ROLE = "9170516996784001"
HELP_DESK_ROLE = "9170516996784002"


def _when(days_ago: int) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(
    uid: str,
    local: str,
    ou: str,
    *,
    admin: bool = False,
    enrolled: bool = True,
    enforced: bool = True,
    suspended: bool = False,
    last_login: int = 1,
) -> dict[str, Any]:
    return {
        "kind": "admin#directory#user",
        "id": uid,
        "primaryEmail": f"{local}@{DOMAIN}",
        "name": {"givenName": local.split(".")[0].title(), "familyName": "Acme"},
        "customerId": CUSTOMER,
        "isAdmin": admin,
        "isDelegatedAdmin": False,
        "isEnrolledIn2Sv": enrolled,
        "isEnforcedIn2Sv": enforced,
        "suspended": suspended,
        "archived": False,
        "changePasswordAtNextLogin": False,
        "creationTime": "2024-04-01T00:00:00.000Z",
        "lastLoginTime": _when(last_login),
        "orgUnitPath": ou,
        "agreedToTerms": True,
    }


def _policy(n: int, ou: str, setting: str, value: dict[str, Any]) -> dict[str, Any]:
    unit = OU_IDS[ou]
    return {
        "name": f"policies/acme{n:04d}",
        "customer": f"customers/{CUSTOMER}",
        "policyQuery": {
            "orgUnit": f"orgUnits/{unit}",
            "query": f"entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{unit}'))",
            "sortOrder": 1,
        },
        "setting": {"type": f"settings/{setting}", "value": value},
        "type": "ADMIN",
    }


def _group_policy(n: int, group: str, setting: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"policies/acme{n:04d}",
        "customer": f"customers/{CUSTOMER}",
        "policyQuery": {
            "group": f"groups/{group}",
            "query": f"entity.groups.exists(group, group.group_id == groupId('{group}'))",
            "sortOrder": 1,
        },
        "setting": {"type": f"settings/{setting}", "value": value},
        "type": "ADMIN",
    }


def _alert(n: int, name: str, *, active: bool, mail: bool) -> dict[str, Any]:
    action: dict[str, Any] = {"alertCenterConfig": {"severity": "MEDIUM"}}
    if mail:
        action["recipients"] = [{"allSuperAdmins": True}]
    found = _policy(
        n,
        "/",
        "rule.system_defined_alerts",
        {
            "displayName": name,
            "action": {"alertCenterAction": action},
            "state": "ACTIVE" if active else "INACTIVE",
        },
    )
    found["type"] = "SYSTEM"
    return found


def estate() -> dict[str, Any]:
    """The documents of the demo customer, in the local Google server's layout."""
    users = [
        _user("200", "admin.yamada", "/IT", admin=True),
        _user("201", "admin.kobayashi", "/IT", admin=True, enrolled=False, enforced=False),
        _user("202", "admin.watanabe", "/IT", admin=True),
        _user("203", "admin.ito", "/IT", admin=True, last_login=120),
        _user("204", "admin.nakamura", "/IT", admin=True),
        _user("205", "sales.kimura", "/Sales", enrolled=False, enforced=False),
        _user("206", "sales.hayashi", "/Sales", suspended=True, enrolled=False, enforced=False),
        _user("207", "secure.saito", "/Hardened"),
    ]
    roles = [
        {
            "kind": "admin#directory#role",
            "roleId": SUPER_ADMIN_ROLE,
            "roleName": "_SEED_ADMIN_ROLE",
            "roleDescription": "Google Workspace Administrator Seed Role",
            "isSystemRole": True,
            "isSuperAdminRole": True,
        },
        {
            "kind": "admin#directory#role",
            "roleId": HELP_DESK_ROLE,
            "roleName": "_HELP_DESK_ADMIN_ROLE",
            "roleDescription": "Help Desk Administrator",
            "isSystemRole": True,
        },
    ]
    assignments = [
        {
            "kind": "admin#directory#roleAssignment",
            "roleAssignmentId": f"9170516996{uid}",
            "roleId": SUPER_ADMIN_ROLE,
            "assignedTo": uid,
            "assigneeType": "user",
            "scopeType": "CUSTOMER",
        }
        for uid in ("200", "201", "202", "203", "204")
    ]
    org_units = [
        {
            "kind": "admin#directory#orgUnit",
            "name": DOMAIN if path == "/" else path.strip("/"),
            "orgUnitPath": path,
            "orgUnitId": f"id:{unit}",
            **(
                {"parentOrgUnitPath": "/", "parentOrgUnitId": f"id:{OU_IDS['/']}"}
                if path != "/"
                else {"description": "Acme Japan"}
            ),
        }
        for path, unit in OU_IDS.items()
    ]
    policies: list[dict[str, Any]] = []
    for setting, value in sorted(WEAK_SETTINGS.items()):
        policies.append(_policy(len(policies) + 1, "/", setting, value))
    for setting, value in sorted(HARDENED_SETTINGS.items()):
        policies.append(_policy(len(policies) + 1, "/Hardened", setting, value))
    # a group that turns automatic forwarding back on for its members
    policies.append(
        _group_policy(
            len(policies) + 1, "03acg002", "gmail.auto_forwarding", {"enableAutoForwarding": True}
        )
    )
    # alert rules switched off or without e-mail; no DLP rule at all
    for name, active, mail in (
        ("User's password changed", False, False),
        ("Government-backed attacks", True, False),
        ("Leaked password", False, False),
        ("Suspicious login", True, True),
    ):
        policies.append(_alert(len(policies) + 1, name, active=active, mail=mail))
    tokens = {
        f"sales.kimura@{DOMAIN}": [
            {
                "kind": "admin#directory#token",
                "clientId": "88221133.apps.googleusercontent.com",
                "displayText": "Mail Mover Free",
                "scopes": ["https://mail.google.com/", SCOPE + "drive"],
                "userKey": "205",
                "anonymous": False,
                "nativeApp": False,
            }
        ],
        f"secure.saito@{DOMAIN}": [
            {
                "kind": "admin#directory#token",
                "clientId": "77001122.apps.googleusercontent.com",
                "displayText": "Calendar Widget",
                "scopes": [SCOPE + "calendar.readonly"],
                "userKey": "207",
                "anonymous": False,
                "nativeApp": False,
            }
        ],
    }
    domains = [
        {
            "kind": "admin#directory#domain",
            "domainName": DOMAIN,
            "isPrimary": True,
            "verified": True,
            "creationTime": "1711929600000",
        }
    ]
    groups = [
        {
            "kind": "admin#directory#group",
            "id": "03acg001",
            "email": f"all@{DOMAIN}",
            "name": "All staff",
            "directMembersCount": "8",
            "adminCreated": True,
        },
        {
            "kind": "admin#directory#group",
            "id": "03acg002",
            "email": f"partners@{DOMAIN}",
            "name": "Partners",
            "directMembersCount": "3",
            "adminCreated": False,
        },
    ]
    group_settings = {
        f"all@{DOMAIN}": {
            "kind": "groupsSettings#groups",
            "email": f"all@{DOMAIN}",
            "whoCanJoin": "INVITED_CAN_JOIN",
            "allowExternalMembers": "false",
            "whoCanViewMembership": "ALL_IN_DOMAIN_CAN_VIEW",
            "whoCanPostMessage": "ALL_IN_DOMAIN_CAN_POST",
        },
        f"partners@{DOMAIN}": {
            "kind": "groupsSettings#groups",
            "email": f"partners@{DOMAIN}",
            "whoCanJoin": "ANYONE_CAN_JOIN",
            "allowExternalMembers": "true",
            "whoCanViewMembership": "ALL_IN_DOMAIN_CAN_VIEW",
            "whoCanPostMessage": "ANYONE_CAN_POST",
        },
    }
    devices = [
        {
            "kind": "admin#directory#mobiledevice",
            "resourceId": "AFiQacme01",
            "deviceId": "acme-dev-1",
            "email": [f"secure.saito@{DOMAIN}"],
            "model": "Pixel 9",
            "os": "Android 15",
            "type": "ANDROID",
            "status": "APPROVED",
            "encryptionStatus": "Encrypted",
            "devicePasswordStatus": "On",
            "deviceCompromisedStatus": "No compromise detected",
            "lastSync": _when(1),
        }
    ]
    kimura = f"sales.kimura@{DOMAIN}"
    activities = {
        "login": [
            activity(
                "login",
                "suspicious_login",
                kimura,
                2,
                {"affected_email_address": kimura, "login_timestamp": 1767000000000000},
                kind="account_warning",
                n=1,
            ),
            activity(
                "login",
                "login_success",
                f"secure.saito@{DOMAIN}",
                1,
                {"login_type": "google_password", "is_suspicious": False},
                kind="login",
                n=2,
            ),
        ],
        "admin": [],
        "user_accounts": [
            activity(
                "user_accounts",
                "email_forwarding_out_of_domain",
                kimura,
                12,
                {"email_forwarding_destination_address": "kimura.sales@freemail.example"},
                kind="email_forwarding_change",
                n=3,
            )
        ],
    }
    # e-mails each user sent on the usage report's day: one super admin reads and sends mail
    emails_sent = {f"admin.yamada@{DOMAIN}": 25, kimura: 40, f"secure.saito@{DOMAIN}": 18}
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
