"""The inventory of one connection in one scan: resources plus collection health."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from posture.errors import CollectionError
from posture.models import DetailFailure, Resource

log = logging.getLogger(__name__)

GLOBAL = "global"
ORGANIZATION_PREFIX = "organizations/"


def collection_scope(region: str) -> str:
    """The scope a Google Cloud resource was collected in, from its region.

    A Google Cloud resource's region is its scope (a project id, or ``organizations/N``),
    followed by ``/`` and its location when its spec names one (``acme-prod/us-central1``).
    """
    if region.startswith(ORGANIZATION_PREFIX):
        return "/".join(region.split("/", 2)[:2])
    return region.split("/", 1)[0]


@dataclass
class TypeStats:
    """API accounting for one resource type."""

    resource_type: str
    calls: int = 0
    errors: int = 0
    throttles: int = 0  # retried throttling responses
    resources: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class ScopeFailure:
    """Collection of ``resource_type`` in ``region`` failed; its findings must not be resolved."""

    resource_type: str
    region: str
    message: str
    code: str = ""
    permission: str = ""
    # the member account of an organisation connection whose scope this is ("": the
    # connection's own); ``region`` then reads "ACCOUNT/REGION", "ACCOUNT/*" for all of them
    account: str = ""


@dataclass(frozen=True)
class DetailScopeFailure:
    """A detail that failed for ``resources`` of the ``total`` resources of one scope.

    The scope itself was collected: its resources carry the failure (``Resource.failed``),
    and only the policies that read ``detail`` give ``error`` for them.
    """

    resource_type: str
    region: str
    detail: str
    call: str
    code: str
    message: str
    permission: str
    resources: int
    total: int

    @property
    def whole_scope(self) -> bool:
        return self.resources == self.total

    def describe(self) -> str:
        """The line a scan and the connection's health show."""
        which = (
            f"of every {self.resource_type}"
            if self.whole_scope
            else f"of {self.resources} of {self.total} {self.resource_type}"
        )
        text = f"could not read {self.detail} {which} [{self.region}]: {self.call} failed ({self.code})"
        if self.permission:
            text += f": missing permission {self.permission}"
        return text


def detail_failures(
    resource_type: str, region: str, resources: list[Resource]
) -> list[DetailScopeFailure]:
    """The per-resource detail failures of one scope, summed up per detail and cause."""
    grouped: dict[tuple[str, str, str, str], list[DetailFailure]] = {}
    for resource in resources:
        for failure in resource.failed.values():
            key = (failure.detail, failure.call, failure.code, failure.permission)
            grouped.setdefault(key, []).append(failure)
    return [
        DetailScopeFailure(
            resource_type,
            region,
            detail,
            call,
            code,
            found[0].message,
            permission,
            len(found),
            len(resources),
        )
        for (detail, call, code, permission), found in sorted(grouped.items())
    ]


@dataclass
class Inventory:
    connection: str
    provider: str
    account: str
    regions: list[str]
    resources: list[Resource] = field(default_factory=list)
    failures: list[ScopeFailure] = field(default_factory=list)
    # details that failed inside collected scopes (their resources carry them)
    detail_failures: list[DetailScopeFailure] = field(default_factory=list)
    stats: dict[str, TypeStats] = field(default_factory=dict)
    # (type, scope) the tenant's licence does not cover -> why ("requires Microsoft Entra ID P2")
    not_applicable: dict[tuple[str, str], str] = field(default_factory=dict)
    # an organisation connection: what became of each member account (id, name, role_arn,
    # status, code, message, regions), and a one-line health summary
    accounts: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def stat(self, resource_type: str) -> TypeStats:
        with self._lock:
            if resource_type not in self.stats:
                self.stats[resource_type] = TypeStats(resource_type)
            return self.stats[resource_type]

    def count(
        self, resource_type: str, *, calls: int = 0, errors: int = 0, throttles: int = 0
    ) -> None:
        with self._lock:
            stat = self.stats.setdefault(resource_type, TypeStats(resource_type))
            stat.calls += calls
            stat.errors += errors
            stat.throttles += throttles

    def add(self, resources: list[Resource]) -> None:
        with self._lock:
            self.resources.extend(resources)

    def fail(self, failure: ScopeFailure) -> None:
        with self._lock:
            self.failures.append(failure)

    def mark_not_applicable(self, resource_type: str, region: str, reason: str) -> None:
        """The scope was not collected because the licence lacks the feature: not a failure."""
        with self._lock:
            self.not_applicable[(resource_type, region)] = reason

    def not_applicable_scopes(self) -> dict[tuple[str, str], str]:
        return dict(self.not_applicable)

    def note_detail_failures(self, rtype: str, region: str, resources: list[Resource]) -> None:
        """Sum up the failed details of one collected scope's resources (if any)."""
        found = detail_failures(rtype, region, resources)
        if found:
            with self._lock:
                self.detail_failures.extend(found)

    def problems(self) -> list[str]:
        """What could not be read, one line each: failed scopes, then failed details."""
        lines = [f"{f.resource_type} [{f.region}]: {f.message}" for f in self.failures]
        return lines + [f.describe() for f in self.detail_failures]

    def failed_scopes(self) -> dict[tuple[str, str], str]:
        return {(f.resource_type, f.region): f.message for f in self.failures}

    def stats_json(self) -> dict[str, Any]:
        return {
            "types": {k: asdict(v) for k, v in sorted(self.stats.items())},
            "failures": [asdict(f) for f in self.failures],
            "detail_failures": [
                {**asdict(f), "whole_scope": f.whole_scope} for f in self.detail_failures
            ],
            "regions": self.regions,
            "not_applicable": [
                {"resource_type": t, "region": r, "reason": why}
                for (t, r), why in sorted(self.not_applicable.items())
            ],
            **({"accounts": self.accounts} if self.accounts else {}),
        }

    @property
    def api_calls(self) -> int:
        return sum(s.calls for s in self.stats.values())

    def collect_scope(
        self,
        rtype: str,
        region: str,
        fetch: Callable[[], list[Resource]],
        *,
        spec_errors: tuple[type[Exception], ...] = (),
        progress: Callable[[str, str, int], None] | None = None,
    ) -> None:
        """Run ``fetch`` for one (type, region) scope and record what it gave.

        Every connector collects a scope the same way: a failed call becomes that scope's
        failure (naming the code and the permission), a malformed spec a ``SpecError``, and
        any other exception an ``InternalError``, so one broken type never stops the others.
        """
        started = time.monotonic()
        resources: list[Resource] = []
        try:
            resources = fetch()
        except CollectionError as exc:
            self.fail(
                ScopeFailure(rtype, region, str(exc), exc.provider_code or "", exc.permission or "")
            )
        except spec_errors as exc:
            self.fail(ScopeFailure(rtype, region, f"{rtype}: {exc}", "SpecError"))
        except Exception as exc:  # a bug in one spec or transform must not stop the others
            log.exception("collecting %s in %s failed", rtype, region)
            message = f"internal error while collecting {rtype}: {type(exc).__name__}: {exc}"
            self.fail(ScopeFailure(rtype, region, message, "InternalError"))
        else:
            self.add(resources)
            self.note_detail_failures(rtype, region, resources)
        stat = self.stat(rtype)
        stat.resources += len(resources)
        stat.seconds += time.monotonic() - started
        if progress:
            progress(rtype, region, len(resources))
