"""Named normalisations a collection spec can ask for (``transform: name``).

Kept small and pure: each takes the picked value and returns the document value.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from posture.connectors.aws.monitoring import monitored_activities

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
    """Judge each metric filter's pattern and attach the alarms watching its metric.

    CloudWatch links a filter to its alarms only by metric name and namespace, and an alarm
    to the people it reaches only through the SNS topics in its actions, which a condition
    cannot join. Each filter gets ``monitors`` (the CIS section 5 activities its pattern
    matches, read by :mod:`posture.connectors.aws.filter_pattern`; ``pattern_error`` says why
    a pattern could not be read) and ``alarms``; each alarm gets ``sns_topics`` (its SNS
    actions with their ``confirmed`` and ``pending`` subscription counts) and
    ``confirmed_subscriptions``. A subscription is confirmed once its SubscriptionArn is an
    ARN; until then SNS reports ``PendingConfirmation``. A topic whose subscriptions could
    not be listed (another account's topic) counts as none confirmed. The raw alarm and
    subscription lists are dropped.
    """
    alarms = doc.pop("alarms", None) or []
    counts: dict[str, dict[str, int]] = {}
    for sub in doc.pop("subscriptions", None) or []:
        if not isinstance(sub, dict):
            continue
        topic = counts.setdefault(str(sub.get("TopicArn")), {"confirmed": 0, "pending": 0})
        arn = str(sub.get("SubscriptionArn") or "")
        if arn.startswith("arn:"):
            topic["confirmed"] += 1
        elif arn == "PendingConfirmation":
            topic["pending"] += 1
    for metric_filter in doc.get("metric_filters") or []:
        monitors, error = monitored_activities(metric_filter.get("filterPattern"))
        metric_filter["monitors"] = monitors
        metric_filter["pattern_error"] = error
        metrics = {
            (t.get("metricName"), t.get("metricNamespace"))
            for t in metric_filter.get("metricTransformations") or []
        }
        metric_filter["alarms"] = [
            _alarm(a, counts)
            for a in alarms
            if (a.get("MetricName"), a.get("Namespace")) in metrics
        ]
    return doc


def _alarm(alarm: dict[str, Any], counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    actions = alarm.get("AlarmActions") or []
    topics = [
        {"TopicArn": arn, **counts.get(arn, {"confirmed": 0, "pending": 0})}
        for arn in actions
        if str(arn).startswith("arn:") and str(arn).split(":")[2:3] == ["sns"]
    ]
    return {
        "AlarmName": alarm.get("AlarmName"),
        "ActionsEnabled": alarm.get("ActionsEnabled"),
        "AlarmActions": actions,
        "sns_topics": topics,
        "confirmed_subscriptions": sum(t["confirmed"] for t in topics),
    }


#: GetAccountAuthorizationDetails lists: (list key, inline policy list key, name key, kind)
_PRINCIPAL_LISTS = (
    ("UserDetailList", "UserPolicyList", "UserName", "user"),
    ("GroupDetailList", "GroupPolicyList", "GroupName", "group"),
    ("RoleDetailList", "RolePolicyList", "RoleName", "role"),
)


def inline_policies(value: Any) -> list[dict[str, Any]]:
    """GetAccountAuthorizationDetails -> one item per inline policy of a user, group or role.

    The API embeds each principal's inline policies (``UserPolicyList``, ``GroupPolicyList``,
    ``RolePolicyList``) with their documents, so one paged call replaces a List*Policies and a
    Get*Policy call per principal. botocore already decodes the URL-encoded documents; a
    document that arrives as text is decoded here the same way.
    """
    if not isinstance(value, dict):
        return []
    out: list[dict[str, Any]] = []
    for list_key, policy_key, name_key, kind in _PRINCIPAL_LISTS:
        for principal in value.get(list_key) or []:
            if not isinstance(principal, dict):
                continue
            for policy in principal.get(policy_key) or []:
                if not isinstance(policy, dict):
                    continue
                out.append(
                    {
                        "PolicyName": policy.get("PolicyName"),
                        "PrincipalType": kind,
                        "PrincipalName": principal.get(name_key),
                        "PrincipalArn": principal.get("Arn"),
                        "PrincipalPath": principal.get("Path"),
                        "document": policy_document(policy.get("PolicyDocument")),
                    }
                )
    return out


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def access_keys_at_setup(doc: dict[str, Any]) -> dict[str, Any]:
    """Minutes between a user's creation and the creation of each of its access keys.

    The credential report has no key creation date of its own: for a key that was never
    rotated, ``access_key_N_last_rotated`` is when it was created. A condition cannot
    subtract two fields, so the difference is added as
    ``access_key_N_minutes_after_user_creation`` (null when either date is unknown).
    """
    created = _timestamp(doc.get("user_creation_time"))
    for n in ("1", "2"):
        rotated = _timestamp(doc.get(f"access_key_{n}_last_rotated"))
        minutes = None
        if created is not None and rotated is not None:
            minutes = round((rotated - created).total_seconds() / 60, 1)
        doc[f"access_key_{n}_minutes_after_user_creation"] = minutes
    return doc


def _networks(cidrs: list[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for cidr in cidrs:
        try:
            out.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    return out


def _vpc_cidrs(info: Any) -> list[str]:
    if not isinstance(info, dict):
        return []
    cidrs = [info.get("CidrBlock")]
    cidrs += [c.get("CidrBlock") for c in info.get("CidrBlockSet") or [] if isinstance(c, dict)]
    cidrs += [
        c.get("Ipv6CidrBlock") for c in info.get("Ipv6CidrBlockSet") or [] if isinstance(c, dict)
    ]
    return sorted({str(c) for c in cidrs if c})


def peering_routes(doc: dict[str, Any]) -> dict[str, Any]:
    """Judge each route to this peering connection against the peer VPC's address ranges.

    ``route_tables`` (the route tables holding a route to the connection) become
    ``routes``: one entry per route whose target is this connection, naming its table, the
    destination, the side (the VPC the table belongs to) and ``covers_whole_peer``: true when
    the destination is a default route or spans a whole CIDR block of the VPC on the other
    side, which is what "least access" peering routing rules out.
    """
    pcx = doc.get("VpcPeeringConnectionId")
    sides = {
        str((doc.get(k) or {}).get("VpcId")): _vpc_cidrs(doc.get(k))
        for k in ("RequesterVpcInfo", "AccepterVpcInfo")
    }
    routes: list[dict[str, Any]] = []
    for table in doc.pop("route_tables", None) or []:
        if not isinstance(table, dict):
            continue
        vpc = str(table.get("VpcId"))
        peer = [cidrs for side, cidrs in sides.items() if side != vpc]
        peer_cidrs = peer[0] if peer else []
        for route in table.get("Routes") or []:
            if not isinstance(route, dict) or route.get("VpcPeeringConnectionId") != pcx:
                continue
            destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            dest = _networks([destination])
            covers = bool(dest) and (
                dest[0].prefixlen == 0
                or any(
                    net.version == dest[0].version and net.subnet_of(dest[0])  # type: ignore[arg-type]
                    for net in _networks(peer_cidrs)
                )
            )
            routes.append(
                {
                    "RouteTableId": table.get("RouteTableId"),
                    "VpcId": table.get("VpcId"),
                    "Destination": destination,
                    "DestinationPrefixListId": route.get("DestinationPrefixListId"),
                    "State": route.get("State"),
                    "peer_cidrs": peer_cidrs,
                    "covers_whole_peer": covers,
                }
            )
    doc["routes"] = routes
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
    "access_keys_at_setup": access_keys_at_setup,
    "peering_routes": peering_routes,
}

TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "policy_document": policy_document,
    "credential_report": credential_report,
    "s3_region": s3_region,
    "inline_policies": inline_policies,
}
