"""Static checks of Google Workspace specs against the discovery documents the client ships."""

from __future__ import annotations

from collections.abc import Iterable

from posture.catalog.spec import ResourceSpec
from posture.connectors.gws.client import SERVICE_PATHS
from posture.connectors.gws.collector import EACH, ENRICHERS
from posture.connectors.gws.errors import method_scopes


def check_specs(specs: Iterable[ResourceSpec]) -> list[str]:
    """Unknown APIs or methods, unknown enrichers, and calls no declared scope authorises."""
    problems: list[str] = []
    for spec in specs:
        if spec.provider != "gws" or spec.dns:  # a dns type makes no Google API call
            continue
        if not spec.permissions:
            problems.append(f"{spec.type}: declares no OAuth scope under 'permissions'")
        problems += [
            f"{spec.type}: unknown enricher '{name}'"
            for name in spec.enrich
            if name not in ENRICHERS
        ]
        calls = [(api or spec.service, call) for api, call in spec.calls()]
        if spec.listing and any("{user." in str(v) for v in spec.listing.args.values()):
            calls.append((EACH["user"][0], EACH["user"][1]))
        for api, call in calls:
            if api not in SERVICE_PATHS:
                problems.append(f"{spec.type}: no client for the Google API '{api}'")
                continue
            accepted = method_scopes(api, call)
            if not accepted:
                problems.append(f"{spec.type}: {api} has no method '{call}'")
            elif not set(accepted) & set(spec.permissions):
                problems.append(
                    f"{spec.type}: no declared scope authorises {api} {call}; it accepts "
                    + ", ".join(accepted)
                )
    return problems
