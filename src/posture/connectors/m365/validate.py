"""Static checks of M365 specs: known transforms and enrichers, and what they need."""

from __future__ import annotations

from collections.abc import Iterable

from posture.catalog.spec import ResourceSpec
from posture.connectors.m365.enrich import ENRICHERS, TRANSFORMS


def check_specs(specs: Iterable[ResourceSpec]) -> list[str]:
    """Unknown transforms or enrichers, and enricher sources that no spec defines."""
    specs = list(specs)
    known = {s.type for s in specs}
    problems: list[str] = []
    for spec in specs:
        if spec.provider != "m365":
            continue
        transform = spec.listing.transform if spec.listing else None
        if transform and transform not in TRANSFORMS:
            problems.append(f"{spec.type}: unknown transform '{transform}'")
        for name in spec.enrich:
            enricher = ENRICHERS.get(name)
            if enricher is None:
                problems.append(f"{spec.type}: unknown enricher '{name}'")
                continue
            problems += [
                f"{spec.type}: enricher '{name}' reads {source}, which no spec defines"
                for source in enricher.sources
                if source not in known
            ]
    return problems
