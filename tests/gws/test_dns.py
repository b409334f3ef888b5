"""SPF, DKIM and DMARC of a Workspace customer's domains and verified aliases, through the
real Google Workspace connector and the local DNS server, and through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from posture.catalog.spec import ResourceSpec
from posture.cli import app
from posture.cli.runtime import run_app
from posture.connectors.gws.entry import collect
from posture.localapi.dns import RunningDns, dns_server
from posture.localapi.google import RunningGoogle
from posture.store import Connection, Finding, ResultRecord, Store

TYPE = "gws.dns.mail_domain"


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server() as running:
        yield running


def dns_specs(specs: list[ResourceSpec]) -> list[ResourceSpec]:
    return [s for s in specs if s.type in (TYPE, "gws.directory.domain")]


def test_domains_and_verified_aliases(
    google: RunningGoogle, dns: RunningDns, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("workspace", {**settings, "dns_server": dns.server}, dns_specs(gws_specs))
    assert not inventory.failures
    docs = {r.uid: r.data for r in inventory.resources if r.type == TYPE}
    # example.co.jp and the alias example.org are not verified
    assert sorted(docs) == ["example.jp", "example.net"]
    primary, alias = docs["example.jp"], docs["example.net"]
    assert primary["primary"] is True and primary["alias"] is False
    assert primary["spf"]["all"] == "~all" and primary["dmarc"]["policy"] == "quarantine"
    assert primary["dkim"]["published"] == ["google"]
    assert alias["alias"] is True and alias["parent"] == "example.jp"
    assert alias["spf"]["records"] == [] and alias["dmarc"]["valid"] is False
    assert inventory.stats[TYPE].calls == 6  # three names per domain, each asked once


def test_a_timeout_fails_only_that_domain(
    google: RunningGoogle, dns: RunningDns, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    dns.fake.drop.add("google._domainkey.example.jp")
    custom = {**settings, "dns_server": dns.server, "dns_timeout": 0.2}
    inventory = collect("workspace", custom, dns_specs(gws_specs))
    [failure] = inventory.failures
    assert (failure.region, failure.code) == ("example.jp", "Timeout")
    assert [r.uid for r in inventory.resources if r.type == TYPE] == ["example.net"]


def cli(db: str, *args: str) -> int:
    return run_app(app, ["--db", db, *args])


def test_cli_scan_then_a_failing_resolver_keeps_findings(
    google: RunningGoogle, dns: RunningDns, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'gws-dns.db'}"
    assert cli(db, "tenant", "add", "acme", "--name", "Acme Japan") == 0
    code = cli(
        db,
        *("connection", "add", "gws", "--tenant", "acme", "--name", "workspace"),
        *("--admin-email", "alice@example.jp", "--key-file", str(google.key_file)),
        *("--root-url", google.url, "--ca-bundle", str(google.ca_bundle)),
        *("--dns-server", dns.server, "--dkim-selector", "google", "--dkim-selector", "s2"),
    )
    assert code == 0
    store = Store(db)
    with store.session() as session:
        [conn] = session.exec(select(Connection))
        assert conn.settings["dns_server"] == dns.server
        assert conn.settings["dkim_selectors"] == ["google", "s2"]
    store.dispose()

    assert cli(db, "scan", "--tenant", "acme", "--policy", "gws.dns", "-q") == 0
    first = findings(db)
    assert ("gws.dns.spf_hard_fail", "example.jp") in first  # ~all
    assert ("gws.dns.dmarc_reject", "example.jp") in first  # quarantine
    assert ("gws.dns.spf_published", "example.jp") not in first
    assert ("gws.dns.dkim_enabled", "example.jp") not in first
    for policy in ("spf_published", "dkim_enabled", "dmarc_published"):
        assert (f"gws.dns.{policy}", "example.net") in first
    alias = first[("gws.dns.dmarc_published", "example.net")]
    assert alias.statement["en"] == "No valid DMARC record applies to example.net"
    assert alias.statement["ja"] == "example.net に適用される有効な DMARC レコードがありません"

    dns.fake.servfail.add("example.net")
    cli(db, "scan", "--tenant", "acme", "--policy", "gws.dns", "-q")
    second = findings(db)
    assert second[("gws.dns.spf_published", "example.net")].state == "open"
    store = Store(db)
    with store.session() as session:
        errors = [
            r
            for r in session.exec(select(ResultRecord))
            if r.status == "error" and r.policy_id == "gws.dns.spf_published"
        ]
    store.dispose()
    assert errors and errors[-1].region == "example.net"


def findings(db: str) -> dict[tuple[str, str], Finding]:
    store = Store(db)
    try:
        with store.session() as session:
            return {
                (f.policy_id, f.resource_uid): f
                for f in session.exec(select(Finding))
                if f.state == "open"
            }
    finally:
        store.dispose()
