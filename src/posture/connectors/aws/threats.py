"""Vulnerability and threat findings of AWS's own detectors, as collected documents.

Amazon Inspector and GuardDuty report what they found as findings; posture collects them
like any resource (one document per Inspector finding, GuardDuty's per region with its
detector), keeps the fields a reader needs and drops the bulk (descriptions, scores'
vectors, network paths), so a large account does not fill the store with prose.
"""

from __future__ import annotations

from typing import Any

from posture.connectors.aws.transforms import TRANSFORMS

# GuardDuty's numeric severity, as its documentation bands it
_GUARDDUTY_BANDS = ((9.0, "CRITICAL"), (7.0, "HIGH"), (4.0, "MEDIUM"), (0.0, "LOW"))


def guardduty_severity(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "UNKNOWN"
    return next(label for floor, label in _GUARDDUTY_BANDS if number >= floor)


def inspector_findings(value: Any) -> list[dict[str, Any]]:
    """ListFindings items -> the fields of each finding a report and a policy read.

    ``resource_type`` / ``resource_id`` name the affected resource as Inspector does
    (``AwsEc2Instance`` and an instance id, ``AwsEcrContainerImage`` and the image ARN,
    ``AwsLambdaFunction`` and the function ARN); ``vulnerability_id`` is the CVE (or the
    vendor id) of a package vulnerability.
    """
    out = []
    for item in value or []:
        if not isinstance(item, dict):
            continue
        resources = item.get("resources") or [{}]
        first = resources[0] if isinstance(resources[0], dict) else {}
        details = item.get("packageVulnerabilityDetails") or {}
        packages = details.get("vulnerablePackages") or []
        out.append(
            {
                "findingArn": item.get("findingArn"),
                "type": item.get("type"),
                "title": item.get("title"),
                "severity": item.get("severity"),
                "status": item.get("status"),
                "inspectorScore": item.get("inspectorScore"),
                "exploitAvailable": item.get("exploitAvailable", "NO"),
                "fixAvailable": item.get("fixAvailable", "NO"),
                "firstObservedAt": item.get("firstObservedAt"),
                "lastObservedAt": item.get("lastObservedAt"),
                "vulnerability_id": details.get("vulnerabilityId"),
                "packages": [
                    {
                        "name": p.get("name"),
                        "version": p.get("version"),
                        "fixedInVersion": p.get("fixedInVersion"),
                    }
                    for p in packages
                    if isinstance(p, dict)
                ],
                "resource_type": first.get("type"),
                "resource_id": first.get("id"),
                "resource_region": first.get("region"),
            }
        )
    return out


def guardduty_findings(value: Any) -> list[dict[str, Any]]:
    """GetFindings items -> type, severity band, affected resource and counts."""
    out = []
    for item in value or []:
        if not isinstance(item, dict):
            continue
        resource = item.get("Resource") or {}
        instance = resource.get("InstanceDetails") or {}
        key = resource.get("AccessKeyDetails") or {}
        buckets = resource.get("S3BucketDetails") or []
        service = item.get("Service") or {}
        out.append(
            {
                "Id": item.get("Id"),
                "Type": item.get("Type"),
                "Title": item.get("Title"),
                "Severity": item.get("Severity"),
                "severity_label": guardduty_severity(item.get("Severity")),
                "ResourceType": resource.get("ResourceType"),
                "instance_id": instance.get("InstanceId"),
                "access_key_id": key.get("AccessKeyId"),
                "user_name": key.get("UserName"),
                "user_type": key.get("UserType"),
                "buckets": [b.get("Name") for b in buckets if isinstance(b, dict)],
                "count": service.get("Count", 1),
                "archived": bool(service.get("Archived", False)),
                "UpdatedAt": item.get("UpdatedAt"),
            }
        )
    return out


TRANSFORMS.update(inspector_findings=inspector_findings, guardduty_findings=guardduty_findings)
