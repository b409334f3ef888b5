"""Frameworks and how much of each the loaded policies answer.

Coverage is computed from the catalog alone (no scan needed): it tells an operator, before
a customer asks, which controls posture checks, which need a person and which are gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.catalog import Catalog
from posture.catalog.framework import Framework
from posture.errors import UsageError
from posture.operations.context import Operations
from posture.operations.rows import Text


@dataclass(frozen=True)
class FrameworkRow:
    """One framework of the catalog."""

    id: str
    name: Text
    provider: str
    version: str
    total: int


@dataclass(frozen=True)
class CoverageRow:
    """Controls of one framework: ``automated`` + ``manual`` + ``uncovered`` = ``total``.

    ``automated``: mapped by at least one loaded policy (even a control marked manual);
    ``manual``: marked ``automation: manual`` and mapped by no policy;
    ``uncovered``: neither, i.e. a gap in the policy library.
    """

    id: str
    name: Text
    total: int
    automated: int
    manual: int
    uncovered: int

    def as_dict(self) -> dict[str, int | str]:
        """The ``--json`` shape: counts only, so scripts can compare runs."""
        return {
            "id": self.id,
            "total": self.total,
            "automated": self.automated,
            "manual": self.manual,
            "uncovered": self.uncovered,
        }


@dataclass(frozen=True)
class ControlRow:
    """One control and how posture answers it: ``automated`` (with the policies mapped to
    it), ``manual`` (with the reason) or ``uncovered``."""

    id: str
    title: Text
    section: str
    status: str
    policies: tuple[str, ...]
    reason: Text

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title.as_dict(),
            "section": self.section,
            "status": self.status,
            "policies": list(self.policies),
            "reason": self.reason.as_dict(),
        }


def list_frameworks(ops: Operations) -> list[FrameworkRow]:
    """Every framework of the built-in and configured content, by id."""
    return [
        FrameworkRow(fw.id, Text.of(fw.name), fw.provider, fw.version, len(fw.controls))
        for fw in _frameworks(ops.catalog())
    ]


def framework_coverage(ops: Operations, framework_id: str | None = None) -> list[CoverageRow]:
    """Coverage of every framework (or of ``framework_id``) by the loaded policies."""
    catalog = ops.catalog()
    if framework_id is not None:
        _known(catalog, framework_id)
    chosen = [fw for fw in _frameworks(catalog) if framework_id is None or fw.id == framework_id]
    return [_coverage(fw, mapped_controls(catalog, fw.id)) for fw in chosen]


def framework_controls(ops: Operations, framework_id: str) -> list[ControlRow]:
    """Every control of ``framework_id`` in the framework's order, with how it is answered."""
    catalog = ops.catalog()
    fw = _known(catalog, framework_id)
    policies: dict[str, list[str]] = {}
    for policy in sorted(catalog.policies.values(), key=lambda p: p.id):
        for control_id in policy.frameworks.get(fw.id, []):
            policies.setdefault(control_id, []).append(policy.id)
    rows = []
    for control in fw.controls:
        mapped = tuple(policies.get(control.id, ()))
        status = "automated" if mapped else ("manual" if control.manual else "uncovered")
        rows.append(
            ControlRow(
                id=control.id,
                title=Text.of(control.title),
                section=control.section,
                status=status,
                policies=mapped,
                reason=Text.of(control.reason) if status == "manual" else Text(),
            )
        )
    return rows


def mapped_controls(catalog: Catalog, framework_id: str) -> set[str]:
    """Control ids of ``framework_id`` that at least one loaded policy maps to."""
    return {c for p in catalog.policies.values() for c in p.frameworks.get(framework_id, [])}


def _coverage(fw: Framework, mapped: set[str]) -> CoverageRow:
    automated = sum(1 for c in fw.controls if c.id in mapped)
    manual = sum(1 for c in fw.controls if c.manual and c.id not in mapped)
    total = len(fw.controls)
    return CoverageRow(
        id=fw.id,
        name=Text.of(fw.name),
        total=total,
        automated=automated,
        manual=manual,
        uncovered=total - automated - manual,
    )


def _known(catalog: Catalog, framework_id: str) -> Framework:
    fw = catalog.frameworks.get(framework_id)
    if fw is None:
        known = ", ".join(sorted(catalog.frameworks)) or "none"
        raise UsageError(f"unknown framework '{framework_id}'; known: {known}")
    return fw


def _frameworks(catalog: Catalog) -> list[Framework]:
    return sorted(catalog.frameworks.values(), key=lambda f: f.id)
