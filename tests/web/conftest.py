"""An app over a store with two tenants (acme, beta), their findings, and API tokens of
each role: what every API test starts from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from posture.catalog import Catalog
from posture.operations import Operations
from posture.operations.access import Role
from posture.operations.identity import add_user, create_token
from posture.store import Connection, Store, Tenant
from posture.web.app import create_app
from posture.web.settings import WebSettings
from tests.operations.conftest import ENCRYPTION, ROOT_MFA, VERSIONING, Seed
from tests.web.console_support import Seeded, seed

SOON = (date.today() + timedelta(days=30)).isoformat()  # a waiver's expiry within any limit
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens there


@dataclass
class Estate:
    acme: Tenant
    beta: Tenant
    acme_prod: Connection
    acme_gws: Connection
    beta_prod: Connection
    acme_findings: dict[str, str]  # name -> finding id
    beta_finding: str


@dataclass
class Api:
    client: TestClient
    ops: Operations
    estate: Estate
    tokens: dict[str, str]  # who -> secret
    files: Path

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kw: object) -> object:
        return self.client.get(path, headers=self.auth(who), **kw)  # type: ignore[arg-type]


def seed_estate(store: Store) -> Estate:
    seed = Seed(store)
    acme, beta = seed.tenant("acme"), seed.tenant("beta")
    acme_prod, acme_gws = seed.connection(acme, "prod"), seed.connection(acme, "ws", "gws")
    beta_prod = seed.connection(beta, "prod")
    with store.session() as session:  # a scan or check of it fails at once, on this machine
        for conn in (acme_prod, beta_prod):
            conn.settings = {"endpoint_url": CLOSED_PORT, "regions": ["us-east-1"]}
            session.add(conn)
    scan = seed.scan(acme, 1)
    seed.target(scan, acme_prod)
    evidence = [{"path": "versioning.Status", "op": "eq", "expected": "Enabled", "actual": None}]
    found = {
        "logs": seed.finding(
            acme,
            acme_prod,
            VERSIONING,
            "arn:aws:s3:::logs",
            severity="medium",
            evidence=evidence,
            last_scan_id=scan.id,
        ),
        "data": seed.finding(
            acme, acme_prod, ENCRYPTION, "arn:aws:s3:::data", severity="high", last_scan_id=scan.id
        ),
        "root": seed.finding(
            acme,
            acme_prod,
            ROOT_MFA,
            "arn:aws:iam::111122223333:root",
            resource_type="aws.iam.account",
            severity="critical",
            last_scan_id=scan.id,
        ),
        "old": seed.finding(
            acme,
            acme_prod,
            VERSIONING,
            "arn:aws:s3:::old",
            severity="medium",
            state="resolved",
            last_scan_id=scan.id,
        ),
        "admin": seed.finding(
            acme,
            acme_gws,
            "gws.directory.admin_2sv_enforced",
            "gws-user-1",
            resource_type="gws.directory.user",
            severity="high",
            last_scan_id=scan.id,
        ),
    }
    beta_scan = seed.scan(beta, 2)
    other = seed.finding(
        beta, beta_prod, VERSIONING, "arn:aws:s3:::beta-logs", last_scan_id=beta_scan.id
    )
    return Estate(
        acme,
        beta,
        acme_prod,
        acme_gws,
        beta_prod,
        {k: f.id for k, f in found.items()},
        other.id,
    )


USERS = {
    "admin": (Role.PROVIDER_ADMIN, None),
    "analyst": (Role.ANALYST, None),
    "auditor": (Role.AUDITOR, None),
    "cadmin": (Role.CUSTOMER_ADMIN, "acme"),
    "viewer": (Role.CUSTOMER_VIEWER, "acme"),
    "beta_viewer": (Role.CUSTOMER_VIEWER, "beta"),
}


def make_tokens(ops: Operations) -> dict[str, str]:
    tokens = {}
    for name, (role, tenant) in USERS.items():
        add_user(ops, name, role=role, tenant=tenant, password="correct horse battery staple")
        _, secret = create_token(ops, name, name=f"{name}-token", scopes=None, expires_days=30)
        tokens[name] = secret
    return tokens


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its recommended cost takes most of a second per hash on a shared machine."""
    import posture.operations.identity as identity

    monkeypatch.setattr(
        identity, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def api_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    yield store
    store.dispose()


def serve_api(store: Store, catalog: Catalog, files: Path) -> Iterator[Api]:
    ops = Operations.using(store, catalog)
    estate = seed_estate(store)
    tokens = make_tokens(ops)
    app = create_app(WebSettings(files_dir=files), ops=ops)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, ops, estate, tokens, files)


@pytest.fixture
def api(api_store: Store, catalog: Catalog, tmp_path: Path) -> Iterator[Api]:
    """The app over SQLite."""
    yield from serve_api(api_store, catalog, tmp_path / "files")


@pytest.fixture
def any_api(store: Store, catalog: Catalog, tmp_path: Path) -> Iterator[Api]:
    """The app over SQLite, and over PostgreSQL when configured."""
    yield from serve_api(store, catalog, tmp_path / "files")


# --- the console: the app over a store seeded by console_support ---------------------


@pytest.fixture
def console_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    yield store
    store.dispose()


@pytest.fixture
def seeded(console_store: Store, catalog: Catalog) -> Seeded:
    return seed(console_store, catalog)


@pytest.fixture
def client(
    console_store: Store, catalog: Catalog, seeded: Seeded, tmp_path: Path
) -> Iterator[TestClient]:
    settings = WebSettings(db_url=f"sqlite:///{tmp_path / 'console.db'}", files_dir=tmp_path / "f")
    app = create_app(settings, ops=Operations.using(console_store, catalog))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
