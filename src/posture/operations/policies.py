"""Content checks: load the content folders and report every problem, not only the first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from posture.errors import ContentError, UsageError
from posture.operations.context import Operations
from posture.operations.rows import Text


@dataclass(frozen=True)
class PolicyRow:
    """A policy as listed to an operator or a script: what it checks and what it answers."""

    id: str
    provider: str
    resource: str
    severity: str
    title: Text
    frameworks: dict[str, list[str]]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "provider": self.provider,
            "resource": self.resource,
            "severity": self.severity,
            "title": self.title.as_dict(),
            "frameworks": {fw: list(ids) for fw, ids in self.frameworks.items()},
        }


def list_policies(
    ops: Operations, provider: str | None = None, framework: str | None = None
) -> list[PolicyRow]:
    """Loaded policies by id, optionally of one provider or mapped to one framework."""
    catalog = ops.catalog()
    if framework is not None and framework not in catalog.frameworks:
        known = ", ".join(sorted(catalog.frameworks)) or "none"
        raise UsageError(f"unknown framework '{framework}'; known: {known}")
    return [
        PolicyRow(
            id=p.id,
            provider=p.provider,
            resource=p.resource,
            severity=p.severity.value,
            title=Text.of(p.title),
            frameworks={fw: list(ids) for fw, ids in p.frameworks.items()},
        )
        for p in catalog.select(provider=provider)
        if framework is None or framework in p.frameworks
    ]


@dataclass(frozen=True)
class ContentCheck:
    """Problems in content files (with file, line and field), in collection specs, and
    policy fields the provider's API never returns (checked against its service models)."""

    problems: list[ContentError] = field(default_factory=list)
    spec_problems: list[str] = field(default_factory=list)
    resource_types: int = 0
    policies: int = 0
    frameworks: int = 0
    fixes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.spec_problems


def validate_content(
    ops: Operations, policy_dirs: Sequence[Path] = (), remediation_dirs: Sequence[Path] = ()
) -> ContentCheck:
    """Validate the built-in and configured content plus ``policy_dirs``.

    Every broken policy file is reported with every problem in it. A broken collection
    spec or framework stops the check there, as policies cannot be judged without them.
    """
    from posture.connectors.aws.validate import check_policy_fields, check_specs
    from posture.connectors.dns import check_dns_specs
    from posture.connectors.gcp.validate import check_specs as check_gcp_specs
    from posture.connectors.gws.validate import check_specs as check_gws_specs
    from posture.connectors.m365.validate import check_specs as check_m365_specs

    problems: list[ContentError] = []
    try:
        catalog = ops.catalog_with(policy_dirs, problems, remediation_dirs)
    except ContentError as exc:
        return ContentCheck(problems=[*problems, *exc.problems])
    return ContentCheck(
        problems=problems,
        spec_problems=[
            *check_specs(catalog.specs.values()),
            *check_gws_specs(catalog.specs.values()),
            *check_gcp_specs(catalog.specs.values()),
            *check_m365_specs(catalog.specs.values()),
            *check_dns_specs(list(catalog.specs.values()), set(catalog.specs)),
            *check_policy_fields(catalog.policies.values(), catalog.specs),
        ],
        resource_types=len(catalog.specs),
        policies=len(catalog.policies),
        frameworks=len(catalog.frameworks),
        fixes=len(catalog.fixes),
    )
