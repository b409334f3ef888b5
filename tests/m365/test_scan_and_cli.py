"""M365 connections end to end: CLI add/check/permissions, scan into SQLite, results."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from posture.cli import app
from posture.cli.runtime import run_app
from posture.localapi.graph import CLIENT_ID, NO_P1_CA, TENANT_ID, GraphServer
from posture.operations import Operations
from posture.operations.findings import FindingQuery, query_findings
from posture.operations.results import ResultQuery, query_results

from .conftest import SECRET_ENV

MFA = "m365.entra.mfa_required_for_admins"
INVITES = "m365.entra.guest_invites_restricted"
GLOBAL_ADMINS = "m365.entra.global_admin_count"


def cli(db: str, *args: str) -> int:
    return run_app(app, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'm365.db'}"


def add(db: str, graph: GraphServer, name: str = "contoso", *extra: str) -> None:
    """Add the tenant (once) and an M365 connection pointed at the local Graph."""
    from posture.operations.tenants import list_tenants

    if not any(t.slug == "acme" for t in list_tenants(Operations(db_url=db))):
        assert cli(db, "tenant", "add", "acme", "--name", "Acme") == 0
    code = cli(
        db,
        "connection",
        "add",
        "m365",
        "--tenant",
        "acme",
        "--name",
        name,
        "--tenant-id",
        TENANT_ID,
        "--client-id",
        CLIENT_ID,
        "--client-secret-env",
        SECRET_ENV,
        "--authority",
        graph.url,
        "--graph-url",
        graph.url,
        "--ca-bundle",
        graph.ca_bundle,
        *extra,
    )
    assert code == 0


def test_connection_add_and_check(
    graph: GraphServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add(db, graph)
    from posture.operations.connections import list_connections

    [info] = list_connections(Operations(db_url=db), "acme")
    assert info.provider == "m365"
    assert info.settings["client_secret_env"] == SECRET_ENV
    assert "local-test-secret" not in json.dumps(info.settings)
    capsys.readouterr()
    assert cli(db, "connection", "check", "--tenant", "acme") == 0
    assert f"tenant {TENANT_ID} (Contoso KK)" in capsys.readouterr().out


def test_check_reasons(
    graph: GraphServer, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add(db, graph)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"https://127.0.0.1:{sock.getsockname()[1]}"
    add(db, graph, "dead", "--authority", dead)
    capsys.readouterr()
    assert cli(db, "connection", "check", "--tenant", "acme", "--name", "dead") == 1
    assert "failed (endpoint_unreachable)" in capsys.readouterr().err

    monkeypatch.setenv(SECRET_ENV, "wrong")
    assert cli(db, "connection", "check", "--tenant", "acme", "--name", "contoso") == 1
    assert "failed (credentials_rejected)" in capsys.readouterr().err

    monkeypatch.delenv(SECRET_ENV)
    assert cli(db, "connection", "check", "--tenant", "acme", "--name", "contoso") == 1
    err = capsys.readouterr().err
    assert "failed (credentials_missing)" in err and SECRET_ENV in err

    monkeypatch.setenv(SECRET_ENV, "local-test-secret")
    graph.state.denied.add("/organization")
    assert cli(db, "connection", "check", "--tenant", "acme", "--name", "contoso") == 1
    err = capsys.readouterr().err
    assert "failed (permission_denied)" in err and "Organization.Read.All" in err


def test_add_refuses_bad_settings(
    graph: GraphServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(db, "tenant", "add", "acme", "--name", "Acme")
    base = [
        "connection",
        "add",
        "m365",
        "--tenant",
        "acme",
        "--name",
        "x",
        "--tenant-id",
        TENANT_ID,
        "--client-id",
        CLIENT_ID,
    ]
    capsys.readouterr()
    assert cli(db, *base) == 2  # no credential
    assert "client_secret_env" in capsys.readouterr().err
    assert (
        cli(db, *base, "--client-secret-env", SECRET_ENV, "--authority", "http://127.0.0.1:1") == 2
    )
    assert "https" in capsys.readouterr().err
    assert cli(db, *base, "--client-secret-env", SECRET_ENV, "--graph-url", "graph.example") == 2
    assert "no scheme" in capsys.readouterr().err
    assert cli(db, *base, "--client-secret-env", "s3cr3t value!") == 2
    assert "not an environment variable name" in capsys.readouterr().err


def test_permissions_m365(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli(db, "connection", "permissions", "m365") == 0
    lines = capsys.readouterr().out.split()
    assert {
        "Policy.Read.All",
        "User.Read.All",
        "AuditLog.Read.All",
        "Organization.Read.All",
        "RoleManagement.Read.Directory",
        "Domain.Read.All",
    } <= set(lines)
    assert cli(db, "connection", "permissions", "m365", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["graph_application_permissions"] == sorted(set(lines))


def test_scan_licence_gap_and_denied_type_keep_findings(graph: GraphServer, db: str) -> None:
    add(db, graph)
    # first scan: everything licensed and allowed; the CA policy is report-only -> MFA fails
    graph.state.tenant["/identity/conditionalAccess/policies"][0]["state"] = (
        "enabledForReportingButNotEnforced"
    )
    assert cli(db, "scan", "--tenant", "acme", "-q") == 0
    ops = Operations(db_url=db)
    first: dict[str, set[str]] = {}
    for row in query_results(ops, ResultQuery(tenant="acme")):
        first.setdefault(row.policy_id, set()).add(row.status)
    assert first[MFA] == {"fail"}
    assert first[INVITES] == {"fail"}
    assert first[GLOBAL_ADMINS] == {"fail", "not_applicable"}  # one admin; the other role n/a

    # second scan: no P1 for Conditional Access, and the authorization policy denied
    graph.state.unlicensed["/identity/conditionalAccess/policies"] = NO_P1_CA
    graph.state.denied.add("/policies/authorizationPolicy")
    assert cli(db, "scan", "--tenant", "acme", "-q") == 0
    results = query_results(ops, ResultQuery(tenant="acme"))
    by_policy: dict[str, list[str]] = {}
    for row in results:
        by_policy.setdefault(row.policy_id, []).append(row.status)
    mfa = [r for r in results if r.policy_id == MFA]
    assert [(r.status, r.reason) for r in mfa] == [
        ("not_applicable", "requires Microsoft Entra ID P1")
    ]
    invites = [r for r in results if r.policy_id == INVITES]
    assert [r.status for r in invites] == ["error"]
    assert "Policy.Read.All" in invites[0].reason
    assert by_policy[GLOBAL_ADMINS].count("fail") == 1

    open_ids = {f.policy_id for f in query_findings(ops, FindingQuery(tenant="acme"))}
    assert {MFA, INVITES, GLOBAL_ADMINS} <= open_ids  # neither scope resolved its findings
