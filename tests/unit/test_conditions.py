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


# -- values from the document, e-mail domains, counts, durations, quoted keys ---------------


def run_on(clause: dict[str, Any], doc: Any) -> tuple[bool, list[Any]]:
    """Evaluate with the document as the root, as the evaluator does."""
    return compile_condition(clause)(doc, EvalContext(now=NOW.now, root=doc), "")


FORWARDING = {
    "tenant_domains": ["contoso.example", "contoso.onmicrosoft.com"],
    "rules": [
        {"to": "ken@contoso.example"},
        {"to": "ops@JP.Contoso.example"},
        {"to": "ken.private@gmail.com"},
        {"to": None},
    ],
}


def test_domain_not_in_reads_the_list_from_the_document_root_inside_quantifiers() -> None:
    clause = {
        "path": "rules",
        "no_item": {"path": "to", "domain_not_in": {"field": "tenant_domains"}},
    }
    holds, evidence = run_on(clause, FORWARDING)
    assert not holds
    assert evidence[0].actual["offending"] == [{"index": 2}]  # subdomains and case are inside
    inside = {"path": "rules", "all_items": {"path": "to", "domain_in": ["contoso.example"]}}
    assert not run_on(inside, FORWARDING)[0]  # gmail is outside; a missing address is neither
    assert run_on({"path": "rules[1].to", "domain_in": ["contoso.example"]}, FORWARDING)[0]


def test_a_field_reference_compares_two_fields_of_one_document() -> None:
    doc = {"owner": "t-1", "tenant_id": "t-1"}
    assert not run_on({"path": "owner", "ne": {"field": "tenant_id"}}, doc)[0]
    assert run_on({"path": "owner", "ne": {"field": "tenant_id"}}, {**doc, "owner": "t-2"})[0]
    assert not run_on({"path": "owner", "in": {"field": "missing"}}, doc)[0]


def test_count_compares_how_many_items_match_and_names_them() -> None:
    doc = {"a": [{"id": "x", "v": 1}, {"id": "y", "v": 5}, {"id": "z", "v": 7}]}
    holds, evidence = run_on(
        {"path": "a", "count": {"where": {"path": "v", "gt": 2}, "le": 1}}, doc
    )
    assert not holds
    assert evidence[0].actual["matching"] == 2
    assert [o["id"] for o in evidence[0].actual["offending"]] == ["y", "z"]
    assert run_on({"path": "a", "count": {"where": {"path": "v", "gt": 2}, "ge": 2}}, doc)[0]
    with pytest.raises(ConditionError):
        compile_condition({"path": "a", "count": {"le": 1}})


@pytest.mark.parametrize(
    ("value", "limit", "holds"),
    [
        ("P90D", 180, True),
        ("P1Y", 180, False),
        ("PT12H", 1, True),
        ("P", 1, False),
        (None, 9, False),
    ],
)
def test_duration_days_reads_iso_8601_durations(value: Any, limit: int, holds: bool) -> None:
    assert run_on({"path": "d", "duration_days": {"le": limit}}, {"d": value})[0] is holds


def test_keys_with_dots_are_one_path_segment() -> None:
    doc = {"principal": {"@odata.type": "#microsoft.graph.user"}}
    assert parse_path('principal["@odata.type"]') == ("principal", "@odata.type")
    assert parse_path("principal.@odata.type") == ("principal", "@odata.type")
    assert run_on({"path": 'principal["@odata.type"]', "eq": "#microsoft.graph.user"}, doc)[0]
