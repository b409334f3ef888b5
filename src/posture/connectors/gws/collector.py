"""The Google Workspace spec executor: ``scanners/gws/*.yaml`` -> an inventory.

Every type is customer-wide (region ``global``). A type lists through one discovery method,
paged by ``pageToken``; details add per-item calls or joins against one cached listing; a
listing whose arguments read ``{user.FIELD}`` runs once per user (third-party tokens). Each
type's token carries only the OAuth scopes its spec declares, so one scope missing from the
delegation fails only the types that need it: their findings stay as they were.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jmespath

from posture.catalog.spec import DetailSpec, ResourceSpec
from posture.connectors.dns import collect_mail_domains
from posture.connectors.gws.calls import CallRunner
from posture.connectors.gws.client import GwsTarget
from posture.connectors.gws.enrich import (
    admin_domains,
    group_settings,
    policy_rules,
    security_events,
    setting_changes,
    usage_counts,
)
from posture.connectors.gws.inheritance import resolve, with_root
from posture.connectors.inventory import GLOBAL, Inventory
from posture.errors import CollectionError
from posture.models import DetailFailure, Resource

Progress = Callable[[str, str, int], None]
log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\[\]\-]+)\}")
# listings another listing can run once per item of: ``{user.primaryEmail}`` in its args
EACH: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "user": (
        "admin.directory_v1",
        "users.list",
        {"customer": "{customer_id}", "projection": "full", "maxResults": 500},
        "users",
    ),
}
# time windows a listing's arguments may name (Reports API ``startTime``): RFC 3339, UTC
WINDOWS = {"since_30_days": 30, "since_180_days": 180}
# the day a usage report is read for (``{usage_date}``): Google publishes a day's usage
# figures a few days later, so the scan reads the day four days before it
USAGE_DELAY_DAYS = 4


class SpecError(Exception):
    """A spec asks for something this collector cannot do (a missing field, an unknown name)."""


def _org_unit_settings(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    return resolve(with_root(docs, customer_id))


def _super_admins(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Active (not suspended, not archived) super administrators of an aggregate of users."""
    out = []
    for doc in docs:
        admins = sorted(
            str(u.get("primaryEmail"))
            for u in doc.get("users") or []
            if u.get("isAdmin") and not u.get("suspended") and not u.get("archived")
        )
        out.append({**doc, "super_admins": admins, "super_admin_count": len(admins)})
    return out


# type-level enrichers: they see every document of the type at once (inheritance needs the tree)
ENRICHERS: dict[str, Callable[[list[dict[str, Any]], str], list[dict[str, Any]]]] = {
    "org_unit_settings": _org_unit_settings,
    "super_admins": _super_admins,
    "security_events": security_events,
    "policy_rules": policy_rules,
    "group_settings": group_settings,
    "admin_domains": admin_domains,
    "setting_changes": setting_changes,
    "usage_counts": usage_counts,
}


# where a document keeps its failed details until it becomes a resource (never an API key)
_FAILED = "\x00failed"


def _detail_failure(
    spec: ResourceSpec, name: str, detail: DetailSpec, exc: CollectionError
) -> DetailFailure:
    call = detail.join.call if detail.join else detail.call
    api = (detail.join.service if detail.join else detail.service) or spec.service
    return DetailFailure(
        detail=name,
        call=f"{api} {call}",
        code=exc.provider_code or "Error",
        message=exc.message,
        permission=exc.permission or "",
    )


def render(template: Any, doc: dict[str, Any], ctx: dict[str, Any]) -> Any:
    """Fill ``{field}`` placeholders from ``ctx`` then the document; a lone one keeps its type."""
    if isinstance(template, dict):
        return {k: render(v, doc, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, doc, ctx) for v in template]
    if not isinstance(template, str):
        return template

    def value(name: str) -> Any:
        found = ctx[name] if name in ctx else jmespath.search(name, doc)
        if found is None:
            raise SpecError(f"field '{name}' is missing")
        return found

    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return value(whole.group(1))
    return _PLACEHOLDER.sub(lambda m: str(value(m.group(1))), template)


def each_value(args: dict[str, Any]) -> list[dict[str, Any]]:
    """A listing whose argument is a list runs once per value (``eventName: [a, b]``): the
    Reports API takes one event name per call."""
    many = [k for k, v in args.items() if isinstance(v, list)]
    if not many:
        return [args]
    if len(many) > 1:
        raise SpecError(f"only one argument may list several values, not {', '.join(many)}")
    return [{**args, many[0]: value} for value in args[many[0]]]


def each_source(args: dict[str, Any]) -> str | None:
    """The ``EACH`` listing a spec's arguments iterate over, if any."""
    for name in EACH:
        if any(isinstance(v, str) and "{" + name + "." in v for v in args.values()):
            return name
    return None


class GwsCollector:
    """Collects every gws spec of ``specs`` for one customer into an ``Inventory``."""

    def __init__(
        self,
        target: GwsTarget,
        specs: Sequence[ResourceSpec],
        *,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: datetime | None = None,
    ) -> None:
        self.now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.target = target
        self.specs = [s for s in specs if s.provider == "gws"]
        self.inventory = Inventory(target.connection, "gws", target.customer_id, [GLOBAL])
        self.runner = CallRunner(target, self.inventory, sleep=sleep)
        self._join_index: dict[str, dict[Any, list[dict[str, Any]]]] = {}
        self.progress = progress
        self.resolver = target.settings.dns_resolver()

    def collect(self) -> Inventory:
        # httplib2 is not thread-safe and Workspace quotas are per customer: one type at a time
        for spec in sorted(self.specs, key=lambda s: (s.dns is not None, s.aggregate is not None)):
            if spec.dns:  # after the types that list the domains
                collect_mail_domains(
                    spec,
                    self.inventory,
                    self.resolver,
                    selectors=self.target.settings.dkim_selectors,
                    progress=self.progress,
                )
            else:
                self._collect_type(spec)
        return self.inventory

    def _ctx(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "customer_id": self.target.customer_id,
            "admin_email": self.target.settings.admin_email,
        }
        for name, days in WINDOWS.items():
            since = self.now - timedelta(days=days)
            ctx[name] = since.isoformat().replace("+00:00", "Z")
        ctx["usage_date"] = (self.now - timedelta(days=USAGE_DELAY_DAYS)).date().isoformat()
        return ctx

    def _listing(
        self,
        spec: ResourceSpec,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        scopes: tuple[str, ...],
    ) -> list[Any] | dict[str, Any]:
        """``runner.items`` once per value of a list argument, the items joined."""
        runs = each_value(args)
        if len(runs) == 1:
            return self.runner.items(spec.type, api, call, runs[0], items, scopes)
        out: list[Any] = []
        for one in runs:
            found = self.runner.items(spec.type, api, call, one, items, scopes)
            out.extend(found if isinstance(found, list) else [found])
        return out

    def _collect_type(self, spec: ResourceSpec) -> None:
        self.inventory.collect_scope(
            spec.type,
            GLOBAL,
            lambda: self._resources(spec),
            spec_errors=(SpecError,),
            progress=self.progress,
        )

    def _scopes(self, spec: ResourceSpec) -> tuple[str, ...]:
        if not spec.permissions:
            raise SpecError("the spec declares no OAuth scope under 'permissions'")
        return tuple(spec.permissions)

    def _resources(self, spec: ResourceSpec) -> list[Resource]:
        scopes = self._scopes(spec)
        if spec.aggregate:
            docs = [self._aggregate(spec)]
        else:
            docs = [self._build(spec, item, scopes) for item in self._list(spec, scopes)]
        gaps = [doc.pop(_FAILED, {}) for doc in docs]
        first = next((gap for gap in gaps if gap), None)
        if first and spec.enrich:
            # an enricher would read the gap as "nothing there": the type fails as a whole
            raise next(iter(first.values()))[1]
        for name in spec.enrich:
            if name not in ENRICHERS:
                raise SpecError(f"unknown enricher '{name}'; known: {', '.join(sorted(ENRICHERS))}")
            docs = ENRICHERS[name](docs, self.target.customer_id)
        ctx = self._ctx()
        out = []
        for index, doc in enumerate(docs):
            uid = str(render(spec.uid, doc, ctx))
            gap = gaps[index] if first and index < len(gaps) else {}
            out.append(
                Resource(
                    type=spec.type,
                    uid=uid,
                    region=GLOBAL,
                    name=str(render(spec.name, doc, {**ctx, "uid": uid})),
                    data=doc,
                    account=self.target.customer_id,
                    failed={name: found for name, (found, _) in gap.items()},
                )
            )
        return out

    def _aggregate(self, spec: ResourceSpec) -> dict[str, Any]:
        """One document holding every document of the source type (customer-wide checks)."""
        assert spec.aggregate is not None
        source = spec.aggregate.of
        failed = [f for f in self.inventory.failures if f.resource_type == source]
        if failed:
            raise CollectionError(
                f"{spec.type} depends on {source}, whose collection failed: {failed[0].message}",
                code=failed[0].code or "DependencyFailed",
                permission=failed[0].permission or None,
            )
        if source not in {s.type for s in self.specs}:
            raise SpecError(f"aggregate of {source}, which this scan does not collect")
        partial = [f for f in self.inventory.detail_failures if f.resource_type == source]
        if partial:  # one document of every source: a gap in one is a gap in the aggregate
            raise CollectionError(
                f"{spec.type} depends on {source}, of which {partial[0].describe()}",
                code=partial[0].code or "DependencyFailed",
                permission=partial[0].permission or None,
            )
        items = [r.data for r in self.inventory.resources if r.type == source]
        return {spec.aggregate.key: items}

    def _list(self, spec: ResourceSpec, scopes: tuple[str, ...]) -> list[dict[str, Any]]:
        listing = spec.listing
        if listing is None:
            raise SpecError("a Google Workspace type needs a 'list'")
        api = listing.service or spec.service
        ctx = self._ctx()
        source = each_source(listing.args)
        if source is None:
            return self._items(
                spec, api, listing.call, render(listing.args, {}, ctx), listing, scopes
            )
        each_api, each_call, each_args, each_items = EACH[source]
        parents = self.runner.items(
            spec.type, each_api, each_call, render(each_args, {}, ctx), each_items, scopes
        )
        out: list[dict[str, Any]] = []
        for parent in parents:
            if isinstance(parent, dict):
                args = render(listing.args, {source: parent}, ctx)
                # who an item belongs to, by name: tokens carry only the user's numeric id
                owner = {k: parent[k] for k in ("id", "primaryEmail") if k in parent}
                for item in self._items(spec, api, listing.call, args, listing, scopes):
                    out.append({**item, source: owner})
        return out

    def _items(
        self,
        spec: ResourceSpec,
        api: str,
        call: str,
        args: dict[str, Any],
        listing: Any,
        scopes: tuple[str, ...],
    ) -> list[dict[str, Any]]:
        if listing.single:
            answer = self.runner.items(spec.type, api, call, args, None, scopes)
            value = jmespath.search(listing.pick, answer) if listing.pick else answer
            return [value if isinstance(value, dict) else {"value": value}]
        items = self._listing(spec, api, call, args, listing.items or "items", scopes)
        return [i for i in items if isinstance(i, dict)]

    def _build(
        self, spec: ResourceSpec, item: dict[str, Any], scopes: tuple[str, ...]
    ) -> dict[str, Any]:
        doc = dict(item)
        failed: dict[str, tuple[DetailFailure, CollectionError]] = {}
        for name, detail in spec.detail.items():
            if detail.only_if and jmespath.search(detail.only_if, doc) in (None, "", [], {}):
                doc[name] = detail.default
                continue
            try:
                doc[name] = self._detail(spec, detail, doc, scopes)
            except CollectionError as exc:  # this detail of this item; the rest is kept
                doc[name] = detail.default
                failed[name] = (_detail_failure(spec, name, detail, exc), exc)
        if failed:
            doc[_FAILED] = failed
        return doc

    def _detail(
        self, spec: ResourceSpec, detail: DetailSpec, doc: dict[str, Any], scopes: tuple[str, ...]
    ) -> Any:
        ctx = self._ctx()
        if detail.join:
            join = detail.join
            api = join.service or spec.service
            args = render(join.args, {}, ctx)
            index_key = json.dumps([api, join.call, args, join.items, join.key], sort_keys=True)
            index = self._join_index.get(index_key)
            if index is None:
                items = self._listing(spec, api, join.call, args, join.items, scopes)
                # the key is JMESPath: ``actor.email`` matches an activity to its user; the
                # index is built once, not scanned once per resource
                key = jmespath.compile(join.key)
                index = {}
                for item in items:
                    if isinstance(item, dict):
                        found = key.search(item)
                        if isinstance(found, (str, int, float, bool)):
                            index.setdefault(found, []).append(item)
                self._join_index[index_key] = index
            wanted = render(join.match, doc, ctx)
            matches = index.get(wanted, []) if isinstance(wanted, (str, int, float, bool)) else []
            return list(matches) if join.many else (matches[0] if matches else None)
        value = self._listing(
            spec,
            detail.service or spec.service,
            detail.call,
            render(detail.args, doc, ctx),
            detail.items,
            scopes,
        )
        if detail.pick and isinstance(value, dict):
            return jmespath.search(detail.pick, value)
        return value
