"""A connection that cannot be opened fails alone, with a reason code; the scan always ends.

Each bad connection sits in a tenant next to a good moto connection: the good one must be
scanned, the bad one must fail with the right code, and no scan may stay ``running``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from sqlmodel import select

from posture import scan as scan_module
from posture.catalog import Catalog
from posture.connectors.aws import AwsSettings, open_target
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError
from posture.scan import run_scan
from posture.store import Connection, Scan, ScanTarget, Store, Tenant

from .fake_endpoints import bad_connections, closed_port, fake_endpoints
from .helpers import open_ssh_group

POLICIES = ["aws.ec2"]
REGION = "ap-northeast-1"


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[str]:
    with fake_endpoints() as base:
        yield base


def make_tenant(store: Store, good: str, bad: dict[str, dict[str, Any]]) -> None:
    """Written through the store, bypassing the CLI's validation of settings."""
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan")
        session.add(tenant)
        session.flush()
        settings = {"prod": {"endpoint_url": good, "regions": [REGION]}, **bad}
        for name, value in settings.items():
            session.add(Connection(tenant_id=tenant.id, name=name, provider="aws", settings=value))


def scans(store: Store) -> list[Scan]:
    with store.session() as session:
        return list(session.exec(select(Scan)))


def targets(store: Store, scan_id: str) -> dict[str, ScanTarget]:
    with store.session() as session:
        rows = session.exec(
            select(ScanTarget, Connection)
            .join(Connection, Connection.id == ScanTarget.connection_id)
            .where(ScanTarget.scan_id == scan_id)
        )
        return {conn.name: target for target, conn in rows}


def test_each_bad_connection_fails_alone_with_its_reason(
    store: Store, moto_url: str, fake_aws: str, catalog: Catalog
) -> None:
    open_ssh_group(boto3.client("ec2", region_name=REGION, endpoint_url=moto_url), "bastion")
    cases = bad_connections(fake_aws)
    make_tenant(store, moto_url, {name: settings for name, (settings, _) in cases.items()})

    outcome = run_scan(store, catalog, "acme", policy_ids=POLICIES)

    by_name = {t.connection: t for t in outcome.targets}
    assert outcome.status == "partial"
    assert by_name["prod"].status == "succeeded" and by_name["prod"].resources > 0
    assert by_name["prod"].lifecycle.new > 0
    rows = targets(store, outcome.scan_id)
    for name, (settings, code) in cases.items():
        assert by_name[name].status == "failed", name
        assert by_name[name].reason == code, (name, by_name[name].message)
        assert f"connection '{name}'" in by_name[name].message
        assert rows[name].status == "failed"
        assert rows[name].stats["reason_code"] == code
        if code != "invalid_settings":  # the message names the endpoint it tried
            assert settings["endpoint_url"] in by_name[name].message, by_name[name].message
    (row,) = scans(store)
    assert row.status == "partial" and row.finished_at is not None
    with store.session() as session:
        health = {c.name: c.health for c in session.exec(select(Connection))}
    assert health == {"prod": "ok", **dict.fromkeys(cases, "failed")}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("html", ConnectionReason.NOT_AWS),  # not even XML
        ("xhtml", ConnectionReason.NOT_AWS),  # XML, but not an STS answer
        ("missing", ConnectionReason.NOT_AWS),  # an HTTP error without an AWS error code
        ("json", ConnectionReason.NOT_AWS),
        ("rejected", ConnectionReason.CREDENTIALS_REJECTED),
        ("signature", ConnectionReason.CREDENTIALS_REJECTED),
        ("expired", ConnectionReason.TOKEN_EXPIRED),
    ],
)
def test_sign_in_failures_are_classified(
    fake_aws: str, path: str, reason: ConnectionReason
) -> None:
    endpoint = f"{fake_aws}/{path}"
    settings = AwsSettings(endpoint_url=endpoint, regions=[REGION], max_attempts=1)
    with pytest.raises(ConnectionFailure) as caught:
        open_target("acme-prod", settings)
    failure = caught.value
    assert failure.reason is reason and failure.code in ("connection_failure", "credential_error")
    assert failure.connection == "acme-prod" and failure.endpoint == endpoint
    assert "connection 'acme-prod'" in failure.message and endpoint in failure.message
    assert "\n" not in failure.message and len(failure.message) < 400  # no page dumped
    assert failure.hint
    credential = reason in {ConnectionReason.CREDENTIALS_REJECTED, ConnectionReason.TOKEN_EXPIRED}
    assert isinstance(failure, CredentialError) is credential


def test_unreachable_endpoint_fails_fast() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    settings = AwsSettings(endpoint_url=endpoint, regions=[REGION])  # full retry budget
    with pytest.raises(ConnectionFailure) as caught:
        open_target("acme-prod", settings)
    assert caught.value.reason is ConnectionReason.ENDPOINT_UNREACHABLE
    assert "Connection refused" in caught.value.message


def test_missing_credentials_and_unknown_profile(
    monkeypatch: pytest.MonkeyPatch, moto_url: str
) -> None:
    with pytest.raises(CredentialError) as caught:
        open_target("acme-prod", AwsSettings(profile="nope", endpoint_url=moto_url))
    assert caught.value.reason is ConnectionReason.PROFILE_NOT_FOUND
    assert "'nope'" in caught.value.message
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CredentialError) as caught:
        open_target("acme-prod", AwsSettings(endpoint_url=moto_url, max_attempts=1))
    assert caught.value.reason is ConnectionReason.CREDENTIALS_MISSING


def test_bad_aws_endpoint_url_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")
    with pytest.raises(Exception, match="AWS_ENDPOINT_URL: endpoint URL 'localhost:4566'"):
        open_target("acme-prod", AwsSettings(regions=[REGION]))


def test_unexpected_error_fails_that_connection_only(
    store: Store, moto_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tenant(store, moto_url, {"buggy": {"endpoint_url": moto_url, "regions": [REGION]}})
    real = scan_module.collector

    def collector(provider: str) -> Any:
        collect = real(provider)

        def run(connection: str, *args: Any, **kwargs: Any) -> Any:
            if connection == "buggy":
                raise ValueError("a bug\nover two lines")
            return collect(connection, *args, **kwargs)

        return run

    monkeypatch.setattr(scan_module, "collector", collector)
    outcome = run_scan(store, catalog, "acme", policy_ids=POLICIES)
    by_name = {t.connection: t for t in outcome.targets}
    assert by_name["prod"].status == "succeeded"
    buggy = by_name["buggy"]
    assert buggy.status == "failed" and buggy.reason == "internal_error"
    assert buggy.message == "connection 'buggy': unexpected ValueError: a bug over two lines"
    assert targets(store, outcome.scan_id)["buggy"].stats["reason_code"] == "internal_error"
    assert [s.status for s in scans(store)] == ["partial"]


def test_a_failing_finish_still_ends_the_scan(
    store: Store, moto_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tenant(store, moto_url, {})

    def broken(*_: Any) -> Any:
        raise RuntimeError("store went away")

    monkeypatch.setattr(scan_module, "open_counts", broken)
    with pytest.raises(RuntimeError):
        run_scan(store, catalog, "acme", policy_ids=POLICIES)
    (row,) = scans(store)
    assert row.status == "failed" and row.finished_at is not None
    assert "store went away" in row.message and "prod: succeeded" in row.message


def test_an_interrupted_scan_is_marked_interrupted(
    store: Store, moto_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tenant(store, moto_url, {})

    def interrupted(_: str) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_module, "collector", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_scan(store, catalog, "acme", policy_ids=POLICIES)
    (row,) = scans(store)
    assert row.status == "interrupted" and row.finished_at is not None
