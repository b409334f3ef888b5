"""Static checks of AWS collection specs against botocore's models and the IAM dataset."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import botocore.exceptions
import jmespath
from jmespath.exceptions import ParseError

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.calls import PREPARE
from posture.connectors.aws.permissions import (
    action_pattern_matches,
    iam_action,
    operation_name,
    service_model,
    unmapped_calls,
)
from posture.connectors.aws.session import SESSION_CALLS
from posture.connectors.aws.transforms import ENRICHERS, TEMPLATE_FILTERS, TRANSFORMS
from posture.errors import ContentError
from posture.models import UNKNOWN_KEY


def _calls(spec: ResourceSpec) -> list[tuple[str, str]]:
    """Every call a spec causes: its own and the prerequisites the connector runs first."""
    out = []
    for service, call in spec.calls():
        out.append((service, call))
        if (service, call) in PREPARE:
            out.append((service, PREPARE[(service, call)].call))
    return out


def required_permissions(specs: Iterable[ResourceSpec]) -> list[str]:
    """Sorted IAM actions a scan of ``specs`` needs (derived, so it never drifts).

    Every call's action as the IAM dataset names it, the connector's own calls (identity,
    region discovery, prerequisites) and each spec's extra ``permissions``. A call whose
    action is unknown is an error unless its spec lists ``permissions`` itself: a policy
    that looks complete but is not would only fail at scan time.
    """
    out = {action for service, call in SESSION_CALLS if (action := iam_action(service, call))}
    for spec in specs:
        if spec.provider != "aws":
            continue
        unknown = unmapped_calls(spec)
        if unknown and not spec.permissions:
            raise ContentError(
                f"{spec.type}: no IAM action is known for "
                + ", ".join(f"{service} {call}" for service, call in unknown),
                hint="list the IAM actions these calls need under the spec's 'permissions:'",
            )
        out.update(spec.permissions)
        out.update(action for s, c in _calls(spec) if (action := iam_action(s, c)))
    return sorted(out)


_FILTER_USE = re.compile(r"\{[^{}|]+\|([^{}]+)\}")


def _template_filters(value: Any) -> list[str]:
    """Template filter names used anywhere in a spec (``{Field|name}``)."""
    return _FILTER_USE.findall(json.dumps(value))


def check_specs(specs: Iterable[ResourceSpec]) -> list[str]:
    """Problems found in AWS specs: unknown services, operations, transforms, JMESPath."""
    problems: list[str] = []
    for spec in specs:
        if spec.provider != "aws":
            continue
        for service, call in spec.calls():
            try:
                if operation_name(service, call) is None:
                    problems.append(f"{spec.type}: service '{service}' has no operation '{call}'")
                elif iam_action(service, call) is None and not spec.permissions:
                    problems.append(
                        f"{spec.type}: no IAM action is known for {service} {call}; "
                        "list the actions it needs under 'permissions:'"
                    )
            except botocore.exceptions.UnknownServiceError:
                problems.append(f"{spec.type}: unknown AWS service '{service}'")
        for action in spec.permissions:
            if not action_pattern_matches(action):
                problems.append(f"{spec.type}: permission '{action}' is not a known IAM action")
        for name in spec.enrich:
            if name not in ENRICHERS:
                problems.append(
                    f"{spec.type}: unknown enricher '{name}'; known: {', '.join(sorted(ENRICHERS))}"
                )
        for name in _template_filters(spec.model_dump(mode="json")):
            if name not in TEMPLATE_FILTERS:
                problems.append(
                    f"{spec.type}: unknown template filter '{name}'; known: {', '.join(sorted(TEMPLATE_FILTERS))}"
                )
        blocks: list[Any] = [spec.listing, *spec.detail.values()]
        for block in blocks:
            if block is None:
                continue
            if block.transform and block.transform not in TRANSFORMS:
                problems.append(
                    f"{spec.type}: unknown transform '{block.transform}'; known: {', '.join(sorted(TRANSFORMS))}"
                )
            for expr in (block.items, block.pick, spec.tags, getattr(block, "unknown_if", None)):
                if expr:
                    try:
                        jmespath.compile(expr)
                    except ParseError as exc:
                        problems.append(f"{spec.type}: invalid JMESPath '{expr}': {exc}")
    return problems


_HASH = re.compile(r"^\{\s*(.+)\s*\}$")


def document_fields(spec: ResourceSpec) -> set[str] | None:
    """Top-level fields a resource document of ``spec`` can have, from botocore's models.

    The listed item's members (or the picked keys of a single response), each detail's
    name and the spec's declared ``fields``. None where a transform shapes the document
    and the spec declares no ``fields``: then nothing can be said.
    """
    known = set(spec.detail) | set(spec.fields)
    if spec.unknown_details:
        known.add(UNKNOWN_KEY)
    if spec.aggregate:
        return known | {spec.aggregate.key}
    listing = spec.listing
    if listing is None:
        return None
    if listing.transform:
        return known if spec.fields else None
    service = listing.service or spec.service
    try:
        model = service_model(service)
        name = operation_name(service, listing.call)
    except botocore.exceptions.UnknownServiceError:
        return None
    if name is None:
        return None
    shape = model.operation_model(name).output_shape
    expression = listing.items if not listing.single else listing.pick
    if expression and (found := _HASH.match(expression)):
        return known | {part.split(":", 1)[0].strip() for part in found.group(1).split(",")}
    for token in (expression or "").replace("[]", "").split("."):
        if not token:
            continue
        members = getattr(shape, "members", {})
        if token not in members:
            return None
        shape = members[token]
        while getattr(shape, "type_name", "") == "list":
            shape = shape.member
    members = getattr(shape, "members", None)
    return known | set(members) if members else None


def check_policy_fields(policies: Iterable[Any], specs: dict[str, ResourceSpec]) -> list[str]:
    """Statement and command fields, and failing-case fields, that the API never returns.

    A test document with a field the provider does not send makes a policy that passes its
    own cases and never fires on a real account; a statement naming such a field prints
    "not set" for every real finding.
    """
    problems: list[str] = []
    for policy in policies:
        spec = specs.get(policy.resource)
        if spec is None or spec.provider != "aws":
            continue
        fields = document_fields(spec)
        if fields is None:
            continue
        for name in sorted(policy.template_fields - fields):
            problems.append(
                f"{policy.source}: the statement or a command reads '{name}', which "
                f"{policy.resource} documents never carry"
            )
        for case in policy.tests:
            unknown = sorted(k for k in case.resource if k not in fields)
            if unknown:
                problems.append(
                    f"{policy.source}: case '{case.name}' has field(s) "
                    f"{', '.join(unknown)} that {policy.resource} documents never carry"
                )
    return problems
