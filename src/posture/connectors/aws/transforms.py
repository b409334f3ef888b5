"""Named normalisations a collection spec can ask for (``transform: name``).

Kept small and pure: each takes the picked value and returns the document value.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
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


def classic_listener_policies(doc: dict[str, Any]) -> dict[str, Any]:
    """Mark each policy of a Classic Load Balancer with the listener ports that use it.

    DescribeLoadBalancerPolicies answers every policy the load balancer holds, attached or
    not; only those named in a listener's PolicyNames negotiate TLS with clients.
    """
    ports: dict[str, list[Any]] = {}
    for description in doc.get("ListenerDescriptions") or []:
        port = (description.get("Listener") or {}).get("LoadBalancerPort")
        for name in description.get("PolicyNames") or []:
            ports.setdefault(name, []).append(port)
    for policy in doc.get("policies") or []:
        policy["listener_ports"] = ports.get(policy.get("PolicyName"), [])
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
    # arn:aws:sns:REGION:ACCOUNT:NAME, arn:aws:sqs:REGION:ACCOUNT:NAME
    "arn_resource": _arn_part(5),
}

ENRICHERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "alarms_on_metric_filters": alarms_on_metric_filters,
    "access_keys_at_setup": access_keys_at_setup,
    "peering_routes": peering_routes,
    "classic_listener_policies": classic_listener_policies,
    "security_services": security_services,
}

TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "policy_document": policy_document,
    "credential_report": credential_report,
    "s3_region": s3_region,
    "inline_policies": inline_policies,
}


# --- Lambda, EKS and ECR --------------------------------------------------------------------

#: Condition keys that narrow a grant to "*" down to a known caller (an account, an
#: organisation, a source resource or endpoint). Lower case: IAM reads condition keys
#: case-insensitively, and Lambda writes them as ``AWS:SourceAccount``.
RESTRICTING_CONDITION_KEYS = (
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "lambda:eventsourcetoken",
)


def resource_policy_document(value: Any) -> Any:
    """``policy_document`` plus ``ConditionKeys`` on each statement: its condition keys in lower
    case, so a condition can ask whether a grant is narrowed without knowing the operators."""
    doc = policy_document(value)
    if not isinstance(doc, dict) or "Statement" not in doc:
        return doc
    for statement in doc["Statement"]:
        condition = statement.get("Condition")
        keys: set[str] = set()
        if isinstance(condition, dict):
            for block in condition.values():
                if isinstance(block, dict):
                    keys.update(str(key).lower() for key in block)
        statement["ConditionKeys"] = sorted(keys)
    return doc


def lambda_functions(value: Any) -> list[dict[str, Any]]:
    """ListFunctions items with every environment variable *value* removed.

    Values are often credentials; a posture scanner needs only the names, and must not copy
    secrets into its store, reports or exports. ``Environment`` keeps its other members
    (``Error``); ``environment_variable_names`` lists the names, sorted, ``[]`` when none.
    """
    out: list[dict[str, Any]] = []
    for item in value or []:
        if not isinstance(item, dict):
            continue
        function = dict(item)
        names: list[str] = []
        environment = function.get("Environment")
        if isinstance(environment, dict):
            environment = {k: v for k, v in environment.items() if k != "Variables"}
            variables = item["Environment"].get("Variables")
            if isinstance(variables, dict):
                names = sorted(str(name) for name in variables)
            function["Environment"] = environment
        function["environment_variable_names"] = names
        out.append(function)
    return out


#: Lambda-managed runtimes and the date (UTC) each is or will be deprecated, from the
#: "Supported runtimes" and "Deprecated runtimes" tables of
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html. Dates of runtimes
#: still supported are AWS's projections and may move; update this table when they do.
LAMBDA_RUNTIME_DEPRECATION: dict[str, str] = {
    "nodejs": "2016-10-31",
    "nodejs4.3": "2020-03-05",
    "nodejs4.3-edge": "2020-03-05",
    "nodejs6.10": "2019-08-12",
    "nodejs8.10": "2020-03-06",
    "nodejs10.x": "2021-07-30",
    "nodejs12.x": "2023-03-31",
    "nodejs14.x": "2023-12-04",
    "nodejs16.x": "2024-06-12",
    "nodejs18.x": "2025-09-01",
    "nodejs20.x": "2026-04-30",
    "nodejs22.x": "2027-04-30",
    "nodejs24.x": "2028-04-30",
    "python2.7": "2021-07-15",
    "python3.6": "2022-07-18",
    "python3.7": "2023-12-04",
    "python3.8": "2024-10-14",
    "python3.9": "2025-12-15",
    "python3.10": "2026-06-30",
    "python3.11": "2026-06-30",
    "python3.12": "2028-10-31",
    "python3.13": "2029-06-30",
    "python3.14": "2029-06-30",
    "java8": "2024-01-08",
    "java8.al2": "2026-06-30",
    "java11": "2026-06-30",
    "java17": "2026-06-30",
    "java21": "2029-06-30",
    "java25": "2029-06-30",
    "dotnetcore1.0": "2019-07-27",
    "dotnetcore2.0": "2019-05-30",
    "dotnetcore2.1": "2022-01-05",
    "dotnetcore3.1": "2023-04-03",
    "dotnet5.0": "2022-05-10",
    "dotnet6": "2024-12-20",
    "dotnet7": "2024-05-14",
    "dotnet8": "2026-11-10",
    "dotnet10": "2028-11-14",
    "ruby2.5": "2021-07-30",
    "ruby2.7": "2023-12-07",
    "ruby3.2": "2026-03-31",
    "ruby3.3": "2027-03-31",
    "ruby3.4": "2028-03-31",
    "go1.x": "2024-01-08",
    "provided": "2024-01-08",
    "provided.al2": "2026-06-30",
    "provided.al2023": "2029-06-30",
}


def lambda_runtime_support(doc: dict[str, Any]) -> dict[str, Any]:
    """Add ``runtime_support: {runtime, deprecation_date}`` for a Lambda-managed runtime.

    Null for container images (no ``Runtime``) and for runtimes the table does not know,
    so a policy judges the date against its evaluation clock (the scan's time), not today.
    """
    runtime = doc.get("Runtime")
    date = LAMBDA_RUNTIME_DEPRECATION.get(str(runtime)) if runtime else None
    doc["runtime_support"] = {"runtime": runtime, "deprecation_date": date} if date else None
    return doc


#: Amazon EKS Kubernetes release calendar (UTC): end of standard and of extended support,
#: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html. Versions before
#: 1.23 had no extended support; their support ended on the date given for both.
EKS_VERSION_SUPPORT: dict[str, tuple[str, str]] = {
    "1.22": ("2023-06-04", "2023-06-04"),
    "1.23": ("2023-10-11", "2024-10-11"),
    "1.24": ("2024-01-31", "2025-01-31"),
    "1.25": ("2024-05-01", "2025-05-01"),
    "1.26": ("2024-06-11", "2025-06-11"),
    "1.27": ("2024-07-24", "2025-07-24"),
    "1.28": ("2024-11-26", "2025-11-26"),
    "1.29": ("2025-03-23", "2026-03-23"),
    "1.30": ("2025-07-23", "2026-07-23"),
    "1.31": ("2025-11-26", "2026-11-26"),
    "1.32": ("2026-03-23", "2027-03-23"),
    "1.33": ("2026-07-29", "2027-07-29"),
    "1.34": ("2026-12-02", "2027-12-02"),
    "1.35": ("2027-03-27", "2028-03-27"),
}


def _minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def eks_version_support(doc: dict[str, Any]) -> dict[str, Any]:
    """Add ``version_support`` for the cluster's Kubernetes version from the EKS calendar.

    A version older than the calendar's oldest entry gets that entry's dates with
    ``approximate: true`` (its support ended earlier still); a version newer than the table
    knows is null, never judged unsupported.
    """
    cluster = doc.get("cluster") or {}
    version = str(cluster.get("version") or "")
    found = EKS_VERSION_SUPPORT.get(version)
    approximate = False
    wanted = _minor(version)
    if found is None and wanted is not None:
        oldest = min(EKS_VERSION_SUPPORT, key=lambda v: _minor(v) or (0, 0))
        if wanted < (_minor(oldest) or (0, 0)):
            found, approximate = EKS_VERSION_SUPPORT[oldest], True
    doc["version_support"] = (
        {
            "version": version,
            "standard_support_end": found[0],
            "extended_support_end": found[1],
            "approximate": approximate,
        }
        if found
        else None
    )
    return doc


def _wildcard(pattern: str) -> re.Pattern[str]:
    """ECR repository filters: ``*`` matches any run of characters, nothing else is special."""
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")


def ecr_scan_coverage(doc: dict[str, Any]) -> dict[str, Any]:
    """Add ``scan_coverage: {scan_type, frequency, covered_by}`` for one repository.

    The registry's scanning configuration (``registry_scanning``; BASIC without rules when
    never set) applies to a repository when a rule's WILDCARD filter matches its name. With
    basic scanning, the repository's own ``imageScanningConfiguration.scanOnPush`` also
    scans on push. ``frequency`` is SCAN_ON_PUSH, CONTINUOUS_SCAN or null (manual only).
    """
    registry = doc.get("registry_scanning") or {}
    scan_type = registry.get("scanType") or "BASIC"
    name = str(doc.get("repositoryName") or "")
    frequency: str | None = None
    covered_by: str | None = None
    for rule in registry.get("rules") or []:
        if rule.get("scanFrequency") not in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
            continue
        for repo_filter in rule.get("repositoryFilters") or []:
            pattern = str(repo_filter.get("filter") or "")
            matched = bool(pattern) and _wildcard(pattern).match(name) is not None
            if matched and frequency != "CONTINUOUS_SCAN":
                frequency, covered_by = rule["scanFrequency"], f"registry filter {pattern}"
    repo_setting = (doc.get("imageScanningConfiguration") or {}).get("scanOnPush") is True
    if frequency is None and scan_type == "BASIC" and repo_setting:
        frequency, covered_by = "SCAN_ON_PUSH", "repository setting"
    doc["scan_coverage"] = {
        "scan_type": scan_type,
        "frequency": frequency,
        "covered_by": covered_by,
    }
    return doc


TRANSFORMS.update(
    {
        "resource_policy_document": resource_policy_document,
        "lambda_functions": lambda_functions,
    }
)
ENRICHERS.update(
    {
        "lambda_runtime_support": lambda_runtime_support,
        "eks_version_support": eks_version_support,
        "ecr_scan_coverage": ecr_scan_coverage,
    }
)
