"""Transforms of Graph listings and enrichers that add other types' data to documents.

A *transform* (``list.transform``) reshapes the items of one listing, before details, into
the items the type's documents are made from. An *enricher* (``enrich:``) runs after every
type of the scan is collected and may read the documents of other types; when such a
source failed or is not applicable, the enriched type fails (or is not applicable with the
source's licence reason), so that no policy judges it on missing data.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from posture.errors import CollectionError

GROUP_UNIFIED_TEMPLATE = "62375ab9-6b52-47ed-826b-58e47e0e304b"  # "Group.Unified"
PASSWORD_RULES_TEMPLATE = "5cf42378-d67d-4f36-ba46-e8b86229381d"  # "Password Rule Settings"
PLATFORM_RESTRICTIONS = (
    "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
    "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
)
ROLE_DEFINITIONS_PATH = "/roleManagement/directory/roleDefinitions"
ROLE_DEFINITIONS_PERMISSION = "RoleManagement.Read.Directory"


# --- transforms: items of one listing -> items of the type ---------------------------------


def _settings_map(setting: dict[str, Any]) -> dict[str, Any]:
    return {
        str(v.get("name")): v.get("value")
        for v in setting.get("values") or []
        if isinstance(v, dict) and v.get("name")
    }


def _directory_settings(items: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """groupSettings -> one item: Group.Unified and Password Rule Settings as maps (or null)."""
    settings = [s for s in items if isinstance(s, dict)]
    by_template = {str(s.get("templateId", "")).lower(): s for s in settings}
    unified = by_template.get(GROUP_UNIFIED_TEMPLATE)
    rules = by_template.get(PASSWORD_RULES_TEMPLATE)
    return [
        {
            "group_unified": _settings_map(unified) if unified else None,
            "password_rules": _settings_map(rules) if rules else None,
            "settings": settings,
        }
    ]


def _parse_definition(policy: dict[str, Any], where: str) -> list[Any]:
    """A policy's ``definition``: Graph's list of JSON strings, each parsed."""
    out: list[Any] = []
    for text in policy.get("definition") or []:
        if not isinstance(text, str):
            out.append(text)
            continue
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError as exc:
            name = policy.get("displayName") or policy.get("id") or "?"
            raise CollectionError(
                f"{where}: the definition of policy '{name}' ({policy.get('id', '')}) is not "
                f"valid JSON: {exc.msg} at position {exc.pos}",
                code="MalformedDefinition",
            ) from exc
    return out


def _policy_definitions(items: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Policies with JSON-string definitions -> one item ``{policies: [...parsed...]}``."""
    policies = [
        {**p, "definition": _parse_definition(p, where)} for p in items if isinstance(p, dict)
    ]
    return [{"policies": policies}]


def _b2b_management_policy(items: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """beta /legacy/policies -> the B2BManagementPolicy, definition parsed, or no definition."""
    for policy in items:
        if isinstance(policy, dict) and str(policy.get("type", "")) == "B2BManagementPolicy":
            return [{**policy, "definition": _parse_definition(policy, where)}]
    return [{"definition": []}]


def _enrollment_restrictions(items: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Enrollment configurations -> only the platform restriction ones."""
    return [
        c for c in items if isinstance(c, dict) and c.get("@odata.type") in PLATFORM_RESTRICTIONS
    ]


TRANSFORMS: dict[str, Callable[[list[dict[str, Any]], str], list[dict[str, Any]]]] = {
    "directory_settings": _directory_settings,
    "policy_definitions": _policy_definitions,
    "b2b_management_policy": _b2b_management_policy,
    "enrollment_restrictions": _enrollment_restrictions,
}


# --- enrichers: documents of one type + other types' documents -> documents ----------------


class SourceUnavailable(Exception):
    """A type an enricher reads failed or is not applicable; the enriched type follows it."""

    def __init__(self, source: str, message: str, *, reason: str = "", code: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.reason = reason  # the licence reason when the source is not applicable
        self.code = code


@dataclass
class EnrichContext:
    """What an enricher may read: the scan's documents per type and one Graph GET."""

    account: str
    sources: Callable[[str], list[dict[str, Any]]]  # raises SourceUnavailable
    get_all: Callable[[str], Awaitable[list[dict[str, Any]]]]  # every item of a v1.0 path
    cache: dict[str, Any] = field(default_factory=dict)


Enricher = Callable[[list[dict[str, Any]], EnrichContext], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class EnricherSpec:
    run: Enricher
    sources: tuple[str, ...] = ()  # resource types it reads
    permissions: tuple[str, ...] = ()  # Graph application permissions of its own calls


async def _directory_roles(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``roles``: the directory roles each user holds actively, from the roles' members."""
    held: dict[str, list[dict[str, Any]]] = {}
    for role in ctx.sources("m365.entra.directory_role"):
        entry = {
            "roleTemplateId": role.get("roleTemplateId"),
            "displayName": role.get("displayName"),
        }
        for member in role.get("members") or []:
            if isinstance(member, dict) and member.get("id"):
                held.setdefault(str(member["id"]), []).append(entry)
    return [{**d, "roles": list(held.get(str(d.get("id")), []))} for d in docs]


async def _licence_names(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``licenses``: the skuPartNumber of each of the user's assignedLicenses."""
    names = {
        str(s.get("skuId")): str(s.get("skuPartNumber"))
        for s in ctx.sources("m365.entra.subscribed_sku")
        if s.get("skuId") and s.get("skuPartNumber")
    }
    out = []
    for doc in docs:
        skus = [a.get("skuId") for a in doc.get("assignedLicenses") or [] if isinstance(a, dict)]
        out.append({**doc, "licenses": [names.get(str(s), str(s)) for s in skus if s]})
    return out


async def _role_definitions(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``role: {displayName, templateId}`` of each roleDefinitionId (id or template id)."""
    if "role_definitions" not in ctx.cache:
        ctx.cache["role_definitions"] = await ctx.get_all(ROLE_DEFINITIONS_PATH)
    by_id: dict[str, dict[str, Any]] = {}
    for definition in ctx.cache["role_definitions"]:
        role = {
            "displayName": definition.get("displayName"),
            "templateId": definition.get("templateId") or definition.get("id"),
        }
        for key in (definition.get("id"), definition.get("templateId")):
            if key:
                by_id[str(key)] = role
    out = []
    for doc in docs:
        rid = str(doc.get("roleDefinitionId", ""))
        out.append({**doc, "role": by_id.get(rid, {"displayName": None, "templateId": rid})})
    return out


async def _pim_eligible(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    eligible = ctx.sources("m365.entra.role_eligibility")
    return [{**d, "eligible": eligible} for d in docs]


async def _named_locations(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``named_locations``: every named location, so "is any location trusted" can be asked."""
    locations = ctx.sources("m365.entra.named_location")
    return [{**d, "named_locations": locations} for d in docs]


async def _app_role_values(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``appRoleValue`` of each app role assignment, from the resource's ``appRoles``."""
    values: dict[tuple[str, str], Any] = {}
    for sp in docs:
        for role in sp.get("appRoles") or []:
            if isinstance(role, dict) and role.get("id"):
                values[(str(sp.get("id")), str(role["id"]))] = role.get("value")
    out = []
    for sp in docs:
        doc = {k: v for k, v in sp.items() if k != "appRoles"}
        assignments = []
        for a in sp.get("app_role_assignments") or []:
            key = (str(a.get("resourceId")), str(a.get("appRoleId")))
            assignments.append({**a, "appRoleValue": values.get(key)})
        if "app_role_assignments" in sp:
            doc["app_role_assignments"] = assignments
        out.append(doc)
    return out


async def _tenant_id(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    return [{**d, "tenant_id": ctx.account} for d in docs]


async def _tenant_domains(docs: list[dict[str, Any]], ctx: EnrichContext) -> list[dict[str, Any]]:
    """``tenant_domains``: the verified domain names of the organisation."""
    domains: list[str] = []
    for org in ctx.sources("m365.entra.organization"):
        for domain in org.get("verifiedDomains") or []:
            name = domain.get("name") if isinstance(domain, dict) else None
            if name and name not in domains:
                domains.append(str(name))
    return [{**d, "tenant_domains": list(domains)} for d in docs]


ENRICHERS: dict[str, EnricherSpec] = {
    "directory_roles": EnricherSpec(_directory_roles, ("m365.entra.directory_role",)),
    "licence_names": EnricherSpec(_licence_names, ("m365.entra.subscribed_sku",)),
    "role_definitions": EnricherSpec(_role_definitions, (), (ROLE_DEFINITIONS_PERMISSION,)),
    "pim_eligible": EnricherSpec(_pim_eligible, ("m365.entra.role_eligibility",)),
    "named_locations": EnricherSpec(_named_locations, ("m365.entra.named_location",)),
    "app_role_values": EnricherSpec(_app_role_values),
    "tenant_id": EnricherSpec(_tenant_id),
    "tenant_domains": EnricherSpec(_tenant_domains, ("m365.entra.organization",)),
}


def enrich_sources(names: list[str]) -> set[str]:
    """The resource types the named enrichers read (a scan must collect them too)."""
    return {s for n in names if n in ENRICHERS for s in ENRICHERS[n].sources}
