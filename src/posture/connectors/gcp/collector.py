"""The Google Cloud spec executor: ``scanners/gcp/*.yaml`` -> an inventory.

The projects are the organisation's ACTIVE projects (Resource Manager v3: folders.list and
projects.list from the organisation down) or the connection's explicit list. Each project
is collected by one worker of a bounded pool, its types one after the other; organisation
types once. A resource's region is its scope (project id or ``organizations/N``), then
``/`` and its location when the spec names one. A failed call fails that (type, scope)
only: the other projects and types are still collected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jmespath
from googleapiclient.errors import HttpError

from posture.catalog.spec import DetailSpec, ResourceSpec
from posture.connectors.gcp.client import GcpTarget
from posture.connectors.gcp.enrich import ENRICHERS
from posture.connectors.gcp.errors import absent, call_error
from posture.connectors.gcp.templates import SpecError, render
from posture.connectors.google_calls import GoogleCalls
from posture.connectors.inventory import Inventory, ScopeFailure
from posture.errors import CollectionError, ConnectionFailure, ConnectionReason
from posture.models import Resource

Progress = Callable[[str, str, int], None]
log = logging.getLogger(__name__)
CRM = "cloudresourcemanager.v3"
DISCOVERY_TYPE = "gcp.cloudresourcemanager.project"  # discovery calls are counted here
ORGANIZATION_ONLY = "organization"  # the scope name of an organisation type without one


@dataclass(frozen=True)
class Scope:
    """Where a type is collected: a project or the organisation, with its template variables."""

    key: str  # project id, or organizations/N
    variables: dict[str, Any]


@dataclass(frozen=True)
class _Call:
    scope: str
    permissions: tuple[str, ...]


def _name(spec: ResourceSpec, doc: dict[str, Any], ctx: dict[str, Any]) -> str:
    """The display name; Google omits an empty ``displayName``, so the uid stands in."""
    try:
        return str(render(spec.name, doc, ctx))
    except SpecError:
        return str(ctx["uid"])


def _page_items(answer: dict[str, Any], path: str) -> list[Any]:
    found = jmespath.search(path, answer)
    return list(found) if isinstance(found, list) else []  # Google omits an empty list


class GcpCollector:
    """Collects every gcp spec of ``specs`` for one connection into an ``Inventory``."""

    def __init__(
        self,
        target: GcpTarget,
        specs: Sequence[ResourceSpec],
        *,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.settings = target.settings
        self.specs = [s for s in specs if s.provider == "gcp"]
        self.inventory = Inventory(target.connection, "gcp", self.settings.account, [])
        self.calls = GoogleCalls(
            self.inventory,
            client=lambda api, _context: target.client(api),
            failure=self._failure,
            items=_page_items,
            max_attempts=self.settings.max_attempts,
            connection=target.connection,
            sleep=sleep,
        )
        self.progress = progress
        self.projects: list[dict[str, Any]] = []
        self.unreadable: dict[str, str] = {}  # listed project -> why it cannot be scanned

    # -- failures ---------------------------------------------------------------------
    def _failure(self, exc: Exception, api: str, call: str, context: Any) -> CollectionError:
        where = context if isinstance(context, _Call) else _Call("discovery", ())
        return call_error(
            exc,
            connection=self.target.connection,
            scope=where.scope,
            api=api,
            call=call,
            permissions=where.permissions,
            root_url=self.settings.root_url,
        )

    # -- the projects -----------------------------------------------------------------
    def discover(self) -> list[Scope]:
        """The project scopes: the organisation's ACTIVE projects, or the listed ones."""
        org = self.settings.organization_id
        found: list[dict[str, Any]] = []
        if org:
            found = self._organization_projects(f"organizations/{org}")
        else:
            for project_id in self.settings.projects:
                project = self._project(project_id)
                if project is not None:
                    found.append(project)
        self.projects = sorted(found, key=lambda p: str(p.get("projectId")))
        scopes = []
        for project in self.projects:
            variables: dict[str, Any] = {
                "project_id": project["projectId"],
                "project_number": str(project.get("name", "")).removeprefix("projects/"),
            }
            scopes.append(Scope(str(project["projectId"]), variables))
        return scopes

    def _organization_projects(self, organization: str) -> list[dict[str, Any]]:
        context = _Call(
            organization, ("resourcemanager.folders.list", "resourcemanager.projects.list")
        )
        parents, projects = [organization], []
        try:
            while parents:
                parent = parents.pop(0)
                folders = self.calls.items(
                    DISCOVERY_TYPE, CRM, "folders.list", {"parent": parent}, "folders", context
                )
                parents += [
                    str(f["name"])
                    for f in folders
                    if isinstance(f, dict) and f.get("state", "ACTIVE") == "ACTIVE"
                ]
                listed = self.calls.items(
                    DISCOVERY_TYPE, CRM, "projects.list", {"parent": parent}, "projects", context
                )
                projects += [
                    p for p in listed if isinstance(p, dict) and p.get("state") == "ACTIVE"
                ]
        except CollectionError as exc:
            raise ConnectionFailure(
                f"the projects of {organization} could not be listed: {exc}",
                reason=ConnectionReason.PERMISSION_DENIED
                if exc.provider_code == "AccessDenied"
                else ConnectionReason.PROVIDER_ERROR,
                connection=self.target.connection,
                hint="grant the connection's identity roles/browser (folders and projects) on "
                "the organisation; see: posture connection permissions gcp",
            ) from exc
        return projects

    def _project(self, project_id: str) -> dict[str, Any] | None:
        """One listed project (projects.get, the same call the project type makes); a project
        that cannot be read fails every type in it."""
        context = _Call(project_id, ("resourcemanager.projects.get",))
        try:
            found = self.calls.items(
                DISCOVERY_TYPE,
                CRM,
                "projects.get",
                {"name": f"projects/{project_id}"},
                None,
                context,
            )
        except CollectionError as exc:
            self.unreadable[project_id] = str(exc)
            for spec in self.specs:
                if spec.scope == "project":
                    self.inventory.fail(
                        ScopeFailure(
                            spec.type,
                            project_id,
                            str(exc),
                            exc.provider_code or "",
                            exc.permission or "",
                        )
                    )
            self.inventory.regions.append(project_id)
            return None
        if not isinstance(found, dict) or found.get("state", "ACTIVE") != "ACTIVE":
            state = found.get("state") if isinstance(found, dict) else None
            why = (
                f"connection '{self.target.connection}': project {project_id} is "
                f"{state or 'not readable'}, not ACTIVE"
            )
            self.unreadable[project_id] = why
            for spec in self.specs:
                if spec.scope == "project":
                    self.inventory.fail(
                        ScopeFailure(spec.type, project_id, why, "ProjectNotActive")
                    )
            self.inventory.regions.append(project_id)
            return None
        return found

    # -- collection ---------------------------------------------------------------------
    def collect(self) -> Inventory:
        projects = self.discover()
        org = self.settings.organization_id
        organization = Scope(f"organizations/{org}", {"organization_id": org}) if org else None
        listed = [s for s in self.specs if not s.aggregate]
        for spec in listed:
            if spec.scope != "organization":
                continue
            if organization is None:
                self.inventory.mark_not_applicable(
                    spec.type,
                    ORGANIZATION_ONLY,
                    "the connection lists projects, not an organisation: organisation "
                    "settings are not read",
                )
            else:
                self._collect_scope(spec, organization)
        project_specs = [s for s in listed if s.scope == "project"]

        def one_project(scope: Scope) -> None:
            for spec in project_specs:
                self._collect_scope(spec, scope)

        if projects and project_specs:
            workers = min(self.settings.concurrency, len(projects))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gcp") as pool:
                list(pool.map(one_project, projects))
        scopes = ([organization] if organization else []) + projects
        self.inventory.regions[:0] = [s.key for s in scopes]
        for spec in self.specs:
            if spec.aggregate and spec.scope == "organization" and organization is None:
                self.inventory.mark_not_applicable(
                    spec.type,
                    ORGANIZATION_ONLY,
                    "the connection lists projects, not an organisation: organisation "
                    "settings are not read",
                )
            elif spec.aggregate:
                for scope in scopes:
                    if (spec.scope == "organization") == scope.key.startswith("organizations/"):
                        self._collect_aggregate(spec, scope)
        self.inventory.resources.sort(key=lambda r: (r.type, r.uid))
        self.inventory.failures.sort(key=lambda f: (f.resource_type, f.region))
        return self.inventory

    def _collect_scope(self, spec: ResourceSpec, scope: Scope) -> None:
        self.inventory.collect_scope(
            spec.type,
            scope.key,
            lambda: self._resources(spec, scope),
            spec_errors=(SpecError,),
            progress=self.progress,
        )

    def _collect_aggregate(self, spec: ResourceSpec, scope: Scope) -> None:
        assert spec.aggregate is not None
        source = spec.aggregate.of

        def fetch() -> list[Resource]:
            assert spec.aggregate is not None
            failed = [
                f
                for f in self.inventory.failures
                if f.resource_type == source and f.region == scope.key
            ]
            if failed:
                raise CollectionError(
                    f"{spec.type} depends on {source}, whose collection failed: {failed[0].message}",
                    code=failed[0].code or "DependencyFailed",
                    permission=failed[0].permission or None,
                )
            docs = [
                r.data
                for r in self.inventory.resources
                if r.type == source and r.account == scope.key
            ]
            return self._documents(spec, scope, [{spec.aggregate.key: docs}])

        self.inventory.collect_scope(
            spec.type, scope.key, fetch, spec_errors=(SpecError,), progress=self.progress
        )

    def _resources(self, spec: ResourceSpec, scope: Scope) -> list[Resource]:
        docs = [self._build(spec, scope, item) for item in self._list(spec, scope)]
        return self._documents(spec, scope, docs)

    def _documents(
        self, spec: ResourceSpec, scope: Scope, docs: list[dict[str, Any]]
    ) -> list[Resource]:
        for name in spec.enrich:
            if name not in ENRICHERS:
                raise SpecError(f"unknown enricher '{name}'; known: {', '.join(sorted(ENRICHERS))}")
            docs = [ENRICHERS[name](doc) for doc in docs]
        ctx = scope.variables
        out = []
        for doc in docs:
            uid = str(render(spec.uid, doc, ctx))
            region = scope.key
            if spec.region:
                region += "/" + str(render(spec.region, doc, ctx))
            tags = jmespath.search(spec.tags, doc) if spec.tags else None
            out.append(
                Resource(
                    type=spec.type,
                    uid=uid,
                    region=region,
                    name=_name(spec, doc, {**ctx, "uid": uid}),
                    data=doc,
                    tags={str(k): str(v) for k, v in tags.items()}
                    if isinstance(tags, dict)
                    else {},
                    account=scope.key,
                )
            )
        return out

    def _call(
        self,
        spec: ResourceSpec,
        scope: Scope,
        api: str,
        call: str,
        args: dict[str, Any],
        items: str | None,
        absent_on: list[str],
        default: Any = None,
    ) -> Any:
        context = _Call(scope.key, tuple(spec.permissions))
        try:
            return self.calls.items(spec.type, api, call, args, items, context)
        except CollectionError as exc:
            cause = exc.__cause__
            if isinstance(cause, HttpError) and absent(cause, absent_on):
                return default
            raise

    def _list(self, spec: ResourceSpec, scope: Scope) -> list[dict[str, Any]]:
        listing = spec.listing
        if listing is None:
            raise SpecError("a Google Cloud type needs a 'list' or an 'aggregate'")
        ctx = scope.variables
        parents: list[Any] = [None]
        for level in listing.parents:
            below: list[Any] = []
            for parent in parents:
                here = ctx if parent is None else {**ctx, "parent": parent}
                found = self._call(
                    spec,
                    scope,
                    level.service or spec.service,
                    level.call,
                    render(level.args, {}, here),
                    level.items,
                    level.absent_on,
                    [],
                )
                below += [f for f in found or [] if isinstance(f, dict)]
            parents = below
        out: list[dict[str, Any]] = []
        api = listing.service or spec.service
        for parent in parents:
            here = ctx if parent is None else {**ctx, "parent": parent}
            args = render(listing.args, {}, here)
            if listing.single:
                answer = self._call(spec, scope, api, listing.call, args, None, listing.absent_on)
                if answer is None:  # absent: "not configured", the listing's default
                    answer = listing.default if isinstance(listing.default, dict) else {}
                value = jmespath.search(listing.pick, answer) if listing.pick else answer
                out.append(value if isinstance(value, dict) else {"value": value})
                continue
            found = self._call(
                spec,
                scope,
                api,
                listing.call,
                args,
                listing.items or "items",
                listing.absent_on,
                [],
            )
            out += [f for f in found or [] if isinstance(f, dict)]
        return out

    def _build(self, spec: ResourceSpec, scope: Scope, item: dict[str, Any]) -> dict[str, Any]:
        doc = dict(item)
        for name, detail in spec.detail.items():
            if detail.only_if and jmespath.search(detail.only_if, doc) in (None, "", [], {}):
                doc[name] = detail.default
                continue
            doc[name] = self._detail(spec, scope, detail, doc)
        return doc

    def _detail(
        self, spec: ResourceSpec, scope: Scope, detail: DetailSpec, doc: dict[str, Any]
    ) -> Any:
        ctx = scope.variables
        if detail.join:
            join = detail.join
            items = self._call(
                spec,
                scope,
                join.service or spec.service,
                join.call,
                render(join.args, {}, ctx),
                join.items,
                join.absent_on,
                [],
            )
            key = jmespath.compile(join.key)
            wanted = render(join.match, doc, ctx)
            matches = [i for i in items or [] if isinstance(i, dict) and key.search(i) == wanted]
            return matches if join.many else (matches[0] if matches else None)
        value = self._call(
            spec,
            scope,
            detail.service or spec.service,
            detail.call,
            render(detail.args, doc, ctx),
            detail.items,
            detail.absent_on,
            detail.default,
        )
        if detail.pick and isinstance(value, dict):
            return jmespath.search(detail.pick, value)
        return value
