"""The demo estate in its own moto server: the monthly-cycle tests change it between scans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.demo.demo_support import PlantedEstate, planted_estate


@pytest.fixture(scope="package")
def estate() -> Iterator[PlantedEstate]:
    with planted_estate() as planted:
        yield planted
