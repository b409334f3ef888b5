"""A fake Google server per test, and connection settings that point the real client at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.localapi.google import RunningGoogle, google_server


@pytest.fixture
def google(tmp_path: Path) -> Iterator[RunningGoogle]:
    with google_server(tmp_path) as running:
        running.fake.retry_after = "0"  # honoured, and quick; the delay itself is tested apart
        yield running


@pytest.fixture
def settings(google: RunningGoogle) -> dict[str, Any]:
    return {
        "customer_id": "my_customer",
        "admin_email": "alice@example.jp",
        "key_file": str(google.key_file),
        "root_url": google.url,
        "ca_bundle": str(google.ca_bundle),
    }


@pytest.fixture
def gws_specs(catalog: Catalog) -> list[ResourceSpec]:
    return [s for s in catalog.specs.values() if s.provider == "gws"]
