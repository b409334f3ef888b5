"""The vulnerability view: Amazon Inspector's findings grouped by affected resource.

Read from the inventory of the period's latest scan (``aws.inspector2.finding`` documents),
not from posture's findings, so the counts are Inspector's own: per instance, image and
function, the critical and high CVEs, how many have a public exploit and how many a fix.
Resources with exploitable vulnerabilities come first, then those with fixes available.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from posture.store.tables import ResourceRecord, ScanResource, Tenant

FINDING_TYPE = "aws.inspector2.finding"
TOP_CVES = 3


@dataclass(frozen=True)
class VulnerableResource:
    resource_id: str
    kind: str  # Inspector's resource type: AwsEc2Instance, AwsEcrContainerImage, ...
    critical: int
    high: int
    exploitable: int
    fixable: int
    top: tuple[str, ...]  # the most serious vulnerability ids, exploitable first


@dataclass(frozen=True)
class VulnerabilityView:
    resources: tuple[VulnerableResource, ...] = ()


def enabled(tenant: Tenant) -> bool:
    """The tenant's service menu may switch the view off (option ``vulnerability_view``)."""
    options = tenant.options if isinstance(tenant.options, dict) else {}
    return options.get("vulnerability_view", True) is not False


def _rank(doc: dict[str, Any]) -> tuple[int, int, int, float]:
    return (
        int(doc.get("exploitAvailable") == "YES"),
        int(doc.get("fixAvailable") == "YES"),
        int(doc.get("severity") == "CRITICAL"),
        float(doc.get("inspectorScore") or 0),
    )


def read_vulnerabilities(
    session: Session, tenant: Tenant, scan_id: str | None
) -> VulnerabilityView:
    if scan_id is None or not enabled(tenant):
        return VulnerabilityView()
    docs = session.exec(
        select(ResourceRecord.data)
        .join(ScanResource, col(ScanResource.resource_hash) == col(ResourceRecord.hash))
        .where(ScanResource.scan_id == scan_id, ResourceRecord.type == FINDING_TYPE)
    )
    per_resource: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("status", "ACTIVE") != "ACTIVE":
            continue
        key = (str(doc.get("resource_id") or ""), str(doc.get("resource_type") or ""))
        per_resource[key].append(doc)
    rows = []
    for (rid, kind), found in per_resource.items():
        found.sort(key=_rank, reverse=True)
        top: list[str] = []
        for doc in found:
            vid = str(doc.get("vulnerability_id") or doc.get("title") or "")
            if vid and vid not in top:
                top.append(vid)
        rows.append(
            VulnerableResource(
                resource_id=rid,
                kind=kind,
                critical=sum(1 for d in found if d.get("severity") == "CRITICAL"),
                high=sum(1 for d in found if d.get("severity") == "HIGH"),
                exploitable=sum(1 for d in found if d.get("exploitAvailable") == "YES"),
                fixable=sum(1 for d in found if d.get("fixAvailable") == "YES"),
                top=tuple(top[:TOP_CVES]),
            )
        )
    rows.sort(key=lambda r: (-r.exploitable, -r.fixable, -r.critical, -r.high, r.resource_id))
    return VulnerabilityView(tuple(rows))
