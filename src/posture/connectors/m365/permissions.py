"""The Graph application permissions a scan needs, as the specs declare them."""

from __future__ import annotations

from collections.abc import Iterable

from posture.catalog.spec import ResourceSpec
from posture.connectors.m365.enrich import ENRICHERS
from posture.connectors.m365.entry import CHECK_PERMISSION


def required_permissions(specs: Iterable[ResourceSpec]) -> list[str]:
    """Every permission of the m365 specs and of their enrichers' calls, plus the check's."""
    needed = {CHECK_PERMISSION}
    for spec in specs:
        if spec.provider == "m365":
            needed.update(spec.permissions)
            for name in spec.enrich:
                if name in ENRICHERS:
                    needed.update(ENRICHERS[name].permissions)
    return sorted(needed)
