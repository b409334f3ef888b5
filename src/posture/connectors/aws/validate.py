"""Static checks of AWS collection specs against botocore's service models (no network)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import botocore.session
import jmespath
from jmespath.exceptions import ParseError

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.calls import IAM_PREFIX
from posture.connectors.aws.transforms import ENRICHERS, TEMPLATE_FILTERS, TRANSFORMS


@cache
def _model(service: str) -> Any:
    session = botocore.session.get_session()
    return session.get_service_model(service)


def _operation_name(service: str, call: str) -> str | None:
    """boto3 snake_case method -> API operation name, or None if the service lacks it."""
    model = _model(service)
    for name in model.operation_names:
        if botocore.xform_name(name) == call:
            return str(name)
    return None


def required_permissions(specs: Iterable[ResourceSpec]) -> list[str]:
    """IAM actions the collector needs for ``specs`` (derived, so it never drifts)."""
    out: set[str] = set()
    for spec in specs:
        if spec.provider != "aws":
            continue
        out.update(spec.permissions)
        for service, call in spec.calls():
            name = _operation_name(service, call)
            if name:
                prefix = IAM_PREFIX.get(service, _model(service).signing_name)
                out.add(f"{prefix}:{name}")
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
                if _operation_name(service, call) is None:
                    problems.append(f"{spec.type}: service '{service}' has no operation '{call}'")
            except botocore.exceptions.UnknownServiceError:
                problems.append(f"{spec.type}: unknown AWS service '{service}'")
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
