"""Type-level enrichers of Google Workspace documents: joins a condition cannot express.

Each sees every document of its type at once and returns the documents to keep:

* ``security_events``: a user's Reports API activities (login warnings, out-of-domain mail
  forwarding) flattened into the names, times and addresses a statement can print;
* ``policy_rules``: the customer's rule settings (``settings/rule.system_defined_alerts``,
  ``settings/rule.dlp``: many policies of one setting type, one per rule) as one document;
* ``group_settings``: Policy API settings applied to a group (``policyQuery.group``), per group;
* ``admin_domains``: whether a role assignment's user has an address in one of the
  customer's domains (or their aliases);
* ``usage_counts``: a user's usage report figures (e-mails sent) as numbers;
* ``setting_changes``: the latest Admin console change of each setting per org unit or group,
  from the admin audit log, for settings the Policy API does not return.
"""

from __future__ import annotations

from typing import Any

SETTING_PREFIX = "settings/"


def _parameters(event: dict[str, Any]) -> dict[str, Any]:
    """An activity event's ``parameters`` as a map (value, intValue, boolValue or multiValue)."""
    out: dict[str, Any] = {}
    for param in event.get("parameters") or []:
        if not isinstance(param, dict) or "name" not in param:
            continue
        for field in ("value", "intValue", "boolValue", "multiValue", "multiIntValue"):
            if field in param:
                out[str(param["name"])] = param[field]
                break
    return out


def _events(activities: Any) -> list[dict[str, Any]]:
    """One entry per event of the activities: name, time, IP address and parameters."""
    out: list[dict[str, Any]] = []
    for activity in activities or []:
        if not isinstance(activity, dict):
            continue
        when = str((activity.get("id") or {}).get("time") or "")
        for event in activity.get("events") or []:
            if isinstance(event, dict):
                entry = {"name": event.get("name"), "time": when, "parameters": _parameters(event)}
                if activity.get("ipAddress"):
                    entry["ipAddress"] = activity["ipAddress"]
                out.append(entry)
    return sorted(out, key=lambda e: e["time"], reverse=True)


def security_events(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Users with ``warning_events`` (login account warnings, newest first) and
    ``forwarding_destinations`` (addresses outside the domain mail was set to forward to)."""
    out = []
    for doc in docs:
        warnings = _events(doc.get("login_warnings"))
        forwarding = _events(doc.get("forwarding_out_of_domain"))
        destinations = sorted(
            {
                str(e["parameters"]["email_forwarding_destination_address"])
                for e in forwarding
                if e["parameters"].get("email_forwarding_destination_address")
            }
        )
        out.append(
            {
                **doc,
                "warning_events": warnings,
                "warning_event_names": sorted({str(e["name"]) for e in warnings}),
                "last_warning_time": warnings[0]["time"] if warnings else None,
                "forwarding_events": forwarding,
                "forwarding_destinations": destinations,
            }
        )
    return out


def _scope(policy: dict[str, Any]) -> dict[str, Any]:
    query = policy.get("policyQuery") or {}
    return {k: query[k] for k in ("orgUnit", "group") if query.get(k)}


def policy_rules(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """One document per customer: ``alerts`` (system-defined alert rules) and ``dlp`` (data
    protection rules), each the setting's value with the policy's name and scope."""
    alerts: list[dict[str, Any]] = []
    dlp: list[dict[str, Any]] = []
    for policy in docs:
        setting = policy.get("setting") or {}
        kind = str(setting.get("type") or "").removeprefix(SETTING_PREFIX)
        target = {"rule.system_defined_alerts": alerts, "rule.dlp": dlp}.get(kind)
        if target is None:
            continue
        value = setting.get("value") or {}
        target.append({**value, "policy": policy.get("name"), **_scope(policy)})
    for rules in (alerts, dlp):
        rules.sort(key=lambda r: str(r.get("displayName") or ""))
    return [{"customerId": customer_id, "alerts": alerts, "dlp": dlp}]


def _group_key(value: str) -> str:
    return value.removeprefix("groups/")


def group_settings(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Each group with ``settings``: the Policy API settings applied to the group itself
    (``settings/gmail.auto_forwarding`` -> ``settings.gmail.auto_forwarding``), the highest
    ``sortOrder`` winning where several apply; ``policies`` is consumed."""
    policies: list[dict[str, Any]] = []
    for doc in docs:
        policies = doc.get("policies") or policies  # the same customer-wide listing
    chosen: dict[str, dict[tuple[str, str], tuple[float, Any]]] = {}
    for policy in policies:
        query = policy.get("policyQuery") or {}
        setting = policy.get("setting") or {}
        kind = str(setting.get("type") or "").removeprefix(SETTING_PREFIX)
        if not query.get("group") or not kind or kind.startswith("rule."):
            continue
        service, _, name = kind.partition(".")
        key = (service, name) if name else ("other", service)
        order = float(query.get("sortOrder") or 0)
        slot = chosen.setdefault(_group_key(str(query["group"])), {})
        if key not in slot or order >= slot[key][0]:
            slot[key] = (order, setting.get("value") or {})
    out = []
    for doc in docs:
        settings: dict[str, dict[str, Any]] = {}
        for (service, name), (_, value) in sorted(chosen.get(str(doc.get("id")), {}).items()):
            settings.setdefault(service, {})[name] = value
        out.append({**{k: v for k, v in doc.items() if k != "policies"}, "settings": settings})
    return out


def admin_domains(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Role assignments with ``assignee_domain`` (the domain of the assigned user's address)
    and ``assignee_in_customer_domains`` (true, false, or null when no user is assigned);
    ``domains`` is consumed."""
    out = []
    for doc in docs:
        names: set[str] = set()
        for domain in doc.get("domains") or []:
            if isinstance(domain, dict):
                names.add(str(domain.get("domainName") or "").lower())
                for alias in domain.get("domainAliases") or []:
                    names.add(str((alias or {}).get("domainAliasName") or "").lower())
        names.discard("")
        email = str((doc.get("assignee") or {}).get("primaryEmail") or "")
        domain = email.rpartition("@")[2].lower() if "@" in email else None
        rest = {k: v for k, v in doc.items() if k != "domains"}
        out.append(
            {
                **rest,
                "customer_domains": sorted(names),
                "assignee_domain": domain,
                "assignee_in_customer_domains": (domain in names) if domain else None,
            }
        )
    return out


def setting_changes(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """One document per customer: ``changes``, the latest Admin console setting change
    (admin audit ``CHANGE_``, ``CREATE_`` or ``DELETE_APPLICATION_SETTING``) of each setting per
    org unit or group, newest first. A deletion has ``new_value`` null: the org unit or group
    inherits again."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for activity in docs:
        when = str((activity.get("id") or {}).get("time") or "")
        actor = (activity.get("actor") or {}).get("email")
        for event in activity.get("events") or []:
            if not isinstance(event, dict):
                continue
            params = _parameters(event)
            setting = str(params.get("SETTING_NAME") or "")
            if not setting:
                continue
            org_unit = params.get("ORG_UNIT_NAME")
            group = params.get("GROUP_EMAIL")
            key = (setting, str(org_unit or ""), str(group or ""))
            deleted = event.get("name") == "DELETE_APPLICATION_SETTING"
            change = {
                "setting": setting,
                "application": params.get("APPLICATION_NAME"),
                "org_unit": org_unit,
                "group": group,
                "target": group or org_unit,
                "event": event.get("name"),
                "new_value": None if deleted else params.get("NEW_VALUE"),
                "old_value": params.get("OLD_VALUE"),
                "time": when,
                "actor": actor,
            }
            if key not in latest or when >= str(latest[key]["time"]):
                latest[key] = change
    changes = sorted(latest.values(), key=lambda c: str(c["time"]), reverse=True)
    return [{"customerId": customer_id, "changes": changes}]


def usage_counts(docs: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    """Users with ``usage_date`` and ``emails_sent`` from their usage report (``usage``): the
    figure is 0 when the report omits it, and both are null when Google had no report for
    the user on that day (data not yet available, or the account did not exist)."""
    out = []
    for doc in docs:
        report = doc.get("usage")
        if not isinstance(report, dict):
            out.append({**doc, "usage_date": None, "emails_sent": None})
            continue
        sent = 0
        for param in report.get("parameters") or []:
            if isinstance(param, dict) and param.get("name") == "gmail:num_emails_sent":
                try:
                    sent = int(param.get("intValue") or 0)
                except (TypeError, ValueError):
                    sent = 0
        out.append({**doc, "usage_date": report.get("date"), "emails_sent": sent})
    return out
