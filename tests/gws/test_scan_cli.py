"""A Google Workspace connection end to end through the CLI, into SQLite: add, check,
permissions, scan, and a denied scope that leaves its findings as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from posture.cli import app
from posture.cli.runtime import run_app
from posture.localapi.google import ALL_SCOPES, USER_SECURITY, RunningGoogle
from posture.store import Connection, Finding, ResultRecord, Store

TOKEN_POLICY = "gws.directory.token_high_risk_scopes"


def cli(*args: str, db: str) -> int:
    return run_app(app, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gws.db'}"


def add(db: str, google: RunningGoogle, *extra: str) -> int:
    assert cli("tenant", "add", "acme", "--name", "Acme Japan", db=db) == 0
    return cli(
        "connection",
        "add",
        "gws",
        "--tenant",
        "acme",
        "--name",
        "workspace",
        "--customer-id",
        "my_customer",
        "--admin-email",
        "alice@example.jp",
        "--key-file",
        str(google.key_file),
        "--root-url",
        google.url,
        "--ca-bundle",
        str(google.ca_bundle),
        *extra,
        db=db,
    )


def findings(db: str) -> dict[tuple[str, str], Finding]:
    store = Store(db)
    try:
        with store.session() as session:
            return {(f.policy_id, f.resource_uid): f for f in session.exec(select(Finding))}
    finally:
        store.dispose()


def test_add_check_and_permissions(
    db: str, google: RunningGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(db, google) == 0
    store = Store(db)
    with store.session() as session:
        row = session.exec(select(Connection)).one()
        assert row.provider == "gws"
        assert row.settings["key_file"] == str(google.key_file)  # a reference, no key material
        assert "private_key" not in json.dumps(row.settings)
    store.dispose()
    capsys.readouterr()
    assert cli("connection", "check", "--tenant", "acme", db=db) == 0
    assert "11 OAuth scope(s) granted" in capsys.readouterr().out
    google.fake.granted.discard(USER_SECURITY)
    assert cli("connection", "check", "--tenant", "acme", db=db) == 1
    err = capsys.readouterr().err
    assert "permission_denied" in err and USER_SECURITY in err.replace("\n", "")
    assert cli("connection", "permissions", "gws", db=db) == 0
    assert set(capsys.readouterr().out.split()) == ALL_SCOPES
    assert cli("connection", "permissions", "gws", "--json", db=db) == 0
    assert set(json.loads(capsys.readouterr().out)["oauth_scopes"]) == ALL_SCOPES


def test_bad_root_url_is_refused(
    db: str, google: RunningGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    code = cli(
        "connection",
        "add",
        "gws",
        "--tenant",
        "acme",
        "--name",
        "w",
        "--admin-email",
        "alice@example.jp",
        "--key-file",
        "k.json",
        "--root-url",
        "127.0.0.1:99",
        db=db,
    )
    assert code == 2
    assert "root_url" in capsys.readouterr().err


def test_scan_finds_planted_issues_and_a_denied_scope_keeps_findings(
    db: str, google: RunningGoogle
) -> None:
    assert add(db, google) == 0
    assert cli("scan", "--tenant", "acme", "--policy", "gws", "-q", db=db) == 0
    first = findings(db)
    failing = {(p, uid) for (p, uid), f in first.items() if f.state == "open"}
    assert (TOKEN_POLICY, "102/5678.apps.googleusercontent.com") in failing
    assert ("gws.directory.admin_2sv_enforced", "101") in failing
    assert ("gws.directory.user_2sv_enforced", "102") in failing
    assert ("gws.directory.user_2sv_enforced", "103") not in failing  # suspended
    assert ("gws.policy.drive_external_sharing_restricted", "id:03ph8a2z3") in failing
    assert ("gws.policy.drive_external_sharing_restricted", "id:03ph8a2z1") not in failing
    assert ("gws.policy.less_secure_apps_disabled", "id:03ph8a2z1") in failing
    assert ("gws.groupssettings.group_external_members", "01tuee743") in failing
    assert ("gws.groupssettings.group_external_members", "01tuee742") not in failing
    # threat indicators from the Reports API, rules, group settings and admin domains
    assert ("gws.reports.suspicious_login_events", "102") in failing
    assert ("gws.reports.suspicious_login_events", "101") in failing
    assert ("gws.reports.suspicious_login_events", "100") not in failing  # outside the window
    assert ("gws.reports.mail_forwarding_out_of_domain", "102") in failing
    assert ("gws.policy.alert_password_changed", "my_customer/rules") in failing
    assert ("gws.policy.alert_government_backed_attacks", "my_customer/rules") in failing
    assert ("gws.policy.alert_suspicious_login", "my_customer/rules") not in failing
    assert ("gws.policy.alert_leaked_password", "my_customer/rules") not in failing  # default
    assert ("gws.policy.dlp_drive_rule_active", "my_customer/rules") not in failing
    assert ("gws.policy.group_gmail_auto_forwarding_disabled", "01tuee743") in failing
    assert ("gws.policy.group_less_secure_apps_disabled", "01tuee743") in failing
    assert ("gws.policy.group_gmail_auto_forwarding_disabled", "01tuee742") not in failing
    assert ("gws.directory.admin_role_outside_domains", "91705169967844") in failing
    assert ("gws.directory.admin_role_outside_domains", "91705169967843") not in failing
    assert ("gws.reports.super_admin_daily_use", "100") in failing  # 12 e-mails sent
    assert ("gws.reports.super_admin_daily_use", "101") not in failing
    changes = "my_customer/admin-setting-changes"
    assert ("gws.reports.gmail_external_reply_warning", changes) in failing
    assert ("gws.reports.gmail_security_sandbox", changes) not in failing
    forwarding = first[("gws.reports.mail_forwarding_out_of_domain", "102")]
    assert "carol.private@mail.example.org" in forwarding.statement["en"]
    emea = first[("gws.policy.drive_external_sharing_restricted", "id:03ph8a2z3")]
    assert emea.resource_name == "/Sales/EMEA"
    assert "inherited from /Sales" in emea.statement["en"]

    google.fake.forbidden.add("/admin/directory/v1/users/")  # tokens.list denied
    google.fake.data["tokens"] = {}  # were it read, the grant would look revoked
    assert cli("scan", "--tenant", "acme", "--policy", "gws", "-q", db=db) in (0, 1)
    second = findings(db)
    token = second[(TOKEN_POLICY, "102/5678.apps.googleusercontent.com")]
    assert token.state == "open"  # not resolved by a collection that failed
    store = Store(db)
    with store.session() as session:
        errors = [r for r in session.exec(select(ResultRecord)) if r.policy_id == TOKEN_POLICY]
    store.dispose()
    assert any(r.status == "error" and USER_SECURITY in r.reason for r in errors)
