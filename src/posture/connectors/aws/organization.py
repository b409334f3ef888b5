"""An AWS Organizations connection: every member account, read through one member role.

The connection's credentials sign in to the management account (or a delegated
administrator). At scan time the active member accounts are listed, filtered by the
connection's include/exclude settings, and each is read concurrently (at most
``max_concurrent_accounts`` at a time) by the same collector as a single account, through
``arn:{partition}:iam::{account}:role/{member_role_name}``. The account the credentials
sign in to is read with those credentials. Organisation-level types
(``aws.organizations.*``) are read once, in that account.

An account whose role cannot be assumed is a failed scope of that account only: every type
of it fails as ``ACCOUNT/*`` (its open findings stay as they were), the other accounts are
judged. A scope that fails inside one account fails as ``ACCOUNT/REGION``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import botocore.exceptions
from botocore.parsers import ResponseParserError

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.collector import AwsCollector
from posture.connectors.aws.session import AwsSettings, AwsTarget, member_target, open_target
from posture.connectors.inventory import GLOBAL, Inventory, ScopeFailure
from posture.errors import ConnectionFailure, ConnectionReason
from posture.models import Resource

Progress = Callable[[str, str, int], None]
log = logging.getLogger(__name__)

ORGANIZATION_PREFIX = "aws.organizations."
# the stats row that counts the discovery calls (ListAccounts, ListParents, AssumeRole)
DISCOVERY_TYPE = "aws.organizations.accounts"
NOT_AN_ORGANIZATION = (
    "organisation-level control: the connection is a single AWS account, not an "
    "organization connection (posture connection add aws --organization)"
)
# (service, boto3 call) the organisation connection makes itself, outside any spec
DISCOVERY_CALLS: tuple[tuple[str, str], ...] = (
    ("organizations", "list_accounts"),
    ("organizations", "list_parents"),  # only with exclude_ous, when ListAccounts has no Paths
)
_DENIED = {"AccessDenied", "AccessDeniedException"}
_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, ResponseParserError)
ACTIVE = "ACTIVE"


def is_organization_type(spec: ResourceSpec) -> bool:
    return spec.type.startswith(ORGANIZATION_PREFIX)


@dataclass(frozen=True)
class MemberAccount:
    id: str
    name: str
    ous: tuple[str, ...] = ()  # ids of the OUs above the account, nearest last


@dataclass
class AccountResult:
    """What became of one member account in a scan or check."""

    account: MemberAccount
    role_arn: str  # "" for the account the connection signs in to
    status: str = "scanned"  # scanned | failed
    code: str = ""
    message: str = ""
    regions: list[str] = field(default_factory=list)
    inventory: Inventory | None = None

    def as_dict(self) -> dict[str, Any]:
        failed_scopes = len(self.inventory.failures) if self.inventory else 0
        return {
            "id": self.account.id,
            "name": self.account.name,
            "role_arn": self.role_arn,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "regions": self.regions,
            "failed_scopes": failed_scopes,
        }


def _code(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code", "Unknown")), str(err.get("Message", ""))
    return type(exc).__name__, " ".join(str(exc).split())


def _global_region(target: AwsTarget) -> str:
    return "us-east-1" if target.partition == "aws" else target.home_region


def _account(inventory: Inventory, response: dict[str, Any], *, failed: bool = False) -> None:
    retries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
    inventory.count(DISCOVERY_TYPE, calls=1 + retries, errors=int(failed), throttles=retries)


def discover_accounts(
    target: AwsTarget, settings: AwsSettings, inventory: Inventory
) -> list[MemberAccount]:
    """The active accounts of the organisation (ListAccounts, every page).

    Failing to list them fails the whole connection: judging only the accounts that happen
    to be known would resolve the findings of all the others.
    """
    client = target.client("organizations", _global_region(target))
    accounts: list[MemberAccount] = []
    parents: dict[str, tuple[str, ...]] = {}
    try:
        for page in client.get_paginator("list_accounts").paginate():
            _account(inventory, page)
            for item in page.get("Accounts", []):
                # State replaces the deprecated Status; either may be absent
                state = item.get("State") or item.get("Status")
                if state != ACTIVE:
                    continue
                ous: tuple[str, ...] = ()
                if settings.exclude_ous:
                    ous = _ous_of(client, item, parents, inventory)
                accounts.append(MemberAccount(str(item["Id"]), str(item.get("Name", "")), ous))
    except _ERRORS as exc:
        if isinstance(exc, botocore.exceptions.ClientError):
            _account(inventory, exc.response, failed=True)
        code, message = _code(exc)
        denied = code in _DENIED
        raise ConnectionFailure(
            f"connection '{target.connection}': the accounts of the organisation could not be "
            f"listed from account {target.account_id}: {code}: {message}",
            reason=ConnectionReason.PERMISSION_DENIED
            if denied
            else ConnectionReason.PROVIDER_ERROR,
            connection=target.connection,
            endpoint=target.endpoint_url,
            hint="sign in to the management account or a delegated administrator with "
            "organizations:ListAccounts (posture connection permissions aws --organization)",
        ) from exc
    return sorted(accounts, key=lambda a: a.id)


def _ous_of(
    client: Any, item: dict[str, Any], parents: dict[str, tuple[str, ...]], inventory: Inventory
) -> tuple[str, ...]:
    """OU ids above an account: from ``Paths`` when AWS sends them, else ListParents upwards."""
    paths = item.get("Paths") or []
    if paths:
        return tuple(
            dict.fromkeys(p for path in paths for p in str(path).split("/") if p.startswith("ou-"))
        )
    chain: list[str] = []
    child = str(item["Id"])
    while True:
        if child in parents:
            chain = list(parents[child]) + chain
            break
        response = client.list_parents(ChildId=child)
        _account(inventory, response)
        found = response.get("Parents") or []
        if not found or found[0].get("Type") != "ORGANIZATIONAL_UNIT":
            break
        child = str(found[0]["Id"])
        chain.insert(0, child)
    result = tuple(chain)
    # every OU on the chain shares its ancestors: cache them for the other accounts
    for i, ou in enumerate(result):
        parents.setdefault(ou, result[:i])
    return result


def select_accounts(
    accounts: Sequence[MemberAccount], settings: AwsSettings
) -> list[MemberAccount]:
    """The accounts the connection's include/exclude settings keep."""
    include = set(settings.include_accounts)
    exclude = set(settings.exclude_accounts)
    ous = set(settings.exclude_ous)
    return [
        a
        for a in accounts
        if (not include or a.id in include) and a.id not in exclude and not ous & set(a.ous)
    ]


def member_role_arn(target: AwsTarget, account_id: str, settings: AwsSettings) -> str:
    return f"arn:{target.partition}:iam::{account_id}:role/{settings.member_role_name}"


def _sign_in_member(
    signed_in: AwsTarget, account: MemberAccount, settings: AwsSettings, inventory: Inventory
) -> tuple[AccountResult, AwsTarget | None]:
    if account.id == signed_in.account_id:
        return AccountResult(account, "", regions=list(signed_in.regions)), signed_in
    role_arn = member_role_arn(signed_in, account.id, settings)
    try:
        target = member_target(signed_in, account.id, role_arn, settings)
    except _ERRORS as exc:
        code, message = _code(exc)
        inventory.count(DISCOVERY_TYPE, calls=1, errors=1)
        text = (
            f"account {account.id} ({account.name}): role {role_arn} could not be assumed: "
            f"{code}: {message}"
        )
        return AccountResult(account, role_arn, "failed", code, text), None
    inventory.count(DISCOVERY_TYPE, calls=1)
    return AccountResult(account, role_arn, regions=list(target.regions)), target


def collect_organization(
    connection: str,
    settings: AwsSettings,
    specs: Sequence[ResourceSpec],
    *,
    progress: Progress | None = None,
) -> Inventory:
    """One inventory for the whole organisation (see the module's docstring)."""
    signed_in = open_target(connection, settings)
    inventory = Inventory(connection, "aws", signed_in.account_id, [])
    members = select_accounts(discover_accounts(signed_in, settings, inventory), settings)
    aws_specs = [s for s in specs if s.provider == "aws"]
    org_specs = [s for s in aws_specs if is_organization_type(s)]
    account_specs = [s for s in aws_specs if not is_organization_type(s)]

    def read(account: MemberAccount) -> AccountResult:
        result, target = _sign_in_member(signed_in, account, settings, inventory)
        if target is not None and account_specs:
            result.inventory = AwsCollector(
                target, account_specs, progress=_qualified(progress, account.id)
            ).collect()
        return result

    with ThreadPoolExecutor(settings.max_concurrent_accounts, thread_name_prefix="account") as pool:
        organization = (
            pool.submit(AwsCollector(signed_in, org_specs, progress=progress).collect)
            if org_specs
            else None
        )
        results = list(pool.map(read, members))
        if organization is not None:
            _merge_organization(inventory, organization.result())
    _merge(inventory, results, account_specs)
    return inventory


def _qualified(progress: Progress | None, account: str) -> Progress | None:
    if progress is None:
        return None

    def report(rtype: str, region: str, count: int) -> None:
        progress(rtype, f"{account}/{region}", count)

    return report


def _merge_organization(inventory: Inventory, part: Inventory) -> None:
    """Organisation-level types keep their own (global) scopes: they belong to no member."""
    inventory.add(part.resources)
    for failure in part.failures:
        inventory.fail(failure)
    _merge_stats(inventory, part)


def _merge_stats(inventory: Inventory, part: Inventory) -> None:
    for rtype, stat in part.stats.items():
        total = inventory.stat(rtype)
        total.calls += stat.calls
        total.errors += stat.errors
        total.throttles += stat.throttles
        total.resources += stat.resources
        total.seconds += stat.seconds


def _merge(
    inventory: Inventory, results: list[AccountResult], specs: Sequence[ResourceSpec]
) -> None:
    regions: set[str] = set()
    seen: dict[tuple[str, str], Resource] = {}
    for result in results:
        acct = result.account.id
        inventory.accounts.append(result.as_dict())
        if result.status == "failed":
            for spec in specs:
                inventory.fail(
                    ScopeFailure(
                        spec.type, f"{acct}/*", result.message, result.code, "sts:AssumeRole", acct
                    )
                )
            continue
        part = result.inventory
        if part is None:
            continue
        regions.update(part.regions)
        for resource in part.resources:
            _keep_one(seen, resource)
        for failure in part.failures:
            inventory.fail(replace(failure, region=f"{acct}/{failure.region}", account=acct))
        for (rtype, region), why in part.not_applicable.items():
            inventory.mark_not_applicable(rtype, f"{acct}/{region}", why)
        _merge_stats(inventory, part)
    inventory.add(list(seen.values()))
    inventory.regions = sorted(regions | set(inventory.regions))
    inventory.summary = _summary(results, inventory)


def _keep_one(seen: dict[tuple[str, str], Resource], resource: Resource) -> None:
    """One resource per uid: an organisation trail appears in every member account with the
    management account's ARN; the copy read in the account that owns the ARN is kept."""
    key = (resource.type, resource.uid)
    other = seen.get(key)
    if other is None:
        seen[key] = resource
        return
    owner = resource.account and f":{resource.account}:" in resource.uid
    other_owner = other.account and f":{other.account}:" in other.uid
    if owner and not other_owner:
        seen[key] = resource


def _summary(results: list[AccountResult], inventory: Inventory) -> str:
    failed = [r for r in results if r.status == "failed"]
    parts = [f"{len(results) - len(failed)} of {len(results)} account(s) read"]
    parts += [r.message for r in failed]
    scopes = [f for f in inventory.failures if not f.region.endswith("/*")]
    if scopes:
        parts.append(f"{len(scopes)} resource type(s) could not be collected")
    return "; ".join(parts)


def check_organization(connection: str, settings: AwsSettings) -> dict[str, Any]:
    """Sign in, list the accounts and try each member role, without collecting anything."""
    signed_in = open_target(connection, settings)
    inventory = Inventory(connection, "aws", signed_in.account_id, [])
    found = discover_accounts(signed_in, settings, inventory)
    members = select_accounts(found, settings)
    with ThreadPoolExecutor(settings.max_concurrent_accounts, thread_name_prefix="check") as pool:
        results = list(
            pool.map(lambda a: _sign_in_member(signed_in, a, settings, inventory)[0], members)
        )
    ok = [r for r in results if r.status == "scanned"]
    summary = (
        f"organisation read from account {signed_in.account_id}: {len(found)} active "
        f"account(s), {len(members)} selected, member role usable in {len(ok)} of {len(members)}"
    )
    return {
        "account": signed_in.account_id,
        "regions": signed_in.regions,
        "partition": signed_in.partition,
        "summary": summary,
        "accounts": [r.as_dict() for r in results],
        "healthy": len(ok) == len(members),
    }


def mark_not_collected(inventory: Inventory, specs: Sequence[ResourceSpec]) -> None:
    """A single-account connection does not read organisation-level types: not applicable."""
    for spec in specs:
        inventory.mark_not_applicable(spec.type, GLOBAL, NOT_AN_ORGANIZATION)
