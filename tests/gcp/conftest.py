"""The local Google Cloud server with the demo organisation, and settings pointing the real
google-api-python-client at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog, load_catalog
from posture.catalog.spec import ResourceSpec
from posture.demo import saas_gcp
from posture.localapi.gcp import RunningGcp, gcp_server


@pytest.fixture(scope="session")
def gcp_catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def gcp(tmp_path: Path) -> Iterator[RunningGcp]:
    with gcp_server(tmp_path, saas_gcp.populate) as running:
        running.fake.retry_after = "0"  # honoured, and quick; the delay itself is tested apart
        yield running


@pytest.fixture
def org_settings(gcp: RunningGcp) -> dict[str, Any]:
    return {
        "organization_id": saas_gcp.ORGANIZATION_ID,
        "key_file": str(gcp.key_file),
        "root_url": gcp.url,
        "ca_bundle": str(gcp.ca_bundle),
    }


@pytest.fixture
def gcp_specs(gcp_catalog: Catalog) -> list[ResourceSpec]:
    return [s for s in gcp_catalog.specs.values() if s.provider == "gcp"]
