from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from posture.engine.conditions import ConditionError, EvalContext, compile_condition, parse_path

NOW = EvalContext(now=datetime(2026, 1, 15, tzinfo=UTC))


def run(clause: dict[str, Any], doc: Any) -> tuple[bool, list[Any]]:
    return compile_condition(clause)(doc, NOW, "")


@pytest.mark.parametrize(
    ("clause", "doc", "expected"),
    [
        pytest.param({"path": "a", "eq": 1}, {"a": 1}, True, id="eq"),
        pytest.param({"path": "a", "eq": None}, {}, True, id="missing-equals-null"),
        pytest.param({"path": "a", "ne": 1}, {}, True, id="ne-missing"),
        pytest.param({"path": "a", "in": [1, 2]}, {"a": 2}, True, id="in"),
        pytest.param({"path": "a", "not_in": [1, 2]}, {"a": 3}, True, id="not_in"),
        pytest.param({"path": "a", "contains": "x"}, {"a": ["x", "y"]}, True, id="contains-list"),
        pytest.param({"path": "a", "contains": "ab"}, {"a": "xaby"}, True, id="contains-text"),
        pytest.param({"path": "a", "not_contains": "z"}, {"a": ["x"]}, True, id="not_contains"),
        pytest.param({"path": "a", "gt": 3}, {"a": 4}, True, id="gt"),
        pytest.param({"path": "a", "ge": 14}, {"a": 13}, False, id="ge-boundary"),
        pytest.param({"path": "a", "lt": 3}, {"a": None}, False, id="lt-null-never-holds"),
        pytest.param({"path": "a", "le": "3"}, {"a": "2"}, True, id="numeric-text"),
        pytest.param({"path": "a", "exists": True}, {"a": None}, False, id="exists-null"),
        pytest.param({"path": "a", "exists": False}, {}, True, id="exists-false"),
        pytest.param({"path": "a", "empty": True}, {"a": []}, True, id="empty-list"),
        pytest.param({"path": "a", "empty": False}, {"a": {"k": 1}}, True, id="not-empty"),
        pytest.param(
            {"path": "a", "matches": "^arn:aws:"}, {"a": "arn:aws:iam"}, True, id="matches"
        ),
        pytest.param(
            {"path": "a", "not_matches": "root"}, {"a": "user/bob"}, True, id="not_matches"
        ),
        pytest.param(
            {"path": "t", "older_than_days": 90}, {"t": "2025-09-01T00:00:00Z"}, True, id="older"
        ),
        pytest.param(
            {"path": "t", "older_than_days": 90},
            {"t": "2026-01-01T00:00:00+00:00"},
            False,
            id="not-older",
        ),
        pytest.param({"path": "t", "older_than_days": 1}, {"t": None}, False, id="older-null"),
        pytest.param({"path": "t", "within_days": 45}, {"t": "2026-01-10"}, True, id="within"),
        pytest.param(
            {"path": "t", "within_days": 45},
            {"t": "2026-03-01T00:00:00Z"},
            True,
            id="within-future",
        ),
        pytest.param({"path": "l", "length": {"ge": 2}}, {"l": [1, 2]}, True, id="length"),
        pytest.param({"path": "l", "length": {"eq": 0}}, {}, True, id="length-missing"),
        pytest.param(
            {"path": "a.b[1].c", "eq": 5}, {"a": {"b": [{"c": 1}, {"c": 5}]}}, True, id="index-path"
        ),
    ],
)
def test_leaf_operators(clause: dict[str, Any], doc: Any, expected: bool) -> None:
    holds, evidence = run(clause, doc)
    assert holds is expected
    assert evidence and evidence[0].path == clause["path"]


def test_combinators_and_evidence() -> None:
    clause = {"all": [{"path": "a", "eq": 1}, {"not": {"path": "b", "eq": 2}}]}
    holds, evidence = run(clause, {"a": 0, "b": 2})
    assert not holds
    assert {(e.path, e.actual, e.negated) for e in evidence} == {("a", 0, False), ("b", 2, True)}
    holds, _ = run({"any": [{"path": "a", "eq": 1}, {"path": "b", "eq": 2}]}, {"a": 0, "b": 2})
    assert holds


def test_quantifiers_report_item_paths() -> None:
    doc = {"rules": [{"port": 22, "cidr": "10.0.0.0/8"}, {"port": 22, "cidr": "0.0.0.0/0"}]}
    open_rule = {"all": [{"path": "port", "eq": 22}, {"path": "cidr", "eq": "0.0.0.0/0"}]}
    holds, evidence = run({"path": "rules", "no_item": open_rule}, doc)
    assert not holds
    assert any(e.path == "rules[1].cidr" and e.actual == "0.0.0.0/0" for e in evidence)
    assert run({"path": "rules", "any_item": open_rule}, doc)[0]
    assert not run({"path": "rules", "all_items": open_rule}, doc)[0]
    assert run({"path": "missing", "all_items": open_rule}, doc)[0]
    assert run({"path": "tags", "any_item": {"path": "@", "eq": "x"}}, {"tags": ["y", "x"]})[0]


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ({"path": "a", "equals": 1}, "unknown operator 'equals'; valid operators: eq, ne"),
        ({"path": "a", "eq": 1, "ne": 2}, "exactly one operator"),
        ({"path": "a", "gt": "x"}, "needs a number"),
        ({"path": "a", "in": 1}, "needs a list"),
        ({"path": "a", "matches": "("}, "invalid regular expression"),
        ({"all": []}, "non-empty list"),
        ({"foo": 1}, "unknown clause keys"),
        ({"path": "a..b", "eq": 1}, "invalid path"),
        ({"path": "a", "length": {"big": 1}}, "'length' takes one of"),
    ],
)
def test_malformed_clauses_are_rejected(clause: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConditionError, match=None) as info:
        compile_condition(clause)
    assert fragment in str(info.value)


def test_parse_path() -> None:
    assert parse_path("a.b[2].c") == ("a", "b", 2, "c")
    assert parse_path("@") == ()


def test_odata_annotation_is_one_key() -> None:
    assert parse_path("azureADJoin.allowedToJoin.@odata.type") == (
        "azureADJoin",
        "allowedToJoin",
        "@odata.type",
    )
    assert parse_path("members[0].@odata.type") == ("members", 0, "@odata.type")
    doc = {"allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"}}
    check = compile_condition(
        {
            "path": "allowedToJoin.@odata.type",
            "eq": "#microsoft.graph.allDeviceRegistrationMembership",
        }
    )
    holds, _ = check(doc, NOW, "")
    assert holds
