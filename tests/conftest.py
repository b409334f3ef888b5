"""Shared fixtures: AWS test credentials, a moto server, stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from posture.catalog import Catalog, load_catalog
from posture.store import Store

PG_URL = os.environ.get("POSTURE_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and no user AWS config, so no test can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("POSTURE_HOME", str(tmp_path / "posture-home"))


@pytest.fixture(scope="session")
def system_dns() -> Iterator[str]:
    """The local DNS server (mail_zone) standing in for the system's resolvers."""
    from posture.localapi.dns import dns_server

    with dns_server() as running:
        yield running.server


@pytest.fixture(autouse=True)
def offline_dns(monkeypatch: pytest.MonkeyPatch, system_dns: str) -> None:
    """No test asks the machine's resolvers: a connection without dns_server gets the local one."""
    from posture.connectors.dns import DnsResolver, DnsSettings

    def resolver(self: DnsSettings) -> DnsResolver:
        return DnsResolver(self.dns_server or system_dns, self.dns_timeout)

    monkeypatch.setattr(DnsSettings, "dns_resolver", resolver)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from posture.localapi.aws_extras import install

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    install(server)  # Access Analyzer and contact information, which moto lacks
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_endpoint: str) -> str:
    """A moto server emptied before the test."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return moto_endpoint


def _pg_admin(statement: str) -> None:
    assert PG_URL
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(statement))
    admin.dispose()


@contextmanager
def _postgres_store() -> Iterator[Store]:
    """A store in a schema of its own, dropped afterwards."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    store = Store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.dispose()
        _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store: a SQLite file, and PostgreSQL when configured."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("POSTURE_TEST_DATABASE_URL is not set")
        with _postgres_store() as st:
            yield st
        return
    st = Store(f"sqlite:///{tmp_path / 'posture.db'}")
    yield st
    st.dispose()
