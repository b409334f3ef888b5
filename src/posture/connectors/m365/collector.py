"""Execute ``scanners/m365`` specs: list each type from a Graph path, add details, record health.

Every type is one scope (``global``) of the connection. A licence answer makes that scope
not applicable with the plan named; any other failure fails the scope with the Graph code
and the application permissions its spec declares, so its findings stay as they were.

The listings run concurrently; then each type's enrichers (``enrich.py``) run with the
other types' documents, then the aggregates. A type whose enricher source failed fails
too, and one whose source is not applicable is not applicable for the same reason.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import jmespath

from posture.catalog.spec import CallSpec, DetailSpec, JoinSpec, ResourceSpec
from posture.connectors.dns import collect_mail_domains
from posture.connectors.inventory import GLOBAL, Inventory, ScopeFailure
from posture.connectors.m365.client import Counter, GraphCallError, GraphSession
from posture.connectors.m365.enrich import ENRICHERS, TRANSFORMS, EnrichContext, SourceUnavailable
from posture.connectors.m365.failures import licence_reason
from posture.errors import CollectionError
from posture.models import DetailFailure, Resource

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
Progress = Callable[[str, str, int], None]


# where a document keeps its failed details until it becomes a resource (never a Graph key)
_FAILED = "\x00failed"


def render(template: str, item: dict[str, Any], *, where: str) -> Any:
    """Fill ``{field}`` placeholders from ``item``; a lone placeholder keeps the value's type."""
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return _field(item, whole.group(1), where)
    return _PLACEHOLDER.sub(lambda m: str(_field(item, m.group(1), where)), template)


def _field(item: dict[str, Any], name: str, where: str) -> Any:
    value = jmespath.search(name, item)
    if value is None:
        raise CollectionError(f"{where}: the item has no field '{name}' to fill the template")
    return value


def _clean(value: Any) -> Any:
    """Drop Graph's ``@odata.*`` annotations except the type of polymorphic objects."""
    if isinstance(value, dict):
        return {
            k: _clean(v)
            for k, v in value.items()
            if not k.startswith("@odata.") or k == "@odata.type"
        }
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class M365Collector:
    def __init__(
        self,
        session: GraphSession,
        specs: Sequence[ResourceSpec],
        *,
        progress: Progress | None = None,
    ) -> None:
        self.session = session
        self.specs = list(specs)
        self.progress = progress

    def collect(self) -> Inventory:
        return asyncio.run(self._collect())

    async def _collect(self) -> Inventory:
        settings = self.session.settings
        inventory = Inventory(
            connection=self.session.connection,
            provider="m365",
            account=settings.tenant_id,
            regions=[GLOBAL],
        )
        self._docs: dict[str, list[dict[str, Any]]] = {}
        self._counter: Counter = lambda calls, errors, throttles: None
        self._context = EnrichContext(
            account=inventory.account,
            sources=lambda rtype: self._source(rtype, inventory),
            get_all=self._get_all,
        )
        listed = [s for s in self.specs if s.listing]
        try:
            await asyncio.gather(*(self._type(s, inventory) for s in listed))
            # enrichers read other types, so they run once every listing is in
            for spec in listed:
                if spec.type in self._docs and spec.enrich:
                    await self._enrich(spec, inventory)
            for spec in listed:
                self._add(spec, inventory)
            for spec in self.specs:
                if spec.aggregate:
                    await self._aggregate(spec, inventory)
        finally:
            await self.session.close()
        resolver = settings.dns_resolver()
        for spec in self.specs:
            if spec.dns:  # after the types that list the domains
                collect_mail_domains(
                    spec,
                    inventory,
                    resolver,
                    selectors=settings.dkim_selectors,
                    progress=self.progress,
                )
        return inventory

    def _add(self, spec: ResourceSpec, inventory: Inventory) -> None:
        docs = self._docs.get(spec.type)
        if docs is None:
            return
        stat = inventory.stat(spec.type)
        try:
            resources = [self._resource(spec, doc, inventory.account) for doc in docs]
        except CollectionError as exc:
            self._docs.pop(spec.type, None)
            inventory.fail(ScopeFailure(spec.type, GLOBAL, exc.message, exc.provider_code or ""))
            return
        inventory.add(resources)
        inventory.note_detail_failures(spec.type, GLOBAL, resources)
        stat.resources = len(resources)
        if self.progress:
            self.progress(spec.type, GLOBAL, stat.resources)

    def _source(self, rtype: str, inventory: Inventory) -> list[dict[str, Any]]:
        """The documents of ``rtype`` for an enricher, or why there are none to trust."""
        for failure in inventory.failures:
            if failure.resource_type == rtype:
                raise SourceUnavailable(
                    rtype, f"{rtype} could not be collected: {failure.message}", code="SourceFailed"
                )
        reason = inventory.not_applicable_scopes().get((rtype, GLOBAL))
        if reason:
            raise SourceUnavailable(rtype, f"{rtype} is not applicable: {reason}", reason=reason)
        if rtype not in self._docs:
            raise SourceUnavailable(
                rtype, f"{rtype} was not collected in this scan", code="SourceMissing"
            )
        for doc in self._docs[rtype]:
            for failure, _ in doc.get(_FAILED, {}).values():
                raise SourceUnavailable(
                    rtype, f"{rtype}: {failure.describe()}", code="SourceFailed"
                )
        return [dict(d) for d in self._docs[rtype]]

    async def _get_all(self, path: str) -> list[dict[str, Any]]:
        url = self.session.url(path, "graph")
        return await self._items(url, CallSpec(call=path), self._counter)

    async def _enrich(self, spec: ResourceSpec, inventory: Inventory) -> None:
        """Run the type's enrichers in order; a missing source fails it (or n/a, with reason)."""
        docs = await self._enriched(spec, inventory)
        if docs is None:
            self._docs.pop(spec.type, None)
            if self.progress:
                self.progress(spec.type, GLOBAL, 0)
        else:
            self._docs[spec.type] = docs

    async def _enriched(
        self, spec: ResourceSpec, inventory: Inventory
    ) -> list[dict[str, Any]] | None:
        docs = self._docs[spec.type]

        def count(calls: int, errors: int, throttles: int) -> None:
            inventory.count(spec.type, calls=calls, errors=errors, throttles=throttles)

        self._counter = count
        for name in spec.enrich:
            enricher = ENRICHERS.get(name)
            try:
                if enricher is None:
                    raise CollectionError(
                        f"{spec.type}: unknown enricher '{name}'; known: "
                        + ", ".join(sorted(ENRICHERS)),
                        code="SpecError",
                    )
                docs = await enricher.run(docs, self._context)
            except SourceUnavailable as exc:
                message = f"{spec.type} needs {exc.source} (enricher {name}): {exc.message}"
                if exc.reason:
                    inventory.mark_not_applicable(spec.type, GLOBAL, exc.reason)
                else:
                    inventory.fail(ScopeFailure(spec.type, GLOBAL, message, exc.code))
                return None
            except GraphCallError as exc:
                self._record(spec, inventory, exc, enricher.permissions if enricher else ())
                return None
            except CollectionError as exc:
                inventory.fail(
                    ScopeFailure(spec.type, GLOBAL, exc.message, exc.provider_code or "")
                )
                return None
        return docs

    async def _aggregate(self, spec: ResourceSpec, inventory: Inventory) -> None:
        assert spec.aggregate is not None
        try:
            docs = self._source(spec.aggregate.of, inventory)
        except SourceUnavailable as exc:
            if exc.reason:
                inventory.mark_not_applicable(spec.type, GLOBAL, exc.reason)
            else:
                inventory.fail(ScopeFailure(spec.type, GLOBAL, exc.message, exc.code))
            return
        self._docs[spec.type] = [{spec.aggregate.key: docs}]
        if spec.enrich:
            await self._enrich(spec, inventory)
        self._add(spec, inventory)

    async def _type(self, spec: ResourceSpec, inventory: Inventory) -> None:
        started = time.monotonic()

        def count(calls: int, errors: int, throttles: int) -> None:
            inventory.count(spec.type, calls=calls, errors=errors, throttles=throttles)

        try:
            items = await self._listing(spec, count)
            await self._prefetch(spec, items, count)
            docs = await asyncio.gather(*(self._document(spec, item, count) for item in items))
            gaps = [d[_FAILED] for d in docs if _FAILED in d]
            if gaps and spec.enrich:
                # an enricher would read the gap as "nothing there": the type fails as a whole
                raise next(iter(gaps[0].values()))[1]
        except GraphCallError as exc:
            self._record(spec, inventory, exc)
        except CollectionError as exc:
            inventory.fail(ScopeFailure(spec.type, GLOBAL, exc.message, exc.provider_code or ""))
        else:
            self._docs[spec.type] = list(docs)
        finally:
            inventory.stat(spec.type).seconds += time.monotonic() - started
            if self.progress and spec.type not in self._docs:
                self.progress(spec.type, GLOBAL, 0)

    def _record(
        self,
        spec: ResourceSpec,
        inventory: Inventory,
        exc: GraphCallError,
        permissions: Sequence[str] = (),
    ) -> None:
        """A failed call: not applicable for a licence answer, else the type's failure."""
        failure = exc.failure
        if failure.licence:
            inventory.mark_not_applicable(spec.type, GLOBAL, licence_reason(urlsplit(exc.url).path))
            return
        needs = list(permissions or spec.permissions)
        permission = ", ".join(needs)
        message = exc.message
        if failure.denied and permission:
            needed = "permission" if len(needs) == 1 else "permissions"
            message += f" (the application needs the Graph application {needed} {permission})"
        inventory.fail(
            ScopeFailure(
                spec.type,
                GLOBAL,
                message,
                failure.code or str(failure.status),
                permission if failure.denied else "",
            )
        )

    async def _listing(self, spec: ResourceSpec, count: Counter) -> list[dict[str, Any]]:
        listing = spec.listing
        assert listing is not None
        url = self.session.url(listing.call, listing.service or spec.service, listing.args)
        if listing.transform:
            # a transform reads every item of the (paged) listing and shapes the type's items
            transform = TRANSFORMS.get(listing.transform)
            if transform is None:
                raise CollectionError(
                    f"{spec.type}: unknown transform '{listing.transform}'; known: "
                    + ", ".join(sorted(TRANSFORMS)),
                    code="SpecError",
                )
            items = transform(await self._items(url, listing, count), spec.type)
            return items[:1] if listing.single else items
        if listing.single:
            body = _clean(await self.session.get(url, count))
            value = jmespath.search(listing.pick, body) if listing.pick else body
            return [value] if isinstance(value, dict) else []
        return await self._items(url, listing, count)

    async def _items(self, url: str, call: CallSpec | JoinSpec, count: Counter) -> list[Any]:
        items: list[Any] = []
        expr = call.items or "value"
        pages = (
            await self.session.pages(url, count)
            if getattr(call, "paginate", True)
            else [await self.session.get(url, count)]
        )
        for page in pages:
            found = jmespath.search(expr, page)
            items.extend(_clean(found) if isinstance(found, list) else [])
        return items

    async def _prefetch(
        self, spec: ResourceSpec, items: list[dict[str, Any]], count: Counter
    ) -> None:
        """Batch the first page of every per-item detail call (JSON ``$batch``, 20 a call)."""
        if not self.session.settings.batch:
            return
        urls: list[str] = []
        for name, detail in spec.detail.items():
            if detail.join or not detail.call:
                continue
            for item in items:
                if detail.only_if and jmespath.search(detail.only_if, item) in (None, [], {}, ""):
                    continue
                where = f"{spec.type}.detail.{name}"
                path = str(render(detail.call, item, where=where))
                args = {k: render(str(v), item, where=where) for k, v in detail.args.items()}
                urls.append(self.session.url(path, detail.service or spec.service, args))
        await self.session.prefetch(urls, count)

    async def _document(
        self, spec: ResourceSpec, item: dict[str, Any], count: Counter
    ) -> dict[str, Any]:
        """The item with its details; a detail call that fails (other than a licence answer)
        is recorded under ``_FAILED`` as that detail's gap, and the rest is kept."""
        doc = dict(item)
        names = list(spec.detail)
        values = await asyncio.gather(
            *(self._detail(spec, name, spec.detail[name], item, count) for name in names),
            return_exceptions=True,
        )
        failed: dict[str, tuple[DetailFailure, GraphCallError]] = {}
        for name, value in zip(names, values, strict=True):
            if isinstance(value, GraphCallError) and not value.failure.licence:
                failed[name] = (self._detail_failure(spec, name, value), value)
                doc[name] = spec.detail[name].default
            elif isinstance(value, BaseException):
                raise value
            else:
                doc[name] = value
        if failed:
            doc[_FAILED] = failed
        return doc

    @staticmethod
    def _detail_failure(spec: ResourceSpec, name: str, exc: GraphCallError) -> DetailFailure:
        failure = exc.failure
        return DetailFailure(
            detail=name,
            call=f"GET {urlsplit(exc.url).path}",
            code=failure.code or str(failure.status),
            message=exc.message,
            permission=", ".join(spec.permissions) if failure.denied else "",
        )

    async def _detail(
        self,
        spec: ResourceSpec,
        name: str,
        detail: DetailSpec,
        item: dict[str, Any],
        count: Counter,
    ) -> Any:
        where = f"{spec.type}.detail.{name}"
        if detail.only_if and jmespath.search(detail.only_if, item) in (None, [], {}, ""):
            return detail.default
        try:
            if detail.join:
                join = detail.join
                args = {k: render(str(v), item, where=where) for k, v in join.args.items()}
                url = self.session.url(join.call, join.service or spec.service, args)
                wanted = render(join.match, item, where=where)
                matches = [
                    x
                    for x in await self._items(url, join, count)
                    if isinstance(x, dict) and jmespath.search(join.key, x) == wanted
                ]
                return matches if join.many else (matches[0] if matches else detail.default)
            path = str(render(detail.call, item, where=where))
            args = {k: render(str(v), item, where=where) for k, v in detail.args.items()}
            url = self.session.url(path, detail.service or spec.service, args)
            if detail.items:
                return await self._items(url, detail, count)
            body = _clean(await self.session.get(url, count))
            return jmespath.search(detail.pick, body) if detail.pick else body
        except GraphCallError as exc:
            if exc.failure.code in detail.absent_on or str(exc.failure.status) in detail.absent_on:
                return detail.default
            raise

    @staticmethod
    def _resource(spec: ResourceSpec, doc: dict[str, Any], account: str) -> Resource:
        doc = dict(doc)
        failed = {name: found for name, (found, _) in doc.pop(_FAILED, {}).items()}
        context = {**doc, "tenant_id": account}
        uid = str(render(spec.uid, context, where=f"{spec.type}.uid"))
        name = str(render(spec.name, {**context, "uid": uid}, where=f"{spec.type}.name"))
        return Resource(spec.type, uid, GLOBAL, name, doc, {}, account, failed)
