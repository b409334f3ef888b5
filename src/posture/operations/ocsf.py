"""Findings as OCSF Detection Findings (class 2004) for a SIEM.

Events are built with the OCSF models of ``py-ocsf-models`` (OCSF 1.5.0), never as
hand-written dicts, so a field the schema does not know cannot slip in. Each finding gives
one event describing its current state: ``Create``/``New`` while only the scan that found it
has seen it, ``Update``/``In Progress`` while later scans still see it, ``Update``/
``Suppressed`` while a waiver covers it, and ``Close``/``Resolved`` once it is fixed.

Detection Finding has no ``compliance`` attribute; the framework controls a policy maps to
go under ``unmapped.compliance`` as OCSF Compliance objects, together with the bilingual
texts (the event's own title and description are in one language).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.analytic import Analytic
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from posture.operations.rows import FindingRow, Text

PRODUCT_NAME = "posture"
PRODUCT_VENDOR = "posture"
PROFILES = ["cloud"]
# the finding type taxonomy SIEMs already know from cloud security services
CHECK_TYPE = "Software and Configuration Checks"
STANDARDS_TYPE = f"{CHECK_TYPE}/Industry and Regulatory Standards"
ANALYTIC_RULE = 1  # OCSF analytic type_id: Rule

_SEVERITY = {
    "critical": SeverityID.Critical,
    "high": SeverityID.High,
    "medium": SeverityID.Medium,
    "low": SeverityID.Low,
    "info": SeverityID.Informational,
}
_STATUS_CAPTION = {
    StatusID.New: "New",
    StatusID.InProgress: "In Progress",
    StatusID.Suppressed: "Suppressed",
    StatusID.Resolved: "Resolved",
}
_TYPE_UID = {
    ActivityID.Create: DetectionFindingTypeID.Create,
    ActivityID.Update: DetectionFindingTypeID.Update,
    ActivityID.Close: DetectionFindingTypeID.Close,
}


@dataclass(frozen=True)
class CloudFacts:
    """How OCSF names a provider and its account kind (``account_type`` for ``Other``)."""

    provider: str
    account_type_id: TypeID
    account_type: str


_CLOUDS = {
    "aws": CloudFacts("AWS", TypeID.AWS_Account, "AWS Account"),
    "gcp": CloudFacts("GCP", TypeID.Other, "GCP Project"),
    "m365": CloudFacts("Microsoft 365", TypeID.Other, "M365 Tenant"),
    "gws": CloudFacts("Google Workspace", TypeID.Other, "Google Workspace"),
}


@dataclass(frozen=True)
class ConnectionFacts:
    """What an event says about the connection a finding came from."""

    name: str
    provider: str
    account: str = ""


@dataclass(frozen=True)
class Framing:
    """What every event of one export shares."""

    tenant: str  # slug: the tenant uid a SIEM keeps events of many customers apart by
    lang: str
    framework_names: Mapping[str, Text]
    references: Mapping[str, list[str]]  # policy id -> reference links
    connections: Mapping[str, ConnectionFacts]  # by connection name


def millis(moment: datetime) -> int:
    """OCSF timestamps are milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def product_version() -> str:
    try:
        return metadata.version("posture")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0"


def status_of(row: FindingRow) -> tuple[StatusID, ActivityID]:
    """The OCSF status and activity of a finding's current state."""
    if row.status == "resolved":
        return StatusID.Resolved, ActivityID.Close
    if row.status == "waived":
        return StatusID.Suppressed, ActivityID.Update
    if row.first_seen == row.last_seen:
        return StatusID.New, ActivityID.Create
    return StatusID.InProgress, ActivityID.Update


def detection_finding(row: FindingRow, framing: Framing) -> DetectionFinding:
    """One finding as a Detection Finding event in the export's language."""
    status, activity = status_of(row)
    severity = _SEVERITY.get(row.severity, SeverityID.Unknown)
    event_time = (
        row.resolved_at if status is StatusID.Resolved and row.resolved_at else row.last_seen
    )
    title = _pick(row.title, framing.lang) or row.policy_id
    conn = framing.connections.get(row.connection, ConnectionFacts(row.connection, ""))
    return DetectionFinding(
        activity_id=activity,
        activity_name=activity.name,
        type_uid=_TYPE_UID[activity],
        type_name=f"Detection Finding: {activity.name}",
        class_name="Detection Finding",
        severity_id=severity,
        severity=severity.name,
        status_id=status,
        status=_STATUS_CAPTION[status],
        time=millis(event_time),
        message=_pick(row.statement, framing.lang) or title,
        finding_info=FindingInformation(
            uid=row.id,
            title=title,
            desc=_pick(row.statement, framing.lang) or title,
            types=[CHECK_TYPE, *_standard_types(row, framing)],
            created_time=millis(row.first_seen),
            first_seen_time=millis(row.first_seen),
            last_seen_time=millis(row.last_seen),
            analytic=Analytic(uid=row.policy_id, name=title, type_id=ANALYTIC_RULE, type="Rule"),
        ),
        metadata=Metadata(
            uid=_event_uid(row, status, event_time),
            correlation_uid=row.id,
            event_code=row.policy_id,
            tenant_uid=framing.tenant,
            profiles=PROFILES,
            version=OCSF_VERSION,
            product=Product(
                name=PRODUCT_NAME,
                vendor_name=PRODUCT_VENDOR,
                version=product_version(),
                lang=framing.lang,
            ),
        ),
        resources=[
            ResourceDetails(
                uid=row.resource_uid,
                name=row.resource_name or None,
                type=row.resource_type,
                region=row.region or None,
            )
        ],
        cloud=_cloud(conn, row.region),
        remediation=_remediation(row, framing),
        evidences=[_evidence(item) for item in row.evidence] or None,
        unmapped=_unmapped(row, status, framing),
    )


def event_dict(event: DetectionFinding) -> dict[str, Any]:
    """The event as JSON-ready data: absent attributes left out, enums as their numbers."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    return data


def to_json_lines(events: Iterable[DetectionFinding]) -> str:
    """One event per line, the form SIEM collectors ingest."""
    return "".join(
        json.dumps(event_dict(e), ensure_ascii=False, separators=(",", ":")) + "\n" for e in events
    )


def to_json_array(events: Iterable[DetectionFinding]) -> str:
    return json.dumps([event_dict(e) for e in events], ensure_ascii=False, indent=2) + "\n"


def _pick(text: Text, lang: str) -> str:
    """The text in ``lang``, the other language when that one is empty."""
    first, second = (text.ja, text.en) if lang == "ja" else (text.en, text.ja)
    return first or second


def _standard_types(row: FindingRow, framing: Framing) -> list[str]:
    names = (
        _pick(framing.framework_names.get(fw, Text(fw, fw)), framing.lang) for fw in row.frameworks
    )
    return [f"{STANDARDS_TYPE}/{name}" for name in names]


def _event_uid(row: FindingRow, status: StatusID, moment: datetime) -> str:
    """Stable per finding and state: exporting twice gives a SIEM events it can deduplicate."""
    raw = "\x1f".join((row.id, str(int(status)), moment.isoformat())).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]


def _cloud(conn: ConnectionFacts, region: str) -> Cloud:
    facts = _CLOUDS.get(conn.provider, CloudFacts(conn.provider or "Other", TypeID.Other, ""))
    account = Account(
        uid=conn.account or conn.name,
        name=conn.name,
        type_id=facts.account_type_id,
        type=facts.account_type or None,
    )
    return Cloud(provider=facts.provider, account=account, region=region or None)


def _remediation(row: FindingRow, framing: Framing) -> Remediation | None:
    steps = [_pick(row.recommendation, framing.lang), *row.commands]
    desc = "\n".join(s for s in steps if s)
    if not desc:
        return None
    references = list(framing.references.get(row.policy_id, [])) or None
    return Remediation(desc=desc, references=references)


def _evidence(item: Mapping[str, Any]) -> EvidenceArtifacts:
    """The deciding value: which field, what it was, what was expected."""
    data = {key: item.get(key) for key in ("path", "actual", "op", "expected", "negated")}
    return EvidenceArtifacts(name=str(item.get("path", "")) or None, data=data, verdict_id=None)


def _compliance(row: FindingRow, status: StatusID, framing: Framing) -> list[dict[str, Any]]:
    if status is StatusID.Resolved:
        outcome = ComplianceStatusID.Pass
    elif row.judgement == "unknown":  # the newest scan could not see the fact: neither way
        outcome = ComplianceStatusID.Unknown
    else:
        outcome = ComplianceStatusID.Fail
    entries = []
    for fw, controls in row.frameworks.items():
        name = _pick(framing.framework_names.get(fw, Text(fw, fw)), framing.lang)
        for control in controls:
            entry = Compliance(standards=[name], control=control, status_id=outcome)
            data: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
            entries.append({"framework": fw, **data})
    return entries


def _unmapped(row: FindingRow, status: StatusID, framing: Framing) -> dict[str, Any]:
    """What Detection Finding has no attribute for, under stable keys."""
    return {
        "compliance": _compliance(row, status, framing),
        "policy_id": row.policy_id,
        "connection": row.connection,
        "state": row.status,
        "judgement": row.judgement or None,
        "title": row.title.as_dict(),
        "statement": row.statement.as_dict(),
        "recommendation": row.recommendation.as_dict(),
        "resolved_time": millis(row.resolved_at) if row.resolved_at else None,
    }
