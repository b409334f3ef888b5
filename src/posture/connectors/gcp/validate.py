"""Static checks of Google Cloud specs against the discovery documents the client ships."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from posture.catalog.spec import ResourceSpec
from posture.connectors import discovery
from posture.connectors.gcp.enrich import ENRICHERS
from posture.connectors.gcp.templates import FILTERS, SCAN_VARIABLES, placeholders

PERMISSION = re.compile(r"^[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+){2,}$")
SCOPES = ("project", "organization")


def _calls(spec: ResourceSpec) -> list[tuple[str, str, dict[str, Any], str | None, str]]:
    """(api, call, args, items, where) of the spec's parents, listing, details and joins."""
    out: list[tuple[str, str, dict[str, Any], str | None, str]] = []
    if spec.listing:
        for n, parent in enumerate(spec.listing.parents):
            api = parent.service or spec.service
            out.append((api, parent.call, parent.args, parent.items, f"list.parents[{n}]"))
        listing = spec.listing
        items = None if listing.single else listing.items
        out.append((listing.service or spec.service, listing.call, listing.args, items, "list"))
    for name, detail in spec.detail.items():
        if detail.join:
            join = detail.join
            out.append((join.service or spec.service, join.call, join.args, join.items, name))
        else:
            api = detail.service or spec.service
            out.append((api, detail.call, detail.args, detail.items, f"detail.{name}"))
    return out


def _templates(spec: ResourceSpec) -> list[Any]:
    found: list[Any] = [spec.uid, spec.name, spec.region]
    found += [args for _, _, args, _, _ in _calls(spec)]
    found += [d.join.match for d in spec.detail.values() if d.join]
    return found


def check_specs(specs: Iterable[ResourceSpec]) -> list[str]:
    """Unknown APIs, methods, parameters, filters or enrichers, missing required parameters,
    scan variables the type's scope does not have, and undeclared permissions."""
    problems: list[str] = []
    for spec in specs:
        if spec.provider != "gcp":
            continue
        where = spec.type
        if spec.scope not in SCOPES:
            problems.append(f"{where}: scope must be project or organization, not '{spec.scope}'")
        if not spec.permissions:
            problems.append(f"{where}: declares no IAM permission under 'permissions'")
        problems += [
            f"{where}: '{p}' does not look like an IAM permission (service.resource.verb)"
            for p in spec.permissions
            if not PERMISSION.match(p)
        ]
        problems += [
            f"{where}: unknown enricher '{name}'; known: {', '.join(sorted(ENRICHERS))}"
            for name in spec.enrich
            if name not in ENRICHERS
        ]
        for name, name_filter in placeholders(_templates(spec)):
            if name_filter and name_filter not in FILTERS:
                problems.append(
                    f"{where}: unknown template filter '{name_filter}'; known: "
                    + ", ".join(sorted(FILTERS))
                )
            scopes = SCAN_VARIABLES.get(name)
            if scopes and spec.scope not in scopes:
                problems.append(
                    f"{where}: '{{{name}}}' is only known in {' and '.join(scopes)} scope"
                )
        for api, call, args, items, part in _calls(spec):
            problems += _check_call(where, api, call, args, items, part)
    return problems


def _check_call(
    where: str, api: str, call: str, args: dict[str, Any], items: str | None, part: str
) -> list[str]:
    if discovery.document(api) is None:
        return [
            f"{where}: {part}: no discovery document for the Google API '{api}' in "
            "google-api-python-client (name.version, e.g. compute.v1)"
        ]
    found = discovery.method(api, call)
    if found is None:
        return [f"{where}: {part}: {api} has no method '{call}'"]
    problems = []
    known = discovery.parameters(api, call)
    for name in args:
        if name in discovery.CLIENT_ARGUMENTS:
            if name == "body" and "request" not in found:
                problems.append(f"{where}: {part}: {api} {call} takes no request body")
        elif name not in known:
            problems.append(
                f"{where}: {part}: {api} {call} has no parameter '{name}'; it takes "
                + ", ".join(sorted(found.get("parameters") or {}))
            )
    for name, body in (found.get("parameters") or {}).items():
        if body.get("required") and name not in args:
            problems.append(f"{where}: {part}: {api} {call} needs the parameter '{name}'")
    if items:
        try:
            jmespath.compile(items)
        except JMESPathError as exc:
            problems.append(f"{where}: {part}: items '{items}' is not JMESPath ({exc})")
    return problems
