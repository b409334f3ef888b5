"""Alert policies are attached to the log-based metrics their conditions watch."""

from __future__ import annotations

from typing import Any

from posture.connectors.gcp.log_alerts import condition_watches, log_metric_alerts


def _threshold(text: str) -> dict[str, Any]:
    return {
        "displayName": "c",
        "conditionThreshold": {"filter": text, "comparison": "COMPARISON_GT"},
    }


def test_threshold_filter_names_exactly_one_metric() -> None:
    doc = {
        "metrics": [{"name": "owner-changes"}, {"name": "owner"}],
        "alert_policies": [
            {
                "name": "projects/p/alertPolicies/1",
                "displayName": "owners",
                "enabled": True,
                "notificationChannels": ["projects/p/notificationChannels/9"],
                "conditions": [
                    _threshold(
                        'metric.type = "logging.googleapis.com/user/owner-changes" '
                        'AND resource.type="global"'
                    )
                ],
            }
        ],
    }
    out = log_metric_alerts(doc)
    assert "alert_policies" not in out
    by_name = {m["name"]: m["alert_policies"] for m in out["metrics"]}
    assert by_name["owner"] == []
    assert by_name["owner-changes"] == [
        {
            "name": "projects/p/alertPolicies/1",
            "displayName": "owners",
            "enabled": True,
            "notificationChannels": ["projects/p/notificationChannels/9"],
        }
    ]


def test_disabled_policy_is_kept_with_its_state_and_omitted_enabled_is_unknown() -> None:
    doc = {
        "metrics": [{"name": "routes"}],
        "alert_policies": [
            {
                "name": "a",
                "enabled": False,
                "conditions": [_threshold('metric.type="logging.googleapis.com/user/routes"')],
            },
            {
                "name": "b",
                "conditions": [
                    {
                        "conditionAbsent": {
                            "filter": 'metric.type="logging.googleapis.com/user/routes"'
                        }
                    }
                ],
            },
        ],
    }
    states = [
        (p["name"], p["enabled"]) for p in log_metric_alerts(doc)["metrics"][0]["alert_policies"]
    ]
    assert states == [("a", False), ("b", None)]


def test_mql_and_promql_conditions() -> None:
    mql = {
        "conditionMonitoringQueryLanguage": {
            "query": "fetch global | metric 'logging.googleapis.com/user/fw' | every 1m"
        }
    }
    promql = {
        "conditionPrometheusQueryLanguage": {
            "query": "sum(rate(logging_googleapis_com:user_sql_changes[5m])) > 0"
        }
    }
    assert condition_watches(mql, "fw")
    assert not condition_watches(mql, "f")
    assert condition_watches(promql, "sql/changes")
    assert condition_watches(promql, "sql_changes")
    assert not condition_watches(promql, "sql")


def test_prefix_match_and_other_metrics_do_not_count() -> None:
    prefix = _threshold('metric.type = starts_with("logging.googleapis.com/user/fw")')
    has = _threshold('metric.type:"logging.googleapis.com/user/fw"')
    assert not condition_watches(prefix, "fw")
    assert not condition_watches(has, "fw")
    assert not condition_watches({"conditionMatchedLog": {"filter": 'logName:"x"'}}, "fw")


def test_no_policies_and_no_metrics() -> None:
    listed = log_metric_alerts({"metrics": [{"name": "m"}], "alert_policies": []})
    assert listed == {
        "metrics": [{"name": "m", "alert_policies": []}],
        "monitoring_disabled": False,
    }
    # an absent listing (Cloud Monitoring API not enabled) is told apart from an empty one
    absent = log_metric_alerts({"metrics": None, "alert_policies": None})
    assert absent == {"metrics": None, "monitoring_disabled": True}
