"""The generic AWS collector: executes collection specs, concurrently, once per call.

Per (resource type, region) it lists, adds details to every item, and builds resources.
A failed listing fails that whole scope: it is reported, its resources are not evaluated,
and its open findings stay open. A failed detail call fails only that detail of that
resource: the resource records it (``Resource.failed``), the policies reading it give
``error``, and the others judge the rest of the document. A resource type with enrichers
keeps the whole-scope semantics, since an enricher cannot tell missing data from none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import jmespath

from posture.catalog.spec import DetailSpec, JoinSpec, ResourceSpec
from posture.connectors.aws.calls import Absent, CallRunner, Unseen
from posture.connectors.aws.permissions import permission_for
from posture.connectors.aws.session import AwsTarget
from posture.connectors.aws.transforms import ENRICHERS, TEMPLATE_FILTERS, TRANSFORMS
from posture.connectors.inventory import GLOBAL, Inventory, ScopeFailure
from posture.errors import CollectionError, is_denied
from posture.models import UNKNOWN_KEY, DetailFailure, Resource

Progress = Callable[[str, str, int], None]
log = logging.getLogger(__name__)
_NO_VALUE: tuple[Any, ...] = (None, False, "", [], {})
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\[\]\-]+)(?:\|([a-z_]+))?\}")


class _TemplateError(Exception):
    pass


def _lookup(name: str, doc: Any, ctx: dict[str, Any], template_filter: str | None = None) -> Any:
    if name in ctx:
        value = ctx[name]
    else:
        value = jmespath.search(name, doc) if isinstance(doc, dict) else None
    if value is None:
        raise _TemplateError(f"field '{name}' is missing")
    if template_filter:
        if template_filter not in TEMPLATE_FILTERS:
            raise _TemplateError(f"unknown template filter '{template_filter}'")
        value = TEMPLATE_FILTERS[template_filter](value)
    return value


def render(template: Any, doc: Any, ctx: dict[str, Any]) -> Any:
    """Fill ``{Field}`` placeholders; a lone placeholder keeps the value's type."""
    if isinstance(template, dict):
        return {k: render(v, doc, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, doc, ctx) for v in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return _lookup(whole.group(1), doc, ctx, whole.group(2))
    return _PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), doc, ctx, m.group(2))), template)


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for tag in value or []:
        if isinstance(tag, dict):
            key = tag.get("Key", tag.get("TagKey"))
            if key is not None:
                out[str(key)] = str(tag.get("Value", tag.get("TagValue", "")))
    return out


def _read(value: Any, expression: str | None, transform: str | None) -> Any:
    picked = jmespath.search(expression, value) if expression else value
    if transform:
        picked = TRANSFORMS[transform](picked)
    return picked


class AwsCollector:
    """Collects every spec of ``specs`` from one AWS target into an ``Inventory``."""

    def __init__(
        self,
        target: AwsTarget,
        specs: Sequence[ResourceSpec],
        *,
        max_workers: int = 8,
        detail_workers: int = 16,
        progress: Progress | None = None,
    ) -> None:
        self.target = target
        self.specs = [s for s in specs if s.provider == "aws"]
        self.inventory = Inventory(
            target.connection, "aws", target.account_id, list(target.regions)
        )
        self.runner = CallRunner(target, self.inventory)
        self.max_workers = max_workers
        self.detail_workers = detail_workers
        self.progress = progress
        self._joins: dict[tuple[str, str], dict[str, list[Any]]] = {}

    # -- planning ------------------------------------------------------------------------
    def scopes(self) -> list[tuple[ResourceSpec, str]]:
        out: list[tuple[ResourceSpec, str]] = []
        for spec in self.specs:
            if spec.aggregate:
                continue
            regions = [GLOBAL] if spec.scope == "global" else self.target.regions
            out.extend((spec, region) for region in regions)
        return out

    def _call_region(self, region: str, forced: str | None) -> str:
        if forced:
            return forced
        if region == GLOBAL:
            return "us-east-1" if self.target.partition == "aws" else self.target.home_region
        return region

    def _ctx(self, region: str) -> dict[str, Any]:
        return {
            "account_id": self.target.account_id,
            "partition": self.target.partition,
            "region": region,
        }

    # -- running -------------------------------------------------------------------------
    def collect(self) -> Inventory:
        with (
            ThreadPoolExecutor(self.detail_workers, thread_name_prefix="detail") as details,
            ThreadPoolExecutor(self.max_workers, thread_name_prefix="scope") as scopes,
        ):
            futures = [
                scopes.submit(self._collect_scope, spec, region, details)
                for spec, region in self.scopes()
            ]
            for future in futures:
                future.result()
        self._aggregate()
        return self.inventory

    def _collect_scope(self, spec: ResourceSpec, region: str, pool: ThreadPoolExecutor) -> None:
        def fetch() -> list[Resource]:
            items = self._list(spec, region)
            futures = [pool.submit(self._build, spec, region, item) for item in items]
            return [f.result() for f in futures]

        self.inventory.collect_scope(
            spec.type, region, fetch, spec_errors=(_TemplateError,), progress=self.progress
        )

    def _list(self, spec: ResourceSpec, region: str) -> list[dict[str, Any]]:
        listing = spec.listing
        assert listing is not None
        service = listing.service or spec.service
        ctx = self._ctx(region)
        try:
            response = self.runner.call(
                service,
                self._call_region(region, listing.region),
                listing.call,
                render(listing.args, {}, ctx),
                paginate=listing.paginate and not listing.single,
                absent_on=listing.absent_on,
                resource_type=spec.type,
            )
        except Absent:
            return [{}] if listing.single else []
        if listing.single:
            value = _read(response, listing.pick, listing.transform)
            return [value if isinstance(value, dict) else {"value": value}]
        items = _read(response, listing.items, listing.transform)
        return [i for i in (items or []) if isinstance(i, dict)]

    def _build(self, spec: ResourceSpec, region: str, item: dict[str, Any]) -> Resource:
        doc = dict(item)
        ctx = self._ctx(region)
        failed: dict[str, DetailFailure] = {}
        errors: list[CollectionError] = []
        for name, detail in spec.detail.items():
            upstream = next(
                (failed[k] for k in _roots(detail.only_if, detail.unknown_if) if k in failed), None
            )
            if upstream is not None:  # it depends on a detail that could not be read
                doc[name] = detail.default
                failed[name] = replace(upstream, detail=name)
                continue
            if detail.only_if and jmespath.search(detail.only_if, doc) in (None, "", [], {}):
                doc[name] = detail.default
                continue
            try:
                doc[name] = self._detail(spec, region, detail, doc, ctx)
            except Unseen as unseen:
                doc[name] = detail.default
                doc.setdefault(UNKNOWN_KEY, {})[name] = unseen.code
            except CollectionError as exc:
                if spec.enrich:
                    raise  # an enricher would read the gap as "nothing there"
                doc[name] = detail.default
                failed[name] = _detail_failure(name, detail, spec, exc)
                errors.append(exc)
            except _TemplateError:
                if errors:  # the template read a detail that failed: fail as that call
                    raise errors[0] from None
                raise
        for enricher in spec.enrich:
            doc = ENRICHERS[enricher](doc)
        try:
            resource_region = str(render(spec.region, doc, ctx)) if spec.region else region
            uid = str(render(spec.uid, doc, ctx))
            name = str(render(spec.name, doc, {**ctx, "uid": uid}))
        except _TemplateError:
            if errors:  # e.g. the region comes from a location call that was denied
                raise errors[0] from None
            raise
        return Resource(
            type=spec.type,
            uid=uid,
            region=resource_region,
            name=name,
            data=doc,
            tags=_tags(jmespath.search(spec.tags, doc)) if spec.tags else {},
            account=self.target.account_id,
            failed=failed,
        )

    def _detail(
        self,
        spec: ResourceSpec,
        region: str,
        detail: DetailSpec,
        doc: dict[str, Any],
        ctx: dict[str, Any],
    ) -> Any:
        if detail.join:
            return self._join(spec, region, detail.join, doc, ctx)
        unknown_on = detail.unknown_on
        if detail.unknown_if and jmespath.search(detail.unknown_if, doc) in _NO_VALUE:
            unknown_on = []  # e.g. our own bucket: a denial is a missing permission
        try:
            response = self.runner.call(
                detail.service or spec.service,
                self._call_region(
                    region, render(detail.region, doc, ctx) if detail.region else None
                ),
                detail.call,
                render(detail.args, doc, ctx),
                paginate=detail.paginate,
                absent_on=detail.absent_on,
                resource_type=spec.type,
                unknown_on=unknown_on,
            )
        except Absent:
            return detail.default
        return _read(response, detail.items or detail.pick, detail.transform)

    def _join(
        self,
        spec: ResourceSpec,
        region: str,
        join: JoinSpec,
        doc: dict[str, Any],
        ctx: dict[str, Any],
    ) -> Any:
        call_region = self._call_region(
            region, render(join.region, doc, ctx) if join.region else None
        )
        try:
            response = self.runner.call(
                join.service or spec.service,
                call_region,
                join.call,
                render(join.args, {}, ctx),
                paginate=True,
                absent_on=join.absent_on,
                resource_type=spec.type,
            )
        except Absent:
            response = {}
        items = _read(response, join.items, join.transform) or []
        wanted = render(join.match, doc, ctx)
        matches = [i for i in items if isinstance(i, dict) and i.get(join.key) == wanted]
        if join.many:
            return matches
        return matches[0] if matches else None

    def _aggregate(self) -> None:
        failed = {f.resource_type for f in self.inventory.failures}
        partial = {f.resource_type: f for f in self.inventory.detail_failures}
        for spec in self.specs:
            if not spec.aggregate:
                continue
            source = spec.aggregate.of
            if source in failed:
                self.inventory.fail(
                    ScopeFailure(spec.type, GLOBAL, f"depends on {source}, whose collection failed")
                )
                continue
            if source in partial:  # one document of every source: a gap in one is a gap
                gap = partial[source]
                self.inventory.fail(
                    ScopeFailure(
                        spec.type,
                        GLOBAL,
                        f"depends on {source}, of which {gap.describe()}",
                        gap.code,
                        gap.permission,
                    )
                )
                continue
            items = [r.data for r in self.inventory.resources if r.type == source]
            doc = {spec.aggregate.key: items}
            ctx = self._ctx(GLOBAL)
            uid = str(render(spec.uid, doc, ctx))
            self.inventory.add(
                [
                    Resource(
                        type=spec.type,
                        uid=uid,
                        region=GLOBAL,
                        name=str(render(spec.name, doc, {**ctx, "uid": uid})),
                        data=doc,
                        account=self.target.account_id,
                    )
                ]
            )
            self.inventory.stat(spec.type).resources += 1


_ROOT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _roots(*expressions: str | None) -> list[str]:
    """The top-level document keys JMESPath expressions such as ``!own_bucket`` start from."""
    return [m.group(0) for e in expressions if e and (m := _ROOT.search(e))]


def _detail_failure(
    name: str, detail: DetailSpec, spec: ResourceSpec, exc: CollectionError
) -> DetailFailure:
    """What a failed detail call tells the policies that read ``name``."""
    service = (detail.join.service if detail.join else detail.service) or spec.service
    operation = detail.join.call if detail.join else detail.call
    call = exc.permission or permission_for(service, operation)
    return DetailFailure(
        detail=name,
        call=call,
        code=exc.provider_code or "Error",
        message=exc.message,
        permission=call if is_denied(exc.provider_code) else "",
    )
