"""SPF, DKIM and DMARC of the tenant's mail domains: the real M365 connector reads the
domains from the local Graph and the records from the local DNS server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from posture.catalog.spec import ResourceSpec
from posture.cli import app
from posture.cli.runtime import run_app
from posture.connectors.inventory import GLOBAL
from posture.connectors.m365.entry import collect
from posture.localapi.dns import RunningDns, dns_server
from posture.localapi.graph import CLIENT_ID, TENANT_ID, GraphServer
from posture.store import Connection, Finding, ResultRecord, Store

from .conftest import SECRET_ENV

TYPE = "m365.dns.mail_domain"


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server() as running:
        yield running


def dns_specs(specs: list[ResourceSpec]) -> list[ResourceSpec]:
    return [s for s in specs if s.type in (TYPE, "m365.entra.domain")]


def test_one_document_per_verified_email_domain(
    graph: GraphServer, dns: RunningDns, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.tenant["/domains"].append(
        {"id": "pending.example", "isVerified": False, "supportedServices": ["Email"]}
    )
    graph.state.tenant["/domains"].append(
        {"id": "intune.example", "isVerified": True, "supportedServices": ["Intune"]}
    )
    inventory = collect("contoso", graph.settings(dns_server=dns.server), dns_specs(m365_specs))
    assert not inventory.failures
    docs = {r.uid: r for r in inventory.resources if r.type == TYPE}
    assert sorted(docs) == ["contoso.example", "contoso.onmicrosoft.com"]
    custom = docs["contoso.example"]
    assert custom.region == "contoso.example" and custom.account == TENANT_ID
    assert custom.data["initial"] is False and custom.data["default"] is True
    assert custom.data["spf"]["all"] == "-all"
    assert custom.data["dmarc"]["policy"] == "reject"
    assert custom.data["dkim"]["published"] == ["selector1", "selector2"]
    selector = custom.data["dkim"]["selectors"]["selector1"]
    assert selector["cname"] == "selector1-contoso-example._domainkey.contoso.onmicrosoft.com"
    assert docs["contoso.onmicrosoft.com"].data["initial"] is True
    assert inventory.stats[TYPE].resources == 2 and inventory.stats[TYPE].calls == 8


def test_a_failing_resolver_fails_only_that_domain(
    graph: GraphServer, dns: RunningDns, m365_specs: list[ResourceSpec]
) -> None:
    dns.fake.servfail.add("_dmarc.contoso.example")
    settings = graph.settings(dns_server=dns.server, dns_timeout=0.5)
    inventory = collect("contoso", settings, dns_specs(m365_specs))
    [failure] = inventory.failures
    assert (failure.resource_type, failure.region, failure.code) == (
        TYPE,
        "contoso.example",
        "ServerFailure",
    )
    assert "_dmarc.contoso.example" in failure.message and dns.server in failure.message
    assert [r.uid for r in inventory.resources if r.type == TYPE] == ["contoso.onmicrosoft.com"]


def test_the_domain_list_failing_fails_the_type(
    graph: GraphServer, dns: RunningDns, m365_specs: list[ResourceSpec]
) -> None:
    graph.state.denied.add("/domains")
    inventory = collect("contoso", graph.settings(dns_server=dns.server), dns_specs(m365_specs))
    failed = inventory.failed_scopes()
    assert (TYPE, GLOBAL) in failed and "m365.entra.domain" in failed[(TYPE, GLOBAL)]
    assert dns.fake.queries == {}


def test_connection_setting_replaces_the_dkim_selectors(
    graph: GraphServer, dns: RunningDns, m365_specs: list[ResourceSpec]
) -> None:
    dns.fake.zone["s2048._domainkey.contoso.example"] = {"TXT": ["v=DKIM1; p=MIIB"]}
    settings = graph.settings(dns_server=dns.server, dkim_selectors=["s2048"])
    inventory = collect("contoso", settings, dns_specs(m365_specs))
    doc = next(r.data for r in inventory.resources if r.type == TYPE and r.uid == "contoso.example")
    assert list(doc["dkim"]["selectors"]) == ["s2048"] and doc["dkim"]["published"] == ["s2048"]


# -- through the CLI, into SQLite -------------------------------------------------------------


def cli(db: str, *args: str) -> int:
    return run_app(app, ["--db", db, *args])


def add(db: str, graph: GraphServer, *extra: str, tenant: bool = True) -> int:
    if tenant:
        assert cli(db, "tenant", "add", "acme", "--name", "Acme") == 0
    return cli(
        db,
        *("connection", "add", "m365", "--tenant", "acme", "--name", "contoso"),
        *("--tenant-id", TENANT_ID, "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV),
        *("--authority", graph.url, "--graph-url", graph.url, "--ca-bundle", graph.ca_bundle),
        *extra,
    )


def rows(db: str) -> tuple[dict[tuple[str, str], Finding], list[ResultRecord]]:
    store = Store(db)
    try:
        with store.session() as session:
            found = {(f.policy_id, f.resource_uid): f for f in session.exec(select(Finding))}
            results = list(session.exec(select(ResultRecord)))
            return found, results
    finally:
        store.dispose()


def test_cli_scan_and_a_failing_resolver_keeps_findings(
    graph: GraphServer, dns: RunningDns, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'dns.db'}"
    dns.fake.zone["contoso.example"] = {"TXT": ["v=spf1 include:spf.protection.outlook.com ~all"]}
    dns.fake.zone["_dmarc.contoso.example"] = {"TXT": ["v=DMARC1; p=quarantine"]}
    assert add(db, graph, "--dns-server", dns.server) == 0
    store = Store(db)
    with store.session() as session:
        [conn] = session.exec(select(Connection))
        assert conn.settings["dns_server"] == dns.server
    store.dispose()
    assert cli(db, "scan", "--tenant", "acme", "--policy", "m365.dns", "-q") == 0
    first, _ = rows(db)
    open_ = {k for k, f in first.items() if f.state == "open"}
    assert ("m365.dns.spf_hard_fail", "contoso.example") in open_
    assert ("m365.dns.dmarc_reject", "contoso.example") in open_
    assert ("m365.dns.dmarc_aggregate_reports", "contoso.example") in open_
    assert ("m365.dns.dmarc_reject", "contoso.onmicrosoft.com") in open_  # p=none
    assert ("m365.dns.spf_published", "contoso.example") not in open_
    assert ("m365.dns.dkim_enabled", "contoso.example") not in open_
    assert not any(
        uid == "contoso.onmicrosoft.com" and p.startswith("m365.dns.spf") for p, uid in open_
    )
    finding = first[("m365.dns.spf_hard_fail", "contoso.example")]
    assert "~all" in finding.statement["en"] and "~all" in finding.statement["ja"]

    # the DNS server now fails for the custom domain: its findings stay open, the
    # initial domain is judged again (its DMARC record was fixed meanwhile)
    dns.fake.servfail.add("contoso.example")
    dns.fake.zone["_dmarc.contoso.onmicrosoft.com"] = {
        "TXT": ["v=DMARC1; p=reject; rua=mailto:d@contoso.example"]
    }
    cli(db, "scan", "--tenant", "acme", "--policy", "m365.dns", "-q")
    second, results = rows(db)
    assert second[("m365.dns.spf_hard_fail", "contoso.example")].state == "open"
    assert second[("m365.dns.dmarc_reject", "contoso.example")].state == "open"
    assert second[("m365.dns.dmarc_reject", "contoso.onmicrosoft.com")].state == "resolved"
    errors = [r for r in results if r.status == "error" and r.policy_id == "m365.dns.spf_hard_fail"]
    assert errors and "SERVFAIL" in errors[-1].reason and errors[-1].region == "contoso.example"


def test_cli_refuses_a_bad_dns_server(
    graph: GraphServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'dns.db'}"
    assert add(db, graph, "--dns-server", "127.0.0.1:99999") != 0
    err = capsys.readouterr().err
    assert "--dns-server" in err and "65535" in err
    assert add(db, graph, "--dkim-selector", "bad selector", tenant=False) != 0
    err = capsys.readouterr().err
    assert "--dkim-selector" in err and "not a DKIM selector" in err
