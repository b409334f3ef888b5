"""Resource-level enrichers of the Google Cloud specs: small functions over one document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Enricher = Callable[[dict[str, Any]], dict[str, Any]]


def iam_principals(doc: dict[str, Any]) -> dict[str, Any]:
    """``iam_principals``: each member of ``iam_policy.bindings`` with every role it holds
    there (sorted), for checks over one principal's roles (separation of duties)."""
    roles: dict[str, set[str]] = {}
    policy = doc.get("iam_policy") or {}
    for binding in policy.get("bindings") or []:
        role = str(binding.get("role") or "")
        for member in binding.get("members") or []:
            roles.setdefault(str(member), set()).add(role)
    principals = [{"member": m, "roles": sorted(r)} for m, r in sorted(roles.items())]
    return {**doc, "iam_principals": principals}


def kms_rotation(doc: dict[str, Any]) -> dict[str, Any]:
    """``rotation_period_days``: ``rotationPeriod`` (a JSON duration such as ``"7776000s"``)
    in days; null when the key has no automatic rotation (the field is omitted)."""
    period = str(doc.get("rotationPeriod") or "")
    days: float | None = None
    if period.endswith("s"):
        try:
            days = round(float(period[:-1]) / 86400, 2)
        except ValueError:
            days = None
    return {**doc, "rotation_period_days": days}


ENRICHERS: dict[str, Enricher] = {"iam_principals": iam_principals, "kms_rotation": kms_rotation}
