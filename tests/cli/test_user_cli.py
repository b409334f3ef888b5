"""posture user and posture token on the command line: one-time secrets, listings, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from posture.operations import Operations
from posture.operations.identity import authenticate, token_principal
from posture.store import Store
from tests.cli.test_cli import cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli("tenant", "add", "acme", "--name", "Acme", db=url) == 0
    return url


def out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def listed(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    out(capsys)
    assert cli(*args, "--json", db=db) == 0
    rows: list[dict[str, object]] = json.loads(out(capsys))
    return rows


def test_a_new_user_gets_a_one_time_password_shown_once(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out(capsys)
    assert cli("user", "add", "Alice", "--role", "analyst", "--name", "Alice A", db=db) == 0
    text = out(capsys)
    assert "user alice added as analyst" in text
    one_time = re.search(r"\(shown once\): (\S+)", text)
    assert one_time and "changed at the first sign-in" in text
    ops = Operations.using(Store(db))
    assert authenticate(ops, "alice", one_time.group(1)).must_change_password
    users = listed(db, capsys, "user", "list")
    assert [(u["username"], u["role"], u["must_change_password"]) for u in users] == [
        ("alice", "analyst", True)
    ]
    assert one_time.group(1) not in json.dumps(users)
    # a reset gives another one-time password, and the old one stops working
    out(capsys)
    assert cli("user", "reset-password", "alice", db=db) == 0
    again = re.search(r"\(shown once\): (\S+)", out(capsys))
    assert again and again.group(1) != one_time.group(1)
    assert authenticate(ops, "alice", again.group(1))


def test_roles_tenants_and_disabling(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user", "add", "carol", "--role", "customer_viewer", "--tenant", "acme", db=db) == 0
    assert cli("user", "set-role", "carol", "customer_admin", db=db) == 0
    assert "carol is now customer_admin" in out(capsys)
    assert cli("user", "disable", "carol", db=db) == 0
    users = listed(db, capsys, "user", "list", "--tenant", "acme")
    assert [(u["username"], u["role"], u["tenant"], u["disabled"]) for u in users] == [
        ("carol", "customer_admin", "acme", True)
    ]
    assert cli("user", "list", db=db) == 0
    assert "disabled" in out(capsys)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "x", "--role", "root"), "unknown role 'root'"),
        (("user", "add", "x", "--role", "customer_admin"), "belongs to a tenant"),
        (("user", "add", "x", "--role", "analyst", "--tenant", "acme"), "belongs to no tenant"),
        (("user", "disable", "nobody"), "unknown user 'nobody'"),
        (("token", "revoke", "pst_000000000000"), "unknown API token"),
        (("token", "create", "--user", "nobody", "--name", "n"), "unknown user"),
    ],
)
def test_mistakes_are_one_line_errors(
    db: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    capsys.readouterr()
    assert cli(*args, db=db) == 2
    assert message in capsys.readouterr().err


def test_tokens_are_created_listed_and_revoked(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user", "add", "ana", "--role", "analyst", db=db) == 0
    out(capsys)
    args = ("token", "create", "--user", "ana", "--name", "siem", "--scope", "finding.read")
    assert cli(*args, "--days", "30", db=db) == 0
    text = out(capsys)
    secret = text.strip().splitlines()[-1]
    assert secret.startswith("pst_") and "shown once" in text
    ops = Operations.using(Store(db))
    assert token_principal(ops, secret).scopes == {"finding.read"}
    tokens = listed(db, capsys, "token", "list")
    assert len(tokens) == 1 and tokens[0]["state"] == "active"
    assert tokens[0]["scopes"] == ["finding.read"] and secret not in json.dumps(tokens)
    assert secret.startswith(f"{tokens[0]['prefix']}_")
    assert cli("token", "revoke", str(tokens[0]["prefix"]), db=db) == 0
    assert [t["state"] for t in listed(db, capsys, "token", "list", "--user", "ana")] == ["revoked"]
    capsys.readouterr()
    assert cli(*args, "--days", "400", db=db) == 2
    assert "1 to 365 days" in capsys.readouterr().err


def test_user_actions_are_audited(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user", "add", "ana", "--role", "analyst", db=db) == 0
    assert cli("token", "create", "--user", "ana", "--name", "ci", db=db) == 0
    entries = listed(db, capsys, "audit", "list")
    assert [e["action"] for e in entries][-2:] == ["user.add", "token.create"]


def test_e_mail_addresses_for_single_sign_on(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user", "add", "dora", "--role", "analyst", "--email", "Dora@Example.jp", db=db) == 0
    [user] = listed(db, capsys, "user", "list")
    assert (user["email"], user["sso_linked"]) == ("dora@example.jp", False)
    assert cli("user", "email", "dora", "dora@example.co.jp", db=db) == 0
    assert "e-mail address dora@example.co.jp" in out(capsys)
    assert cli("user", "email", "dora", "--clear", db=db) == 0
    assert listed(db, capsys, "user", "list")[0]["email"] is None
    assert cli("user", "email", "dora", "not an address", db=db) != 0
    assert "invalid e-mail address" in capsys.readouterr().err
    assert cli("user", "email", "dora", db=db) != 0  # neither an address nor --clear
