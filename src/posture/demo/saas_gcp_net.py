"""The demo organisation's networks, VMs, DNS, logging and monitoring (CIS Google Cloud
sections 2 to 4), served by ``posture.localapi.gcp``.

``acme-prod`` has the usual mistakes: VMs on the default service account with full API
access, an external address and the serial console inherited from the project, the default
network with SSH open to the internet, a subnet without flow logs, an HTTPS proxy without an
SSL policy, an unsigned public zone, no Data Access audit logs, no sink exporting all logs
and a single alert. ``acme-hardened`` is configured as every policy of these sections asks.
"""

from __future__ import annotations

from typing import Any

from posture.localapi.gcp import FakeGcp

# the CIS filters of the section 2 log-based metrics, by metric name
CIS_METRICS = {
    "project-ownership-changes": (
        '(protoPayload.serviceName="cloudresourcemanager.googleapis.com") AND (ProjectOwnership '
        "OR projectOwnerInvitee) OR (protoPayload.serviceData.policyDelta.bindingDeltas.action="
        '"REMOVE" AND protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner") OR '
        '(protoPayload.serviceData.policyDelta.bindingDeltas.action="ADD" AND '
        'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner")'
    ),
    "audit-config-changes": (
        'protoPayload.methodName="SetIamPolicy" AND '
        "protoPayload.serviceData.policyDelta.auditConfigDeltas:*"
    ),
    "custom-role-changes": (
        'resource.type="iam_role" AND (protoPayload.methodName="google.iam.admin.v1.CreateRole" '
        'OR protoPayload.methodName="google.iam.admin.v1.DeleteRole" '
        'OR protoPayload.methodName="google.iam.admin.v1.UpdateRole")'
    ),
    "vpc-firewall-rule-changes": (
        'resource.type="gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" '
        'OR protoPayload.methodName:"compute.firewalls.insert" '
        'OR protoPayload.methodName:"compute.firewalls.delete")'
    ),
    "vpc-route-changes": (
        'resource.type="gce_route" AND (protoPayload.methodName:"compute.routes.delete" '
        'OR protoPayload.methodName:"compute.routes.insert")'
    ),
    "vpc-network-changes": (
        'resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" '
        'OR protoPayload.methodName:"compute.networks.patch" '
        'OR protoPayload.methodName:"compute.networks.delete" '
        'OR protoPayload.methodName:"compute.networks.removePeering" '
        'OR protoPayload.methodName:"compute.networks.addPeering")'
    ),
    "storage-iam-changes": (
        'resource.type="gcs_bucket" AND protoPayload.methodName="storage.setIamPermissions"'
    ),
    "sql-instance-config-changes": 'protoPayload.methodName="cloudsql.instances.update"',
}
ALL_DATA_ACCESS = [
    {
        "service": "allServices",
        "auditLogConfigs": [
            {"logType": "ADMIN_READ"},
            {"logType": "DATA_READ"},
            {"logType": "DATA_WRITE"},
        ],
    }
]


def _compute(project: str) -> str:
    return f"https://www.googleapis.com/compute/v1/projects/{project}"


def _instance(project: str, zone: str, name: str, **fields: Any) -> dict[str, Any]:
    base = _compute(project)
    doc: dict[str, Any] = {
        "kind": "compute#instance",
        "id": str(sum(map(ord, project + name)) * 7919),
        "name": name,
        "zone": f"{base}/zones/{zone}",
        "selfLink": f"{base}/zones/{zone}/instances/{name}",
        "machineType": f"{base}/zones/{zone}/machineTypes/e2-standard-2",
        "status": "RUNNING",
        "creationTimestamp": "2025-04-01T09:00:00.000-07:00",
        "disks": [{"deviceName": name, "boot": True, "type": "PERSISTENT", "mode": "READ_WRITE"}],
        "metadata": {"kind": "compute#metadata", "fingerprint": "bWV0YQ=="},
    }
    doc.update(fields)
    return doc


def _nic(project: str, network: str, ip: str, external: str | None = None) -> dict[str, Any]:
    nic: dict[str, Any] = {
        "name": "nic0",
        "network": f"{_compute(project)}/global/networks/{network}",
        "networkIP": ip,
    }
    if external:
        nic["accessConfigs"] = [
            {"type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": external}
        ]
    return nic


def _alerts(project: str, metrics: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"projects/{project}/alertPolicies/{n}",
            "displayName": f"CIS: {metric}",
            "enabled": True,
            "combiner": "OR",
            "notificationChannels": [f"projects/{project}/notificationChannels/1"],
            "conditions": [
                {
                    "displayName": f"{metric} logged",
                    "conditionThreshold": {
                        "filter": f'metric.type="logging.googleapis.com/user/{metric}"',
                        "comparison": "COMPARISON_GT",
                        "duration": "0s",
                    },
                }
            ],
        }
        for n, metric in enumerate(metrics, start=1)
    ]


def _prod(project: str, number: str) -> dict[str, Any]:
    base = _compute(project)
    default_sa = f"{number}-compute@developer.gserviceaccount.com"
    return {
        f"compute/v1/projects/{project}": {
            "kind": "compute#project",
            "name": project,
            "selfLink": base,
            "defaultServiceAccount": default_sa,
            "commonInstanceMetadata": {
                "kind": "compute#metadata",
                "items": [{"key": "serial-port-enable", "value": "TRUE"}],
            },
        },
        f"compute/v1/projects/{project}/aggregated/instances": {
            "zones/asia-northeast1-a": {
                "instances": [
                    _instance(
                        project,
                        "asia-northeast1-a",
                        "web-1",
                        networkInterfaces=[_nic(project, "default", "10.146.0.2", "203.0.113.10")],
                        serviceAccounts=[
                            {
                                "email": default_sa,
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        canIpForward=True,
                    ),
                    _instance(
                        project,
                        "asia-northeast1-a",
                        "batch-1",
                        networkInterfaces=[_nic(project, "default", "10.146.0.3")],
                        serviceAccounts=[
                            {
                                "email": f"batch@{project}.iam.gserviceaccount.com",
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        shieldedInstanceConfig={"enableSecureBoot": True, "enableVtpm": True},
                    ),
                ]
            },
            "zones/asia-northeast1-b": {},
        },
        f"compute/v1/projects/{project}/global/networks": [
            {
                "name": "default",
                "selfLink": f"{base}/global/networks/default",
                "autoCreateSubnetworks": True,
            }
        ],
        f"compute/v1/projects/{project}/aggregated/subnetworks": {
            "regions/asia-northeast1": {
                "subnetworks": [
                    {
                        "name": "default",
                        "region": f"{base}/regions/asia-northeast1",
                        "network": f"{base}/global/networks/default",
                        "selfLink": f"{base}/regions/asia-northeast1/subnetworks/default",
                        "ipCidrRange": "10.146.0.0/20",
                        "purpose": "PRIVATE",
                    }
                ]
            }
        },
        f"compute/v1/projects/{project}/global/firewalls": [
            {
                "name": "default-allow-ssh",
                "network": f"{base}/global/networks/default",
                "selfLink": f"{base}/global/firewalls/default-allow-ssh",
                "direction": "INGRESS",
                "priority": 65534,
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
            },
            {
                "name": "default-allow-rdp",
                "network": f"{base}/global/networks/default",
                "selfLink": f"{base}/global/firewalls/default-allow-rdp",
                "direction": "INGRESS",
                "priority": 65534,
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["3389"]}],
            },
        ],
        f"compute/v1/projects/{project}/aggregated/backendServices": {
            "global": {
                "backendServices": [
                    {
                        "name": "web-backend",
                        "selfLink": f"{base}/global/backendServices/web-backend",
                        "protocol": "HTTP",
                        "loadBalancingScheme": "EXTERNAL_MANAGED",
                    }
                ]
            }
        },
        f"compute/v1/projects/{project}/aggregated/targetHttpsProxies": {
            "global": {
                "targetHttpsProxies": [
                    {
                        "name": "web-https-proxy",
                        "selfLink": f"{base}/global/targetHttpsProxies/web-https-proxy",
                        "urlMap": f"{base}/global/urlMaps/web",
                    }
                ]
            }
        },
        f"dns/v1/projects/{project}/managedZones": [
            {"name": "acme-example", "dnsName": "acme.example.", "visibility": "public"}
        ],
        f"v2/projects/{project}/sinks": [
            {
                "name": "_Default",
                "destination": f"logging.googleapis.com/projects/{project}/locations/global/buckets/_Default",
                "filter": 'NOT LOG_ID("cloudaudit.googleapis.com/activity") AND NOT '
                'LOG_ID("externalaudit.googleapis.com/activity")',
            },
            {
                "name": "errors-to-gcs",
                "destination": f"storage.googleapis.com/{project}-error-logs",
                "filter": "severity>=ERROR",
            },
        ],
        f"storage/v1/b/{project}-error-logs": {
            "kind": "storage#bucket",
            "name": f"{project}-error-logs",
            "retentionPolicy": {"retentionPeriod": "2592000"},
        },
        f"v2/projects/{project}/metrics": [
            {
                "name": "vpc-firewall-rule-changes",
                "filter": CIS_METRICS["vpc-firewall-rule-changes"],
            }
        ],
        f"v3/projects/{project}/alertPolicies": _alerts(project, ["vpc-firewall-rule-changes"]),
        f"v1/projects/{project}/services/cloudasset.googleapis.com": {
            "name": f"projects/{number}/services/cloudasset.googleapis.com",
            "parent": f"projects/{number}",
            "state": "DISABLED",
        },
    }


def _hardened(project: str, number: str) -> dict[str, Any]:
    base = _compute(project)
    region = f"{base}/regions/asia-northeast1"
    return {
        f"compute/v1/projects/{project}": {
            "kind": "compute#project",
            "name": project,
            "selfLink": base,
            "defaultServiceAccount": f"{number}-compute@developer.gserviceaccount.com",
            "commonInstanceMetadata": {
                "kind": "compute#metadata",
                "items": [{"key": "enable-oslogin", "value": "TRUE"}],
            },
        },
        f"compute/v1/projects/{project}/aggregated/instances": {
            "zones/asia-northeast1-a": {
                "instances": [
                    _instance(
                        project,
                        "asia-northeast1-a",
                        "app-1",
                        networkInterfaces=[_nic(project, "hardened-vpc", "10.10.0.2")],
                        serviceAccounts=[
                            {
                                "email": f"app-runtime@{project}.iam.gserviceaccount.com",
                                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                            }
                        ],
                        shieldedInstanceConfig={
                            "enableSecureBoot": True,
                            "enableVtpm": True,
                            "enableIntegrityMonitoring": True,
                        },
                        disks=[
                            {
                                "deviceName": "app-1",
                                "boot": True,
                                "type": "PERSISTENT",
                                "diskEncryptionKey": {
                                    "sha256": "5XxFtXwP3CRXnpwJfZKPtKbc0fTeSjG24nkBA+TiUbU="
                                },
                            }
                        ],
                        metadata={
                            "kind": "compute#metadata",
                            "items": [{"key": "block-project-ssh-keys", "value": "TRUE"}],
                        },
                    )
                ]
            }
        },
        f"compute/v1/projects/{project}/global/networks": [
            {
                "name": "hardened-vpc",
                "selfLink": f"{base}/global/networks/hardened-vpc",
                "autoCreateSubnetworks": False,
                "subnetworks": [f"{region}/subnetworks/app"],
            }
        ],
        f"compute/v1/projects/{project}/aggregated/subnetworks": {
            "regions/asia-northeast1": {
                "subnetworks": [
                    {
                        "name": "app",
                        "region": region,
                        "network": f"{base}/global/networks/hardened-vpc",
                        "selfLink": f"{region}/subnetworks/app",
                        "ipCidrRange": "10.10.0.0/20",
                        "purpose": "PRIVATE",
                        "privateIpGoogleAccess": True,
                        "logConfig": {
                            "enable": True,
                            "aggregationInterval": "INTERVAL_5_SEC",
                            "flowSampling": 1,
                            "metadata": "INCLUDE_ALL_METADATA",
                        },
                    }
                ]
            }
        },
        f"compute/v1/projects/{project}/global/firewalls": [
            {
                "name": "allow-iap-admin",
                "network": f"{base}/global/networks/hardened-vpc",
                "selfLink": f"{base}/global/firewalls/allow-iap-admin",
                "direction": "INGRESS",
                "priority": 1000,
                "sourceRanges": ["35.235.240.0/20"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22", "3389"]}],
            }
        ],
        f"compute/v1/projects/{project}/aggregated/backendServices": {
            "global": {
                "backendServices": [
                    {
                        "name": "app-backend",
                        "selfLink": f"{base}/global/backendServices/app-backend",
                        "protocol": "HTTPS",
                        "loadBalancingScheme": "EXTERNAL_MANAGED",
                        "logConfig": {"enable": True, "sampleRate": 1},
                    }
                ]
            }
        },
        f"compute/v1/projects/{project}/aggregated/sslPolicies": {
            "global": {
                "sslPolicies": [
                    {
                        "name": "modern-tls12",
                        "selfLink": f"{base}/global/sslPolicies/modern-tls12",
                        "profile": "MODERN",
                        "minTlsVersion": "TLS_1_2",
                    }
                ]
            }
        },
        f"compute/v1/projects/{project}/aggregated/targetHttpsProxies": {
            "global": {
                "targetHttpsProxies": [
                    {
                        "name": "app-https-proxy",
                        "selfLink": f"{base}/global/targetHttpsProxies/app-https-proxy",
                        "sslPolicy": f"{base}/global/sslPolicies/modern-tls12",
                    }
                ]
            }
        },
        f"dns/v1/projects/{project}/managedZones": [
            {
                "name": "hardened-example",
                "dnsName": "hardened.example.",
                "visibility": "public",
                "dnssecConfig": {
                    "state": "on",
                    "nonExistence": "nsec3",
                    "defaultKeySpecs": [
                        {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
                        {"keyType": "zoneSigning", "algorithm": "rsasha256", "keyLength": 1024},
                    ],
                },
            }
        ],
        f"dns/v1/projects/{project}/policies": [
            {
                "name": "dns-logging",
                "enableLogging": True,
                "networks": [{"networkUrl": f"{base}/global/networks/hardened-vpc"}],
            }
        ],
        f"v2/projects/{project}/sinks": [
            {
                "name": "all-logs",
                "destination": f"storage.googleapis.com/{project}-all-logs",
                "writerIdentity": f"serviceAccount:service-{number}@gcp-sa-logging.iam.gserviceaccount.com",
            }
        ],
        f"storage/v1/b/{project}-all-logs": {
            "kind": "storage#bucket",
            "name": f"{project}-all-logs",
            "retentionPolicy": {"retentionPeriod": "31536000", "isLocked": True},
        },
        f"v2/projects/{project}/metrics": [
            {"name": name, "filter": text} for name, text in CIS_METRICS.items()
        ],
        f"v3/projects/{project}/alertPolicies": _alerts(project, list(CIS_METRICS)),
        f"v1/projects/{project}/services/cloudasset.googleapis.com": {
            "name": f"projects/{number}/services/cloudasset.googleapis.com",
            "parent": f"projects/{number}",
            "state": "ENABLED",
        },
    }


def populate(fake: FakeGcp, prod: str, hardened: str) -> None:
    """Add the section 2-4 data to the demo's production and hardened projects."""
    for project_id, build in ((prod, _prod), (hardened, _hardened)):
        project = fake.projects[project_id]
        project.collections.update(build(project.project_id, project.number))
    fake.projects[hardened].iam_policy["auditConfigs"] = ALL_DATA_ACCESS
