"""An estate of many AWS accounts on one moto server: one connection per account.

Each connection signs in through a role of its own account (moto keys the assumed
credentials to the account in the role ARN), so the accounts' resources are apart.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from sqlmodel import func, select

from posture.store import (
    Connection,
    Finding,
    FindingEvent,
    ResultRecord,
    ScanTarget,
    Store,
    Tenant,
)

POLICIES = [
    "aws.s3.bucket_block_public_access",
    "aws.s3.bucket_versioning_enabled",
]
REGION = "us-east-1"
BPA = {
    k: True
    for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
}


def account_id(index: int, base: int) -> str:
    return f"{base + index:012d}"


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/posture-scan"


def _session(endpoint: str, account: str) -> boto3.session.Session:
    sts = boto3.session.Session().client(  # a session per thread: planting runs in threads
        "sts",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    creds = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="plant")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def plant(endpoint: str, accounts: list[str]) -> None:
    """Per account one bucket: open (no public access block, no versioning) in every other
    account, locked in the others."""
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda item: _plant_one(endpoint, *item), enumerate(accounts)))


def _plant_one(endpoint: str, n: int, account: str) -> None:
    """One account's bucket."""
    session = _session(endpoint, account)
    s3 = session.client("s3", endpoint_url=endpoint)
    if n % 2 == 0:
        s3.create_bucket(Bucket=f"open-{account}")
    else:
        s3.create_bucket(Bucket=f"locked-{account}")
        s3.put_public_access_block(Bucket=f"locked-{account}", PublicAccessBlockConfiguration=BPA)
        s3.put_bucket_versioning(
            Bucket=f"locked-{account}", VersioningConfiguration={"Status": "Enabled"}
        )


def expected_findings(count: int) -> int:
    """Findings of ``count`` planted accounts: two per open bucket."""
    return 2 * len(range(0, count, 2))


def make_tenant(
    store: Store,
    slug: str,
    accounts: list[str],
    endpoint: str,
    endpoints: dict[str, str] | None = None,
) -> dict[str, str]:
    """The tenant with a connection ``acct-<id>`` per account; returns connection ids by name."""
    ids: dict[str, str] = {}
    with store.session() as session:
        tenant = Tenant(slug=slug, name=slug.title())
        session.add(tenant)
        session.flush()
        for account in accounts:
            name = f"acct-{account}"
            conn = Connection(
                tenant_id=tenant.id,
                name=name,
                provider="aws",
                settings={
                    "endpoint_url": (endpoints or {}).get(name, endpoint),
                    "regions": [REGION],
                    "role_arn": role_arn(account),
                },
            )
            session.add(conn)
            session.flush()
            ids[name] = conn.id
    return ids


def finding_set(store: Store, slug: str) -> set[tuple[str, str, str, str]]:
    """(connection, policy, resource uid, state) of every finding of the tenant."""
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).one()
        rows = session.exec(
            select(Connection.name, Finding.policy_id, Finding.resource_uid, Finding.state)
            .join(Connection, Connection.id == Finding.connection_id)  # type: ignore[arg-type]
            .where(Finding.tenant_id == tenant.id)
        )
        return {(c, p, u, s) for c, p, u, s in rows}


def counts(store: Store, scan_id: str) -> dict[str, Any]:
    """Rows one scan wrote: outcomes per connection, results, finding events."""
    with store.session() as session:

        def n(model: Any, column: Any) -> int:
            return int(
                session.exec(select(func.count()).select_from(model).where(column == scan_id)).one()
            )

        return {
            "targets": n(ScanTarget, ScanTarget.scan_id),
            "results": n(ResultRecord, ResultRecord.scan_id),
            "events": n(FindingEvent, FindingEvent.scan_id),
        }
