"""``posture connection set-write`` for Microsoft 365 and Google Workspace connections."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.cli.app import app
from posture.cli.runtime import run_app
from posture.errors import ConfigurationError, UsageError
from posture.operations.connections import set_write_credentials
from posture.operations.context import Operations
from posture.store import Connection, Store

from .saas_support import SaasRepair

M365 = {"tenant_id": "contoso.example", "client_id": "scanner-app", "client_secret_env": "SCAN"}
GWS = {"admin_email": "alice@example.jp", "key_file": "/keys/scanner.json"}


def _settings(store: Store, name: str) -> dict[str, object]:
    with store.session() as session:
        row = session.exec(select(Connection).where(Connection.name == name)).one()
        return dict(row.settings)


def test_cli_sets_an_m365_write_app(tmp_path: Path, catalog: Catalog) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store(db)
    try:
        repair = SaasRepair(store, catalog, "m365", "contoso", dict(M365))
        repair.setup(["m365.*"], write=False)
        code = run_app(
            app,
            [
                "--db",
                db,
                "connection",
                "set-write",
                "--tenant",
                "acme",
                "--name",
                "contoso",
                "--client-id",
                "fixer-app",
                "--client-secret-env",
                "POSTURE_FIX_SECRET",
            ],
        )
        assert code == 0
        stored = _settings(store, "contoso")
        assert stored["write"] == {
            "client_id": "fixer-app",
            "client_secret_env": "POSTURE_FIX_SECRET",
        }
        assert stored["client_id"] == "scanner-app"  # the scanning app is untouched
        assert repair.audit("connection.set_write")[0]["write"]["client_id"] == "fixer-app"
    finally:
        store.dispose()


def test_workspace_write_account_and_refusals(store: Store, catalog: Catalog) -> None:
    repair = SaasRepair(store, catalog, "gws", "example-jp", dict(GWS))
    repair.setup(["gws.*"], write=False)
    ops: Operations = repair.ops
    set_write_credentials(ops, "acme", "example-jp", key_file="/keys/fixer.json")
    assert _settings(store, "example-jp")["write"] == {"key_file": "/keys/fixer.json"}
    with pytest.raises(UsageError, match="--role-arn do not apply"):
        set_write_credentials(ops, "acme", "example-jp", role_arn="arn:aws:iam::1:role/x")
    with pytest.raises(ConfigurationError, match="admin_email"):
        set_write_credentials(
            ops, "acme", "example-jp", key_file="/keys/fixer.json", admin_email="not-an-address"
        )
    assert _settings(store, "example-jp")["write"] == {"key_file": "/keys/fixer.json"}
