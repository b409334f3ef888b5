"""A Google Cloud connection end to end through the CLI, into SQLite: add, check,
permissions, scan, and a disabled API that leaves that project's findings as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from posture.cli import app
from posture.cli.runtime import run_app
from posture.demo import saas_gcp
from posture.localapi.gcp import RunningGcp
from posture.store import Connection, Finding, ResultRecord, Store


def cli(*args: str, db: str) -> int:
    return run_app(app, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gcp.db'}"


def add(db: str, gcp: RunningGcp, *scope: str) -> int:
    assert cli("tenant", "add", "acme", "--name", "Acme Japan", db=db) == 0
    return cli(
        "connection", "add", "gcp", "--tenant", "acme", "--name", "cloud",
        *scope,
        "--key-file", str(gcp.key_file), "--root-url", gcp.url, "--ca-bundle", str(gcp.ca_bundle),
        db=db,
    )  # fmt: skip


def rows(db: str, model: type) -> list:  # type: ignore[type-arg]
    store = Store(db)
    try:
        with store.session() as session:
            return list(session.exec(select(model)))
    finally:
        store.dispose()


def test_add_check_and_scan_an_organisation(
    db: str, gcp: RunningGcp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(db, gcp, "--organization", saas_gcp.ORGANIZATION_ID) == 0
    [conn] = rows(db, Connection)
    assert conn.provider == "gcp"
    assert conn.settings["organization_id"] == saas_gcp.ORGANIZATION_ID
    assert conn.settings["key_file"] == str(gcp.key_file.resolve())
    assert cli("connection", "check", "--tenant", "acme", db=db) == 0
    out = capsys.readouterr().out
    assert "cloud: ok" in out and "2 project(s) readable" in out
    assert cli("scan", "--tenant", "acme", "-q", db=db) == 0
    found = {(f.policy_id, f.region) for f in rows(db, Finding)}
    assert ("gcp.iam.project_personal_accounts", "acme-prod") in found
    assert ("gcp.kms.crypto_key_public", "acme-prod/asia-northeast1") in found
    assert (
        "gcp.essentialcontacts.organization_contacts",
        f"organizations/{saas_gcp.ORGANIZATION_ID}",
    ) in found
    assert not [f for f in found if f[1].startswith("acme-hardened")]

    # the API keys API is switched off in acme-prod: its results are errors, the findings stay open
    gcp.fake.disabled.add(("acme-prod", "apikeys"))
    assert cli("scan", "--tenant", "acme", "-q", db=db) == 0
    findings = {(f.policy_id, f.region): f for f in rows(db, Finding)}
    assert findings[("gcp.apikeys.key_rotation", "acme-prod")].state == "open"
    errors = [
        r for r in rows(db, ResultRecord)
        if r.status == "error" and r.policy_id == "gcp.apikeys.key_rotation"
    ]  # fmt: skip
    assert errors and all("apikeys.googleapis.com is not enabled" in r.reason for r in errors)
    assert findings[("gcp.iam.project_personal_accounts", "acme-prod")].state == "open"


def test_add_a_project_list_and_refuse_bad_settings(
    db: str, gcp: RunningGcp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(db, gcp, "--project", "acme-hardened", "--project", "acme-prod") == 0
    [conn] = rows(db, Connection)
    assert conn.settings["projects"] == ["acme-hardened", "acme-prod"]
    assert cli(
        "connection", "add", "gcp", "--tenant", "acme", "--name", "both",
        "--organization", "1", "--project", "acme-prod", db=db,
    ) != 0  # fmt: skip
    assert "either an organization id or a list of projects" in capsys.readouterr().err
    assert cli(
        "connection", "add", "gcp", "--tenant", "acme", "--name", "bad", "--project", "Acme Prod",
        db=db,
    ) != 0  # fmt: skip
    assert "is not a project id" in capsys.readouterr().err


def test_check_names_a_bad_key_file(
    db: str, gcp: RunningGcp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(db, gcp, "--project", "acme-prod") == 0
    gcp.key_file.write_text("{}")
    assert cli("connection", "check", "--tenant", "acme", db=db) == 1
    err = capsys.readouterr().err
    assert "cloud: failed (credentials_missing)" in err
    assert "is not a service account key" in err


def test_permissions_list_roles_and_the_specs_permissions(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("connection", "permissions", "gcp", db=db) == 0
    out = capsys.readouterr().out
    assert "roles/iam.securityReviewer" in out and "roles/browser" in out
    assert "cloudkms.cryptoKeys.getIamPolicy" in out and "resourcemanager.folders.list" in out
    assert cli("connection", "permissions", "gcp", "--json", db=db) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"role": "roles/cloudkms.viewer", "grants": "key rings and keys (rotation)"} in doc[
        "roles"
    ]
    assert "iam.serviceAccountKeys.list" in doc["permissions"]
    assert doc["permissions"] == sorted(set(doc["permissions"]))
