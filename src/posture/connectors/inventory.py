"""The inventory of one connection in one scan: resources plus collection health."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from posture.errors import CollectionError
from posture.models import Resource

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


@dataclass
class Inventory:
    connection: str
    provider: str
    account: str
    regions: list[str]
    resources: list[Resource] = field(default_factory=list)
    failures: list[ScopeFailure] = field(default_factory=list)
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

    def failed_scopes(self) -> dict[tuple[str, str], str]:
        return {(f.resource_type, f.region): f.message for f in self.failures}

    def stats_json(self) -> dict[str, Any]:
        return {
            "types": {k: asdict(v) for k, v in sorted(self.stats.items())},
            "failures": [asdict(f) for f in self.failures],
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
            self.fail(ScopeFailure(rtype, region, str(exc), exc.code or "", exc.permission or ""))
        except spec_errors as exc:
            self.fail(ScopeFailure(rtype, region, f"{rtype}: {exc}", "SpecError"))
        except Exception as exc:  # a bug in one spec or transform must not stop the others
            log.exception("collecting %s in %s failed", rtype, region)
            message = f"internal error while collecting {rtype}: {type(exc).__name__}: {exc}"
            self.fail(ScopeFailure(rtype, region, message, "InternalError"))
        else:
            self.add(resources)
        stat = self.stat(rtype)
        stat.resources += len(resources)
        stat.seconds += time.monotonic() - started
        if progress:
            progress(rtype, region, len(resources))
