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
    unmapped_calls,
)
from posture.connectors.aws.session import SESSION_CALLS
from posture.connectors.aws.transforms import ENRICHERS, TEMPLATE_FILTERS, TRANSFORMS
from posture.errors import ContentError


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
            for expr in (block.items, block.pick, spec.tags):
                if expr:
                    try:
                        jmespath.compile(expr)
                    except ParseError as exc:
                        problems.append(f"{spec.type}: invalid JMESPath '{expr}': {exc}")
    return problems
