"""Every field of the section 2-4 policies' test documents is one Google's API returns: the
item's schema in the shipped discovery document, and each detail's response schema."""

from __future__ import annotations

from typing import Any

import pytest

from posture.catalog import load_catalog
from posture.connectors import discovery

CATALOG = load_catalog()
LIST_OF = "array"
# resource type -> (API, schema of one listed item)
ITEMS = {
    "gcp.compute.instance": ("compute.v1", "Instance"),
    "gcp.compute.project": ("compute.v1", "Project"),
    "gcp.compute.network": ("compute.v1", "Network"),
    "gcp.compute.subnetwork": ("compute.v1", "Subnetwork"),
    "gcp.compute.firewall": ("compute.v1", "Firewall"),
    "gcp.compute.backend_service": ("compute.v1", "BackendService"),
    "gcp.compute.target_https_proxy": ("compute.v1", "TargetHttpsProxy"),
    "gcp.compute.target_ssl_proxy": ("compute.v1", "TargetSslProxy"),
    "gcp.dns.managed_zone": ("dns.v1", "ManagedZone"),
    "gcp.logging.sink": ("logging.v2", "LogSink"),
    "gcp.logging.organization_sink": ("logging.v2", "LogSink"),
    "gcp.logging.project_sinks": ("cloudresourcemanager.v3", "Project"),
    "gcp.logging.audit_config": ("cloudresourcemanager.v3", "Project"),
    "gcp.monitoring.log_metric_alerts": ("cloudresourcemanager.v3", "Project"),
    "gcp.serviceusage.cloud_asset_api": ("serviceusage.v1", "GoogleApiServiceusageV1Service"),
}
# detail name -> (API, schema of its value; a list when marked)
DETAILS = {
    "project_metadata": ("compute.v1", "Metadata", False),
    "dns_policies": ("dns.v1", "Policy", True),
    "ssl_policy": ("compute.v1", "SslPolicy", False),
    "destination_bucket": ("storage.v1", "Bucket", False),
    "sinks": ("logging.v2", "LogSink", True),
    "folder_sinks": ("logging.v2", "LogSink", True),
    "organization_sinks": ("logging.v2", "LogSink", True),
    "iam_policy": ("cloudresourcemanager.v3", "Policy", False),
    "folder_iam_policy": ("cloudresourcemanager.v3", "Policy", False),
    "organization_iam_policy": ("cloudresourcemanager.v3", "Policy", False),
    "metrics": ("logging.v2", "LogMetric", True),
}
ADDED = {"alert_policies"}  # added to each metric by the log_metric_alerts enricher
ENRICHED = {"monitoring_disabled"}  # added to the document by the same enricher


def _unknown(api: str, schema: dict[str, Any], value: Any, path: str) -> list[str]:
    if "$ref" in schema:
        schema = ((discovery.document(api) or {}).get("schemas") or {}).get(schema["$ref"]) or {}
    if isinstance(value, list):
        return [
            p
            for i, v in enumerate(value)
            for p in _unknown(api, schema.get("items") or {}, v, f"{path}[{i}]")
        ]
    if not isinstance(value, dict):
        return []
    props = schema.get("properties")
    if props is None:
        extra = schema.get("additionalProperties") or {}
        return [p for k, v in value.items() for p in _unknown(api, extra, v, f"{path}.{k}")]
    out = []
    for key, inner in value.items():
        if key in ADDED and path.startswith("metrics"):
            continue
        if key not in props:
            out.append(f"{path}.{key}")
        else:
            out += _unknown(api, props[key], inner, f"{path}.{key}")
    return out


CASES = [
    pytest.param(policy, case, id=f"{policy.id}::{case.name}")
    for policy in sorted(CATALOG.policies.values(), key=lambda p: p.id)
    if policy.resource in ITEMS
    for case in policy.tests
]


@pytest.mark.parametrize(("policy", "case"), CASES)
def test_case_fields_exist_in_the_api(policy: Any, case: Any) -> None:
    api, item = ITEMS[policy.resource]
    doc = dict(case.resource)
    problems: list[str] = []
    for name, (detail_api, schema, many) in DETAILS.items():
        if name in doc:
            value = doc.pop(name)
            ref: dict[str, Any] = {"$ref": schema}
            problems += _unknown(
                detail_api, {"type": LIST_OF, "items": ref} if many else ref, value, name
            )
    problems += _unknown(
        api, {"$ref": item}, {k: v for k, v in doc.items() if k not in ENRICHED}, ""
    )
    assert problems == []


def test_the_check_names_an_unknown_field() -> None:
    assert _unknown(
        "compute.v1", {"$ref": "Instance"}, {"shieldedInstanceConfig": {"enableVtp": True}}, ""
    ) == [".shieldedInstanceConfig.enableVtp"]
