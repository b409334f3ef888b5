"""Cloud Identity policies -> the effective settings of every org unit.

The Policy API returns only policies where a value was set explicitly. An org unit without
its own policy for a setting inherits its parent's; the root org unit's value is the
customer's default. Group-scoped policies are not part of an org unit's settings, nor are
rules (``settings/rule.*``: many policies of one type, one per rule; see ``enrich.policy_rules``).
"""

from __future__ import annotations

from typing import Any

SETTING_PREFIX = "settings/"


def _ou_key(value: str) -> str:
    """Directory says ``id:03ph8a2z``, the Policy API ``orgUnits/03ph8a2z``: compare the id."""
    return value.removeprefix("orgUnits/").removeprefix("id:")


def _nested(setting_type: str) -> tuple[str, str]:
    """``settings/security.less_secure_apps`` -> ("security", "less_secure_apps")."""
    name = setting_type.removeprefix(SETTING_PREFIX)
    service, _, rest = name.partition(".")
    return (service, rest) if rest else ("other", service)


def own_settings(policies: list[dict[str, Any]]) -> dict[str, dict[tuple[str, str], Any]]:
    """Org unit id -> {(service, setting): value} set directly on it (highest sortOrder wins)."""
    chosen: dict[str, dict[tuple[str, str], tuple[float, Any]]] = {}
    for policy in policies:
        query = policy.get("policyQuery") or {}
        if query.get("group") or not query.get("orgUnit"):
            continue
        setting = policy.get("setting") or {}
        if not setting.get("type") or str(setting["type"]).startswith(SETTING_PREFIX + "rule."):
            continue
        key = _nested(str(setting["type"]))
        order = float(query.get("sortOrder") or 0)
        slot = chosen.setdefault(_ou_key(str(query["orgUnit"])), {})
        if key not in slot or order >= slot[key][0]:
            slot[key] = (order, setting.get("value") or {})
    return {ou: {k: v for k, (_, v) in values.items()} for ou, values in chosen.items()}


def resolve(org_units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each org unit document with ``settings`` (effective) and ``inherited_from`` (the path
    of the org unit each inherited setting comes from); ``policies`` is consumed."""
    policies: list[dict[str, Any]] = []
    for unit in org_units:
        policies = unit.get("policies") or policies  # the same customer-wide listing
    own = own_settings(policies)
    by_path = {str(u.get("orgUnitPath") or ""): u for u in org_units}
    effective: dict[str, dict[tuple[str, str], tuple[Any, str]]] = {}

    def settings_of(path: str) -> dict[tuple[str, str], tuple[Any, str]]:
        if path in effective:
            return effective[path]
        unit = by_path.get(path)
        parent = str(unit.get("parentOrgUnitPath") or "") if unit else ""
        if path == "/" or not unit:
            inherited: dict[tuple[str, str], tuple[Any, str]] = {}
        else:
            inherited = dict(settings_of(parent or "/"))
        unit_id = _ou_key(str(unit.get("orgUnitId") or "")) if unit else ""
        for key, value in own.get(unit_id, {}).items():
            inherited[key] = (value, path)
        effective[path] = inherited
        return inherited

    out = []
    for unit in org_units:
        path = str(unit.get("orgUnitPath") or "")
        doc = {k: v for k, v in unit.items() if k != "policies"}
        settings: dict[str, dict[str, Any]] = {}
        sources: dict[str, dict[str, str]] = {}
        for (service, name), (value, source) in sorted(settings_of(path).items()):
            settings.setdefault(service, {})[name] = value
            if source != path:
                sources.setdefault(service, {})[name] = source
        doc["settings"] = settings
        doc["inherited_from"] = sources
        out.append(doc)
    return out


def with_root(org_units: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Add the root org unit when the listing did not return it, so its defaults resolve."""
    if any(u.get("orgUnitPath") == "/" for u in org_units):
        return org_units
    parents = {
        str(u.get("parentOrgUnitId")) for u in org_units if u.get("parentOrgUnitPath") == "/"
    }
    root_id = next(iter(parents), f"id:root-{customer_id}")
    root = {
        "orgUnitId": root_id,
        "orgUnitPath": "/",
        "name": "/",
        "kind": "admin#directory#orgUnit",
    }
    policies = next((u.get("policies") for u in org_units if u.get("policies")), None)
    if policies is not None:
        root["policies"] = policies
    return [root, *org_units]
