"""The Graph application permissions a scan needs, as the specs declare them."""

from __future__ import annotations

from collections.abc import Iterable

from posture.catalog.spec import ResourceSpec
from posture.connectors.m365.entry import CHECK_PERMISSION


def required_permissions(specs: Iterable[ResourceSpec]) -> list[str]:
    """Every permission named under ``permissions:`` of an m365 spec, plus the check's."""
    needed = {CHECK_PERMISSION}
    for spec in specs:
        if spec.provider == "m365":
            needed.update(spec.permissions)
    return sorted(needed)
