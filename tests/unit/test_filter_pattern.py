"""CloudWatch Logs filter patterns: the parser, evaluation, and the CIS activities.

The equivalence tests are property-style: many random rewritings of a CIS pattern (terms
shuffled, values quoted or not, spacing and redundant parentheses varied) must all be
judged as the original, and dropping any one required term must always be noticed.
"""

from __future__ import annotations

import random

import pytest

from posture.connectors.aws.filter_pattern import PatternError, matches, parse
from posture.connectors.aws.monitoring import ACTIVITIES, monitored_activities
from posture.connectors.aws.transforms import alarms_on_metric_filters

SEEDS = range(40)

#: activity -> (required eventSource or None, event names) for the event-list CIS patterns
EVENT_LISTS: dict[str, tuple[str | None, list[str]]] = {
    name: (
        activity.must_match[0]["eventSource"],
        [event["eventName"] for event in activity.must_match],
    )
    for name, activity in ACTIVITIES.items()
    if name
    not in (
        "unauthorized_api_calls",
        "console_signin_without_mfa",
        "root_account_usage",
        "console_auth_failures",
    )
}


def _value(rng: random.Random, text: str) -> str:
    quoted = rng.random() < 0.5 or " " in text
    return f'"{text}"' if quoted else text


def _term(rng: random.Random, field: str, op: str, text: str) -> str:
    space = rng.choice(["", " ", "  "])
    term = f"$.{field}{space}{op}{space}{_value(rng, text)}"
    return f"({term})" if rng.random() < 0.6 else term


def _join(rng: random.Random, terms: list[str], op: str) -> str:
    space = rng.choice(["", " ", "\n  "])
    return f"{space}{op}{space}".join(terms)


def _event_list_pattern(rng: random.Random, source: str | None, names: list[str]) -> str:
    alternatives = [_term(rng, "eventName", "=", n) for n in rng.sample(names, len(names))]
    body = _join(rng, alternatives, "||")
    if source and rng.random() < 0.5:
        body = f"{_term(rng, 'eventSource', '=', source)} && ({body})"
    return "{" + rng.choice(["", " "]) + body + rng.choice(["", " "]) + "}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activity", sorted(EVENT_LISTS))
def test_rewritten_cis_patterns_are_equivalent(activity: str, seed: int) -> None:
    rng = random.Random(f"{activity}-{seed}")
    source, names = EVENT_LISTS[activity]
    pattern = _event_list_pattern(rng, source, names)
    assert activity in monitored_activities(pattern)[0], pattern


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activity", sorted(EVENT_LISTS))
def test_a_pattern_missing_any_required_event_fails(activity: str, seed: int) -> None:
    rng = random.Random(f"missing-{activity}-{seed}")
    source, names = EVENT_LISTS[activity]
    dropped = rng.choice(names)
    pattern = _event_list_pattern(rng, source, [n for n in names if n != dropped])
    assert activity not in monitored_activities(pattern)[0], (dropped, pattern)


@pytest.mark.parametrize("seed", SEEDS)
def test_unauthorized_calls_variants(seed: int) -> None:
    rng = random.Random(seed)
    terms = [
        _term(rng, "errorCode", "=", "*UnauthorizedOperation"),
        _term(rng, "errorCode", "=", "AccessDenied*"),
    ]
    rng.shuffle(terms)
    pattern = "{ (" + _join(rng, terms, "||") + ")"
    if rng.random() < 0.5:  # the CIS exclusions are allowed
        pattern += " && " + _term(rng, "sourceIPAddress", "!=", "delivery.logs.amazonaws.com")
        pattern += " && " + _term(rng, "eventName", "!=", "HeadBucket")
    pattern += " }"
    assert monitored_activities(pattern)[0] == ["unauthorized_api_calls"], pattern
    without_wildcard = pattern.replace("AccessDenied*", "AccessDenied")
    assert monitored_activities(without_wildcard)[0] == [], without_wildcard


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }',
            ["root_account_usage"],
        ),
        (
            "{($.eventType!=AwsServiceEvent)&&($.userIdentity.invokedBy not exists)"
            "&&($.userIdentity.type=Root)}",
            ["root_account_usage"],
        ),
        ('{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }', []),
        ('{ $.userIdentity.type != "Root" }', []),
        (
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
            ["console_signin_without_mfa"],
        ),
        ('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "Yes") }', []),
        (
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
            '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
            ["console_signin_without_mfa"],
        ),
        (
            "{ ($.eventName = ConsoleLogin) && ($.errorMessage = Failed authentication) }",
            ["console_auth_failures"],
        ),
        (
            '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed*") }',
            ["console_auth_failures"],
        ),
        ("{ $.eventName = ConsoleLogin }", []),
        ("{ $.eventName = * }", []),
        ('{ $.eventSource = "kms.amazonaws.com" }', []),
    ],
)
def test_condition_activities(pattern: str, expected: list[str]) -> None:
    assert monitored_activities(pattern) == (expected, None)


@pytest.mark.parametrize(
    "pattern",
    [
        "ERROR",
        '"Failed authentication"',
        "[ip, user, ...]",
        "{ }",
        "{ $.a = }",
        "{ ($.a = 1 }",
        "{ $.a = 1 ) }",
        "{ $.a 1 }",
        "{ $.a = 1 &&  }",
        "",
        None,
    ],
)
def test_patterns_that_are_not_json_patterns_are_reported(pattern: str | None) -> None:
    monitors, error = monitored_activities(pattern)
    assert monitors == [] and error
    with pytest.raises(PatternError):
        parse(pattern or "")


EVENT = {
    "eventName": "PutObject",
    "requestParameters": {"bucketName": "data", "size": 2048},
    "resources": [{"ARN": "arn:aws:s3:::data"}],
    "readOnly": False,
    "errorCode": None,
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.requestParameters.size > 1024 }", True),
        ("{ $.requestParameters.size <= 1024 }", False),
        ("{ $.requestParameters.size = 2048 }", True),
        ("{ $.resources[0].ARN = arn:aws:s3:::* }", True),
        ("{ $.resources[1].ARN = * }", False),
        ("{ $.readOnly IS FALSE }", True),
        ("{ $.readOnly IS TRUE }", False),
        ("{ $.errorCode IS NULL }", True),
        ("{ $.errorMessage NOT EXISTS }", True),
        ("{ $.eventName NOT EXISTS }", False),
        ("{ $.errorMessage != x }", False),  # a missing field matches no comparison
        ("{ $.eventName = %Put[A-Z]% }", True),
        ('{ $.eventName = "Put\\"Object" }', False),
        ("{ $.eventName = PutObject || $.eventName = Get* && $.readOnly IS TRUE }", True),
        ("{ ($.eventName = PutObject || $.eventName = Get*) && $.readOnly IS TRUE }", False),
        ("{ $.requestParameters = * }", False),  # an object is not a value
    ],
)
def test_evaluation_follows_the_documented_semantics(pattern: str, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_enricher_judges_patterns_and_counts_confirmed_subscriptions() -> None:
    topic = "arn:aws:sns:us-east-1:111122223333:alerts"
    quiet = "arn:aws:sns:us-east-1:111122223333:nobody"
    doc = {
        "metric_filters": [
            {
                "filterName": "root",
                "filterPattern": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy '
                'NOT EXISTS && $.eventType != "AwsServiceEvent" }',
                "metricTransformations": [{"metricName": "Root", "metricNamespace": "CIS"}],
            },
            {"filterName": "text", "filterPattern": "ERROR", "metricTransformations": []},
        ],
        "alarms": [
            {
                "AlarmName": "root-alarm",
                "MetricName": "Root",
                "Namespace": "CIS",
                "ActionsEnabled": True,
                "AlarmActions": [topic, quiet, "arn:aws:autoscaling:us-east-1:1:scalingPolicy"],
            },
            {"AlarmName": "other", "MetricName": "Other", "Namespace": "CIS"},
        ],
        "subscriptions": [
            {"TopicArn": topic, "SubscriptionArn": f"{topic}:6b0e71bd", "Protocol": "email"},
            {"TopicArn": topic, "SubscriptionArn": "PendingConfirmation", "Protocol": "email"},
            {"TopicArn": quiet, "SubscriptionArn": "PendingConfirmation", "Protocol": "email"},
        ],
    }
    out = alarms_on_metric_filters(doc)
    assert "alarms" not in out and "subscriptions" not in out
    root, text = out["metric_filters"]
    assert root["monitors"] == ["root_account_usage"] and root["pattern_error"] is None
    (alarm,) = root["alarms"]
    assert alarm["confirmed_subscriptions"] == 1
    assert alarm["sns_topics"] == [
        {"TopicArn": topic, "confirmed": 1, "pending": 1},
        {"TopicArn": quiet, "confirmed": 0, "pending": 1},
    ]
    assert text["monitors"] == [] and text["pattern_error"] and text["alarms"] == []


def test_subscriptions_not_collected_count_as_unconfirmed() -> None:
    doc = {
        "metric_filters": [
            {
                "filterPattern": "{ $.eventName = ConsoleLogin }",
                "metricTransformations": [{"metricName": "M", "metricNamespace": "N"}],
            }
        ],
        "alarms": [
            {
                "AlarmName": "a",
                "MetricName": "M",
                "Namespace": "N",
                "AlarmActions": ["arn:aws:sns:us-east-1:999999999999:elsewhere"],
            }
        ],
    }
    (alarm,) = alarms_on_metric_filters(doc)["metric_filters"][0]["alarms"]
    assert alarm["confirmed_subscriptions"] == 0
