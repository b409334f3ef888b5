"""A local token endpoint and Graph for every M365 test, with the client secret set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.localapi.graph import CLIENT_SECRET, GraphServer, graph_server

SECRET_ENV = "POSTURE_TEST_M365_SECRET"


@pytest.fixture
def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphServer]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    with graph_server(tmp_path) as server:
        yield server


@pytest.fixture
def m365_specs(catalog: Catalog) -> list[ResourceSpec]:
    return [s for s in catalog.specs.values() if s.provider == "m365"]
