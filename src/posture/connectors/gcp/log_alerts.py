"""Which alert policies watch which log-based metric (CIS Google Cloud section 2).

Cloud Monitoring links an alert policy to a log-based metric only through the text of its
conditions (``metric.type="logging.googleapis.com/user/NAME"`` in a filter, the metric type in
an MQL query, ``logging_googleapis_com:user_NAME`` in PromQL), which a policy condition
cannot join; this attaches the watching policies to each metric.
"""

from __future__ import annotations

import re
from typing import Any

_METRIC_TYPE = "logging.googleapis.com/user/"


def _filter_names(text: str, name: str) -> bool:
    """A monitoring filter restricting ``metric.type`` to the metric (``=`` only; ``:`` is a
    prefix match that could name another metric, ``starts_with`` likewise)."""
    pattern = r'metric\.type\s*=\s*"' + re.escape(_METRIC_TYPE + name) + '"'
    return re.search(pattern, text) is not None


def _mql_names(text: str, name: str) -> bool:
    # the name ends where a character that cannot continue it (a closing quote) follows
    pattern = re.escape(_METRIC_TYPE + name) + r"(?![A-Za-z0-9_\-.,+!*()%/])"
    return re.search(pattern, text) is not None


def _promql_names(text: str, name: str) -> bool:
    """PromQL spells the type ``logging_googleapis_com:user_NAME``, every character of the
    name outside ``[A-Za-z0-9_]`` replaced by ``_``."""
    flat = "logging_googleapis_com:user_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    return re.search(re.escape(flat) + r"(?![A-Za-z0-9_:])", text) is not None


def condition_watches(condition: dict[str, Any], name: str) -> bool:
    for kind in ("conditionThreshold", "conditionAbsent"):
        text = (condition.get(kind) or {}).get("filter")
        if isinstance(text, str) and _filter_names(text, name):
            return True
    mql = (condition.get("conditionMonitoringQueryLanguage") or {}).get("query")
    if isinstance(mql, str) and _mql_names(mql, name):
        return True
    promql = (condition.get("conditionPrometheusQueryLanguage") or {}).get("query")
    return isinstance(promql, str) and _promql_names(promql, name)


def log_metric_alerts(doc: dict[str, Any]) -> dict[str, Any]:
    """Give each metric of ``doc["metrics"]`` the ``alert_policies`` watching it (name,
    displayName, enabled, notificationChannels) and drop the raw policy list;
    ``monitoring_disabled`` tells that no list could be read because the API is off.

    ``enabled`` is the API's value, null when omitted: Google fills it in on every list and
    asks clients to assume nothing when it is missing, so only ``true`` counts as enabled.
    """
    listed = doc.pop("alert_policies", None)
    # null: the listing was absent (the Cloud Monitoring API is not enabled in the project)
    doc["monitoring_disabled"] = listed is None
    policies = listed or []
    for metric in doc.get("metrics") or []:
        name = str(metric.get("name") or "")
        metric["alert_policies"] = [
            {
                "name": p.get("name"),
                "displayName": p.get("displayName"),
                "enabled": p.get("enabled"),
                "notificationChannels": p.get("notificationChannels") or [],
            }
            for p in policies
            if name and any(condition_watches(c, name) for c in p.get("conditions") or [])
        ]
    return doc
