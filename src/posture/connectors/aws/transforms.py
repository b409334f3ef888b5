"""Named normalisations a collection spec can ask for (``transform: name``).

Kept small and pure: each takes the picked value and returns the document value.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

_NULLS = {"N/A", "no_information", "not_supported", ""}
_LISTY = ("Action", "NotAction", "Resource", "NotResource")


def policy_document(value: Any) -> Any:
    """IAM-style policy JSON -> dict with list-valued fields, so conditions need one form."""
    if value is None:
        return None
    doc = value
    if isinstance(doc, str):
        text = doc
        if text.lstrip().startswith("%7B") or "%22" in text[:20]:
            text = urllib.parse.unquote(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return {"_unparsed": value}
    if not isinstance(doc, dict):
        return doc
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    doc = dict(doc)
    doc["Statement"] = [_statement(s) for s in statements if isinstance(s, dict)]
    return doc


def _statement(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    for key in _LISTY:
        if key in out and not isinstance(out[key], list):
            out[key] = [out[key]]
    for key in ("Principal", "NotPrincipal"):
        if key in out:
            out[key] = _principal(out[key])
    return out


def _principal(value: Any) -> Any:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, dict):
        return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
    return value


def credential_report(value: Any) -> list[dict[str, Any]]:
    """The GetCredentialReport response -> one dict per CSV row with typed values."""
    content = value.get("Content", b"") if isinstance(value, dict) else value
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    rows = []
    for row in csv.DictReader(io.StringIO(content or "")):
        rows.append({key: _cell(cell) for key, cell in row.items() if key})
    return rows


def _cell(cell: str | None) -> Any:
    if cell is None or cell in _NULLS:
        return None
    if cell == "true":
        return True
    if cell == "false":
        return False
    return cell


def s3_region(value: Any) -> str:
    """GetBucketLocation answers null for us-east-1 and 'EU' for the oldest Irish buckets."""
    if not value:
        return "us-east-1"
    if value == "EU":
        return "eu-west-1"
    return str(value)


def alarms_on_metric_filters(doc: dict[str, Any]) -> dict[str, Any]:
    """Attach to each metric filter the alarms watching its metric; drop the raw alarm list.

    CloudWatch links them only by metric name and namespace, which a condition cannot join.
    """
    alarms = doc.pop("alarms", None) or []
    for metric_filter in doc.get("metric_filters") or []:
        metrics = {
            (t.get("metricName"), t.get("metricNamespace"))
            for t in metric_filter.get("metricTransformations") or []
        }
        metric_filter["alarms"] = [
            {
                "AlarmName": a.get("AlarmName"),
                "ActionsEnabled": a.get("ActionsEnabled"),
                "AlarmActions": a.get("AlarmActions") or [],
            }
            for a in alarms
            if (a.get("MetricName"), a.get("Namespace")) in metrics
        ]
    return doc


# the organisation-integrated security services (CIS AWS 2.1.6): detail name -> (label,
# service principal); the labels are AWS's product names, the same in both languages
SECURITY_SERVICES: dict[str, tuple[str, str]] = {
    "delegated_guardduty": ("GuardDuty", "guardduty.amazonaws.com"),
    "delegated_securityhub": ("Security Hub", "securityhub.amazonaws.com"),
    "delegated_inspector": ("Inspector", "inspector2.amazonaws.com"),
    "delegated_macie": ("Macie", "macie.amazonaws.com"),
    "delegated_access_analyzer": ("IAM Access Analyzer", "access-analyzer.amazonaws.com"),
    "delegated_config": ("Config", "config.amazonaws.com"),
    "delegated_cloudtrail": ("CloudTrail", "cloudtrail.amazonaws.com"),
}


def security_services(doc: dict[str, Any]) -> dict[str, Any]:
    """One ``security_services`` entry per service: trusted access and delegated admins.

    The answers come from one ListDelegatedAdministrators call per service principal and
    ListAWSServiceAccessForOrganization; a condition cannot join them by principal.
    """
    enabled = {
        str(s.get("ServicePrincipal"))
        for s in doc.get("service_access") or []
        if isinstance(s, dict)
    }
    services = []
    for detail, (label, principal) in SECURITY_SERVICES.items():
        admins = doc.pop(detail, None) or []
        services.append(
            {
                "service": label,
                "principal": principal,
                "trusted_access": principal in enabled,
                "delegated_administrators": [
                    str(a.get("Id")) for a in admins if isinstance(a, dict) and a.get("Id")
                ],
            }
        )
    doc["security_services"] = services
    return doc


def _arn_part(index: int) -> Callable[[Any], str]:
    def part(value: Any) -> str:
        pieces = str(value).split(":")
        return pieces[index] if len(pieces) > index else ""

    return part


TEMPLATE_FILTERS: dict[str, Callable[[Any], str]] = {
    "arn_region": _arn_part(3),
    "arn_account": _arn_part(4),
    # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
    "log_group_name": _arn_part(6),
}

ENRICHERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "alarms_on_metric_filters": alarms_on_metric_filters,
    "security_services": security_services,
}

TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "policy_document": policy_document,
    "credential_report": credential_report,
    "s3_region": s3_region,
}
