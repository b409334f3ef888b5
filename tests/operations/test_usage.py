"""Usage per tenant and month, counted from stored scans in each tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from posture.errors import ConfigurationError, UsageError
from posture.operations import Operations
from posture.operations.usage import UsageRow, tenant_usage
from posture.store import Connection, ResourceRecord, Scan, ScanResource, Store, Tenant
from tests.operations.conftest import Seed

NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
BUCKET = "arn:aws:s3:::acme-logs"


class Estate:
    """Two tenants: ``tokyo`` (Asia/Tokyo) and ``london`` (UTC), with scans near month ends."""

    def __init__(self, store: Store, seed: Seed) -> None:
        self.store, self.seed = store, seed
        self.tokyo = seed.tenant("tokyo", timezone="Asia/Tokyo")
        self.london = seed.tenant("london", timezone="UTC")
        self.prod = self.connection(self.tokyo, "prod", "aws", datetime(2025, 4, 1, tzinfo=UTC))
        self.m365 = self.connection(self.tokyo, "m365", "m365", datetime(2025, 6, 10, tzinfo=UTC))
        self.connection(self.tokyo, "later", "gws", datetime(2025, 7, 5, tzinfo=UTC))
        self.lon = self.connection(self.london, "prod", "aws", datetime(2025, 1, 1, tzinfo=UTC))

    def connection(self, tenant: Tenant, name: str, provider: str, created: datetime) -> Connection:
        conn = Connection(tenant_id=tenant.id, name=name, provider=provider, created_at=created)
        with self.store.session() as session:
            session.add(conn)
        return conn

    def scan(
        self,
        tenant: Tenant,
        at: datetime,
        api_calls: int,
        inventory: list[tuple[Connection, list[Any]]],
    ) -> Scan:
        scan = Scan(tenant_id=tenant.id, status="succeeded", started_at=at, api_calls=api_calls)
        with self.store.session() as session:
            session.add(scan)
        for conn, resources in inventory:
            self.seed.target(scan, conn)
            with self.store.session() as session:
                for rtype, uid, content in resources:
                    digest = f"{rtype}|{uid}|{content}"[-64:]
                    if session.get(ResourceRecord, digest) is None:
                        session.add(
                            ResourceRecord(
                                hash=digest, type=rtype, uid=uid, region="", name=uid, data={}
                            )
                        )
                        session.flush()
                    session.add(
                        ScanResource(scan_id=scan.id, connection_id=conn.id, resource_hash=digest)
                    )
        return scan


@pytest.fixture
def estate(store: Store, seed: Seed) -> Estate:
    e = Estate(store, seed)
    user, mfa, bucket = "aws.iam.user", "m365.entra.user_mfa_state", "aws.s3.bucket"
    # 2025-06-01 01:00 in Tokyo: June there, though still May in UTC
    june_1st = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)
    e.scan(
        e.tokyo,
        june_1st,
        120,
        [
            (e.prod, [(user, ALICE, 1), (bucket, BUCKET, 1)]),
            (e.m365, [("m365.entra.user", "u-1", 1), (mfa, "u-1", 1)]),
        ],
    )
    # alice's configuration changed: a new content, still one identity
    june_15th = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
    e.scan(
        e.tokyo, june_15th, 80, [(e.prod, [(user, ALICE, 2), (user, BOB, 1), (bucket, BUCKET, 1)])]
    )
    e.scan(e.tokyo, datetime(2025, 5, 20, tzinfo=UTC), 50, [(e.prod, [(bucket, BUCKET, 1)])])
    # 2025-07-01 00:30 in Tokyo
    e.scan(e.tokyo, datetime(2025, 6, 30, 15, 30, tzinfo=UTC), 7, [(e.prod, [])])
    workspace = [("gws.directory.user", "g-1", 1), (user, ALICE, 1)]
    e.scan(e.london, june_1st, 30, [(e.lon, workspace)])
    return e


def test_usage_of_a_month_in_each_tenant_s_time_zone(ops: Operations, estate: Estate) -> None:
    london, tokyo = tenant_usage(ops, month="2025-06", now=NOW)
    assert tokyo == UsageRow(
        tenant="tokyo",
        month="2025-06",
        timezone="Asia/Tokyo",
        connections=2,  # "later" was added in July
        connections_scanned=2,
        identities=3,  # alice, bob and u-1 (the MFA state of u-1 is not another identity)
        resources=4,  # alice, bob, the bucket, u-1
        scans=2,
        api_calls=200,
        in_progress=True,
        plan="sspm+cspm",  # no plan recorded: every provider, no connection limit
    )
    assert (london.scans, london.resources, london.identities) == (0, 0, 0)
    assert london.connections == 1 and london.connections_scanned == 0


def test_usage_of_an_earlier_month_and_of_one_tenant(ops: Operations, estate: Estate) -> None:
    (london,) = tenant_usage(ops, "london", month="2025-05", now=NOW)
    assert (london.scans, london.api_calls, london.identities, london.resources) == (1, 30, 2, 2)
    assert london.in_progress is False
    (tokyo,) = tenant_usage(ops, "tokyo", month="2025-05", now=NOW)
    assert (tokyo.scans, tokyo.api_calls, tokyo.resources, tokyo.connections) == (1, 50, 1, 1)
    (july,) = tenant_usage(ops, "tokyo", month="2025-07", now=NOW)
    assert (july.scans, july.api_calls, july.connections) == (1, 7, 3)


def test_the_default_month_is_the_current_one_there(ops: Operations, estate: Estate) -> None:
    moment = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)  # July 1st in Tokyo, June 30th in London
    london, tokyo = tenant_usage(ops, now=moment)
    assert (london.month, tokyo.month) == ("2025-06", "2025-07")


def test_usage_input_is_checked(ops: Operations, estate: Estate) -> None:
    for bad in ("2025-13", "June", "2025-6"):
        with pytest.raises(UsageError, match="--month takes YYYY-MM"):
            tenant_usage(ops, month=bad, now=NOW)
    with pytest.raises(ConfigurationError, match="unknown tenant 'nobody'"):
        tenant_usage(ops, "nobody", now=NOW)


def test_a_store_without_tenants_has_no_usage(ops: Operations) -> None:
    assert tenant_usage(ops, month="2025-06", now=NOW) == []
