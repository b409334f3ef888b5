"""A tenant with a Google Cloud connection on the local server, for the gcp fix tests.

A test module imports ``gcp_api_fixture`` and ``gcp_fixture``: one server per module
(``gcp_api``); ``gcp`` empties it, plants the project
``acme-prod`` and gives a ``GcpRepair``: the generic ``Repair`` steps (scan, plan, approve
by a second person, apply, rollback) plus ``read``, the provider's own answer read with
the scanning service account.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.connectors.gcp.client import GcpTarget, open_target
from posture.connectors.gcp.settings import GcpSettings
from posture.localapi.gcp import SCANNER, GcpProject, RunningGcp, gcp_server
from posture.operations.context import Operations
from posture.operations.tenants import add_tenant
from posture.store import Connection, Store, Tenant

from .conftest import Repair

PROJECT = "acme-prod"
NUMBER = "204060801234"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"


@dataclass
class GcpRepair(Repair):
    api: RunningGcp | None = None
    project: GcpProject | None = None
    _reader: GcpTarget | None = None

    @property
    def data(self) -> dict[str, Any]:
        """What the server serves for the project, keyed by request path."""
        assert self.project is not None
        return self.project.collections

    def settings(self, *, write: bool = True) -> dict[str, Any]:
        assert self.api is not None
        settings: dict[str, Any] = {
            "projects": [PROJECT],
            "key_file": str(self.api.key_file),
            "root_url": self.api.url,
            "ca_bundle": str(self.api.ca_bundle),
        }
        if write:
            settings["write"] = {"key_file": str(self.api.write_key_file)}
        return settings

    def setup_gcp(self, policies: Sequence[str], *, write: bool = True, **options: Any) -> None:
        """Tenant ``acme`` (setting repair bought, ``policies`` allowed), connection ``prod``."""
        repair = {"setting_repair": {"enabled": True, "policies": list(policies), **options}}
        add_tenant(self.ops, self.tenant, name="Acme", options=repair)
        with self.store.session() as session:
            tenant = session.exec(select(Tenant).where(Tenant.slug == self.tenant)).one()
            session.add(
                Connection(
                    tenant_id=tenant.id,
                    name="prod",
                    provider="gcp",
                    settings=self.settings(write=write),
                )
            )

    def read(self, api: str, method: str, **args: Any) -> dict[str, Any]:
        """The provider's answer to a read, made as the scanning service account."""
        if self._reader is None:
            parsed = GcpSettings.model_validate(self.settings(write=False))
            self._reader = open_target("reader", parsed)
        node = self._reader.client(api)
        *resources, name = method.split(".")
        for part in resources:
            node = getattr(node, part)()
        answer: dict[str, Any] = getattr(node, name)(**args).execute()
        return answer


@pytest.fixture(scope="module", name="gcp_api")
def gcp_api_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGcp]:
    folder: Path = tmp_path_factory.mktemp("gcp")
    with gcp_server(folder) as running:
        yield running


@pytest.fixture(name="gcp")
def gcp_fixture(store: Store, catalog: Catalog, gcp_api: RunningGcp) -> GcpRepair:
    fake = gcp_api.fake
    fake.projects.clear()
    fake.organizations.clear()
    fake.read_only = {SCANNER}
    fake.writes.clear()
    project = fake.add_project(GcpProject(PROJECT, NUMBER, "organizations/1"))
    ops = Operations.using(store, catalog, actor="alice", source="test")
    approver = Operations.using(store, catalog, actor="bob", source="test")
    return GcpRepair(store, catalog, "", ops, approver, api=gcp_api, project=project)
