"""The demo's Google Cloud organisation, served by ``posture.localapi.gcp``.

Acme's organisation ``example.jp`` holds, under its folders, a production project with the
usual section-1 mistakes (a personal Gmail account, a service account that is an editor,
project-level Service Account User grants, one person holding both sides of a separation of
duties, an old user-managed key, unrestricted and old API keys, a KMS key without rotation
readable by allUsers, no Access Approval) and ``acme-hardened``, configured as recommended:
no finding may appear on it. A project waiting for deletion is not scanned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from posture.localapi.gcp import FakeGcp, GcpOrganization, GcpProject

ORGANIZATION_ID = "123456789012"
PROD = "acme-prod"
HARDENED = "acme-hardened"
DELETED = "acme-legacy"
PROD_NUMBER = "415104041262"
HARDENED_NUMBER = "415104041263"


def _time(now: datetime, days: float) -> str:
    """A timestamp ``days`` before ``now`` in Google's RFC 3339 form."""
    return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _future(now: datetime, days: float) -> str:
    return (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sa(project: str, name: str, display: str, number: str, n: int) -> dict[str, Any]:
    email = f"{name}@{project}.iam.gserviceaccount.com"
    return {
        "name": f"projects/{project}/serviceAccounts/{email}",
        "projectId": project,
        "uniqueId": f"1{number}{n:04d}",
        "email": email,
        "displayName": display,
        "etag": "MDEwMjE5MjA=",
        "oauth2ClientId": f"1{number}{n:04d}",
        "disabled": False,
    }


def _key(sa: dict[str, Any], key_id: str, now: datetime, age: float) -> dict[str, Any]:
    return {
        "name": f"{sa['name']}/keys/{key_id}",
        "validAfterTime": _time(now, age),
        "validBeforeTime": "9999-12-31T23:59:59Z",
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": "USER_MANAGED",
        "disabled": False,
    }


def _crypto_key(
    project: str, ring: str, name: str, now: datetime, rotation_days: int | None
) -> dict[str, Any]:
    key: dict[str, Any] = {
        "name": f"projects/{project}/locations/asia-northeast1/keyRings/{ring}/cryptoKeys/{name}",
        "primary": {
            "name": f"projects/{project}/locations/asia-northeast1/keyRings/{ring}/cryptoKeys/"
            f"{name}/cryptoKeyVersions/1",
            "state": "ENABLED",
            "createTime": _time(now, 400),
            "protectionLevel": "SOFTWARE",
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "generateTime": _time(now, 400),
        },
        "purpose": "ENCRYPT_DECRYPT",
        "createTime": _time(now, 400),
        "versionTemplate": {
            "protectionLevel": "SOFTWARE",
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
        },
        "destroyScheduledDuration": "2592000s",
        "labels": {"env": project.rsplit("-", 1)[-1]},
    }
    if rotation_days is not None:
        key["rotationPeriod"] = f"{rotation_days * 86400}s"
        key["nextRotationTime"] = _future(now, min(rotation_days, 30))
    return key


def _kms(project: str, ring: str, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """The collections of KMS: one location, one key ring, its keys."""
    location = f"projects/{project}/locations/asia-northeast1"
    return {
        f"v1/projects/{project}/locations": [
            {
                "name": location,
                "locationId": "asia-northeast1",
                "displayName": "Tokyo",
                "metadata": {
                    "@type": "type.googleapis.com/google.cloud.kms.v1.LocationMetadata",
                    "hsmAvailable": True,
                    "ekmAvailable": True,
                },
            }
        ],
        f"v1/{location}/keyRings": [
            {"name": f"{location}/keyRings/{ring}", "createTime": "2025-01-01T00:00:00Z"}
        ],
        f"v1/{location}/keyRings/{ring}/cryptoKeys": keys,
    }


def _api_key(
    project_number: str,
    uid: str,
    name: str,
    now: datetime,
    age: float,
    restrictions: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "name": f"projects/{project_number}/locations/global/keys/{uid}",
        "uid": uid,
        "displayName": name,
        "createTime": _time(now, age),
        "updateTime": _time(now, age),
        "etag": f'W/"{uid[:8]}"',
        "restrictions": restrictions or {},
    }


def _prod(now: datetime) -> GcpProject:
    project = GcpProject(
        PROD, PROD_NUMBER, "folders/1001", "Acme Production", labels={"env": "prod"}
    )
    ci = _sa(PROD, "ci-deployer", "CI deployer", PROD_NUMBER, 1)
    batch = _sa(PROD, "batch", "Nightly batch", PROD_NUMBER, 2)
    compute = _sa(
        PROD, f"{PROD_NUMBER}-compute", "Compute Engine default service account", PROD_NUMBER, 3
    )
    compute["name"] = (
        f"projects/{PROD}/serviceAccounts/{PROD_NUMBER}-compute@developer.gserviceaccount.com"
    )
    compute["email"] = f"{PROD_NUMBER}-compute@developer.gserviceaccount.com"
    project.iam_policy = {
        "version": 1,
        "etag": "BwYxLWk3Zlo=",
        "bindings": [
            {"role": "roles/owner", "members": ["group:cloud-admins@example.jp"]},
            {
                "role": "roles/editor",
                "members": [
                    f"serviceAccount:{ci['email']}",
                    f"serviceAccount:{compute['email']}",
                    "user:taro.yamada.private@gmail.com",
                ],
            },
            {"role": "roles/iam.serviceAccountUser", "members": ["user:hanako@example.jp"]},
            {"role": "roles/iam.serviceAccountAdmin", "members": ["user:hanako@example.jp"]},
            {
                "role": "roles/iam.serviceAccountTokenCreator",
                "members": ["group:developers@example.jp"],
            },
            {"role": "roles/cloudkms.admin", "members": ["user:jiro@example.jp"]},
            {
                "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                "members": ["user:jiro@example.jp", f"serviceAccount:{batch['email']}"],
            },
            {
                "role": "roles/cloudkms.serviceAgent",
                "members": [
                    f"serviceAccount:service-{PROD_NUMBER}@gcp-sa-cloudkms.iam.gserviceaccount.com"
                ],
            },
        ],
    }
    legacy_key = _kms(
        PROD,
        "app-keys",
        [
            _crypto_key(PROD, "app-keys", "customer-data", now, None),
            _crypto_key(PROD, "app-keys", "backups", now, 365),
        ],
    )
    location = f"v1/projects/{PROD}/locations/asia-northeast1/keyRings/app-keys/cryptoKeys"
    project.collections = {
        f"v1/projects/{PROD}/serviceAccounts": [ci, batch, compute],
        f"v1/{ci['name']}/keys": [_key(ci, "3b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c", now, 200)],
        f"v1/{batch['name']}/keys": [
            _key(batch, "7c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", now, 20)
        ],
        f"v2/projects/{PROD}/locations/global/keys": [
            _api_key(
                PROD_NUMBER, "c3f1d8a2-5b7e-4c09-9a61-2f8e7d6c5b4a", "Maps (web)", now, 400, None
            ),
            _api_key(
                PROD_NUMBER,
                "a9e2b7c4-1d3f-4e5a-8b6c-7d9e0f1a2b3c",
                "Mobile app",
                now,
                30,
                {
                    "androidKeyRestrictions": {
                        "allowedApplications": [
                            {
                                "sha1Fingerprint": "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09",
                                "packageName": "jp.example.acme",
                            }
                        ]
                    }
                },
            ),
        ],
        **legacy_key,
        f"{location}/customer-data:getIamPolicy": {
            "version": 1,
            "etag": "BwYx",
            "bindings": [{"role": "roles/cloudkms.cryptoKeyDecrypter", "members": ["allUsers"]}],
        },
        f"{location}/backups:getIamPolicy": {"version": 1, "etag": "BwYy"},
    }
    return project


def _hardened(now: datetime) -> GcpProject:
    project = GcpProject(
        HARDENED, HARDENED_NUMBER, "folders/1003", "Acme Hardened", labels={"env": "hardened"}
    )
    app = _sa(HARDENED, "app-runtime", "Application runtime", HARDENED_NUMBER, 1)
    project.iam_policy = {
        "version": 3,
        "etag": "BwYxHard=",
        "bindings": [
            {"role": "roles/owner", "members": ["group:cloud-admins@example.jp"]},
            {
                "role": "roles/viewer",
                "members": ["user:taro@example.jp", "group:auditors@example.jp"],
            },
            {"role": "roles/cloudkms.admin", "members": ["group:kms-admins@example.jp"]},
            {
                "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                "members": [f"serviceAccount:{app['email']}"],
            },
            {"role": "roles/logging.logWriter", "members": [f"serviceAccount:{app['email']}"]},
            {
                "role": "roles/cloudkms.serviceAgent",
                "members": [
                    f"serviceAccount:service-{HARDENED_NUMBER}@gcp-sa-cloudkms.iam.gserviceaccount.com"
                ],
            },
        ],
    }
    location = f"v1/projects/{HARDENED}/locations/asia-northeast1/keyRings/app-keys/cryptoKeys"
    project.collections = {
        f"v1/projects/{HARDENED}/serviceAccounts": [app],
        **_kms(HARDENED, "app-keys", [_crypto_key(HARDENED, "app-keys", "customer-data", now, 90)]),
        f"{location}/customer-data:getIamPolicy": {
            "version": 1,
            "etag": "BwYz",
            "bindings": [
                {
                    "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                    "members": [f"serviceAccount:{app['email']}"],
                }
            ],
        },
        f"v1/projects/{HARDENED}/accessApprovalSettings": {
            "name": f"projects/{HARDENED}/accessApprovalSettings",
            "notificationEmails": ["security@example.jp"],
            "enrolledServices": [{"cloudProduct": "all", "enrollmentLevel": "BLOCK_ALL"}],
            "enrolledAncestor": False,
        },
    }
    return project


def populate(fake: FakeGcp, now: datetime | None = None) -> None:
    """Fill the fake with the demo organisation (timestamps relative to ``now``)."""
    moment = now or datetime.now(UTC)
    org = GcpOrganization(ORGANIZATION_ID, "example.jp")
    org.iam_policy = {
        "version": 1,
        "etag": "BwYxOrg=",
        "bindings": [
            {
                "role": "roles/resourcemanager.organizationAdmin",
                "members": ["group:cloud-admins@example.jp"],
            },
            {"role": "roles/billing.admin", "members": ["user:saburo.private@gmail.com"]},
        ],
    }
    org.collections = {
        f"v1/organizations/{ORGANIZATION_ID}/contacts": [
            {
                "name": f"organizations/{ORGANIZATION_ID}/contacts/1",
                "email": "security@example.jp",
                "notificationCategorySubscriptions": ["SECURITY", "TECHNICAL"],
                "languageTag": "ja",
                "validationState": "VALID",
                "validateTime": _time(moment, 100),
            },
            {
                "name": f"organizations/{ORGANIZATION_ID}/contacts/2",
                "email": "billing@example.jp",
                "notificationCategorySubscriptions": ["BILLING"],
                "languageTag": "ja",
                "validationState": "VALID",
                "validateTime": _time(moment, 100),
            },
        ]
    }
    fake.organizations[ORGANIZATION_ID] = org
    fake.folder("1001", f"organizations/{ORGANIZATION_ID}", "Production")
    fake.folder("1002", f"organizations/{ORGANIZATION_ID}", "Development")
    fake.folder("1004", f"organizations/{ORGANIZATION_ID}", "Archive", state="DELETE_REQUESTED")
    fake.folder("1005", f"organizations/{ORGANIZATION_ID}", "Shared services")
    fake.folder("1003", "folders/1002", "Hardened")
    fake.add_project(_prod(moment))
    fake.add_project(_hardened(moment))
    fake.add_project(
        GcpProject(DELETED, "415104041264", "folders/1001", "Legacy", state="DELETE_REQUESTED")
    )
