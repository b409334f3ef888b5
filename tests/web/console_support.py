"""A store for the console tests: two tenants with findings, users of every kind.

``acme`` has a bucket whose name is hostile markup, a connection whose newest collection
failed for a scope with a named missing permission, and findings across two scans;
``beta`` has two findings. Users: a provider administrator (English), an analyst
(Japanese), a customer administrator of ``acme`` and a customer viewer of ``beta``, each
with a known password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from posture.catalog import Catalog
from posture.operations import Operations
from posture.operations.access import Role
from posture.operations.identity import add_user
from posture.store import ScanTarget, Store
from tests.operations.conftest import ENCRYPTION, ROOT_MFA, VERSIONING
from tests.operations.estate import ACCOUNT, DATA, LOGS, Estate, account, bucket

HOSTILE = "arn:aws:s3:::<script>alert(1)</script>"
PASSWORD = "correct horse battery staple"
ADMIN, ANALYST, CUSTOMER_ADMIN, VIEWER = "alice", "aiko", "carol", "victor"
MISSING_PERMISSION = "kms:ListKeys"


@dataclass
class Seeded:
    acme: Estate
    beta: Estate


def seed(store: Store, catalog: Catalog, now: datetime | None = None) -> Seeded:
    moment = now or datetime.now(UTC)
    acme, beta = Estate(store, catalog, "acme"), Estate(store, catalog, "beta")
    everything = [bucket(LOGS), bucket(DATA), bucket(HOSTILE), account()]
    acme.scan(
        moment - timedelta(days=40),
        everything,
        [(VERSIONING, LOGS), (ENCRYPTION, HOSTILE), (ROOT_MFA, ACCOUNT)],
    )
    scan_id, _ = acme.scan(
        moment - timedelta(days=1),
        everything,
        [(VERSIONING, LOGS), (ENCRYPTION, HOSTILE), (ROOT_MFA, ACCOUNT), (VERSIONING, DATA)],
    )
    failure = {
        "resource_type": "aws.kms.key",
        "region": "ap-northeast-1",
        "message": "AccessDeniedException",
        "permission": MISSING_PERMISSION,
    }
    with store.session() as session:
        session.add(
            ScanTarget(
                scan_id=scan_id,
                connection_id=acme.prod.id,
                status="partial",
                stats={"failures": [failure]},
                finished_at=moment - timedelta(days=1),
            )
        )
    beta.scan(
        moment - timedelta(days=2),
        [bucket(LOGS), bucket(DATA)],
        [(VERSIONING, LOGS), (VERSIONING, DATA)],
    )
    ops = Operations.using(store, catalog)
    add_user(ops, ADMIN, role=Role.PROVIDER_ADMIN, password=PASSWORD, locale="en")
    add_user(ops, ANALYST, role=Role.ANALYST, password=PASSWORD, locale="ja")
    add_user(ops, CUSTOMER_ADMIN, role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    add_user(ops, VIEWER, role=Role.CUSTOMER_VIEWER, tenant="beta", password=PASSWORD)
    return Seeded(acme, beta)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from the next page)."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(page.text)},
    )
    assert response.status_code == 200, response.text
    return form_token(response.text)


def finding_ids(html: str, slug: str) -> list[str]:
    return re.findall(rf'href="/t/{slug}/findings/([0-9a-f]+)"', html)
