"""Static checks of Google Workspace specs against the discovery documents the client ships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors import discovery
from posture.connectors.gws.client import SERVICE_PATHS
from posture.connectors.gws.collector import EACH, ENRICHERS
from posture.connectors.gws.errors import method_scopes


def _parameters(api: str, call: str) -> dict[str, Any]:
    """The discovery document's parameters of ``call`` (empty when unknown)."""
    return discovery.parameters(api, call)


def _arguments(spec: ResourceSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """(api, call, args) of the spec's listing, calls and joins."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if spec.listing:
        out.append((spec.listing.service or spec.service, spec.listing.call, spec.listing.args))
    for detail in spec.detail.values():
        if detail.join:
            out.append((detail.join.service or spec.service, detail.join.call, detail.join.args))
        else:
            out.append((detail.service or spec.service, detail.call, detail.args))
    return out


def check_specs(specs: Iterable[ResourceSpec]) -> list[str]:
    """Unknown APIs, methods or parameters, unknown enrichers, list values for parameters
    the method repeats itself, and calls no declared scope authorises."""
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
        for api, call, args in _arguments(spec):
            known = _parameters(api, call)
            for name, value in args.items():
                if known and name not in known:
                    problems.append(f"{spec.type}: {api} {call} has no parameter '{name}'")
                elif isinstance(value, list) and (known.get(name) or {}).get("repeated"):
                    problems.append(
                        f"{spec.type}: {api} {call} takes several '{name}' values in one call; "
                        "a list there would run the call once per value"
                    )
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
