"""One in-process moto server with the demo estate planted once for this package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.demo.demo_support import PlantedEstate, planted_estate


@pytest.fixture(scope="package")
def estate() -> Iterator[PlantedEstate]:
    with planted_estate() as planted:
        yield planted
