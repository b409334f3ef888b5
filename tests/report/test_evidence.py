"""Evidence reads as one sentence per clause, in English and Japanese."""

from __future__ import annotations

from typing import Any

import pytest

from posture.report.evidence import Segment, describe, format_value, plain_text
from posture.report.i18n import load_messages
from posture.report.model import ReportEvidence


def line(lang: str, op: str, expected: Any, actual: Any, negated: bool = False) -> str:
    evidence = ReportEvidence("a.b", op, expected, actual, negated)
    return plain_text(describe(evidence, load_messages(lang)))


@pytest.mark.parametrize(
    ("op", "expected", "actual", "english"),
    [
        ("eq", True, False, "a.b is false, expected equal to true"),
        ("ne", "x", "x", "a.b is x, expected not equal to x"),
        ("gt", 3, 1, "a.b is 1, expected greater than 3"),
        ("ge", 14, 8, "a.b is 8, expected greater than or equal to 14"),
        ("lt", 3, 5, "a.b is 5, expected less than 3"),
        ("le", 3, 5, "a.b is 5, expected less than or equal to 3"),
        ("in", ["Enabled"], "Suspended", 'a.b is Suspended, expected one of ["Enabled"]'),
        ("not_in", ["*"], "*", 'a.b is *, expected none of ["*"]'),
        ("contains", "s3:*", ["s3:Get"], 'a.b is ["s3:Get"], expected containing s3:*'),
        ("not_contains", "*", ["*"], 'a.b is ["*"], expected not containing *'),
        ("exists", True, None, "a.b is not set, expected a value"),
        ("exists", False, "x", "a.b is x, expected no value"),
        ("empty", True, [1], "a.b is [1], expected empty"),
        ("empty", False, [], "a.b is [], expected not empty"),
        ("matches", "^svc-", "bob", "a.b is bob, expected matching ^svc-"),
        ("not_matches", "^adm", "admin", "a.b is admin, expected not matching ^adm"),
        ("older_than_days", 30, "2025-06-20", "a.b is 2025-06-20, expected older than 30 days"),
        ("within_days", 90, "2024-01-01", "a.b is 2024-01-01, expected within the last 90 days"),
        ("length", {"ge": 2}, [1], "a.b is [1], expected a length greater than or equal to 2"),
    ],
)
def test_english_phrases(op: str, expected: Any, actual: Any, english: str) -> None:
    assert line("en", op, expected, actual) == english


def test_negated_evidence_reads_expected_not() -> None:
    assert line("en", "eq", "0.0.0.0/0", "0.0.0.0/0", negated=True) == (
        "a.b is 0.0.0.0/0, expected not equal to 0.0.0.0/0"
    )
    assert line("ja", "eq", "0.0.0.0/0", "0.0.0.0/0", negated=True) == (
        "a.b の値は 0.0.0.0/0 ですが、0.0.0.0/0 と等しくないことが求められます"
    )


def test_japanese_phrases() -> None:
    assert (
        line("ja", "eq", True, False) == "a.b の値は false ですが、true と等しいことが求められます"
    )
    assert line("ja", "ge", 14, 8) == "a.b の値は 8 ですが、14 以上であることが求められます"
    assert (
        line("ja", "exists", True, None)
        == "a.b は設定されていませんが、値が設定されていることが求められます"
    )
    assert line("ja", "length", {"ge": 1}, []) == (
        "a.b の値は [] ですが、長さが 1 以上であることが求められます"
    )


def test_item_quantifiers_localise_the_engine_summary() -> None:
    assert line("en", "any_item", "item condition", {"matching": 0, "total": 4}) == (
        "a.b: 0 of 4 items match, expected at least one item matching"
    )
    assert line("ja", "no_item", "item condition", {"matching": 1, "total": 3}) == (
        "a.b: 3 件中 1 件が条件を満たします。条件を満たす項目がないことが求められます"
    )


def test_unknown_operator_still_explains_itself() -> None:
    assert line("en", "fancy", 1, 2) == "a.b is 2, expected fancy 1"


def test_values_and_paths_are_code_segments() -> None:
    evidence = ReportEvidence("mfa", "eq", True, False)
    segments = describe(evidence, load_messages("en"))
    assert Segment("mfa", code=True) in segments
    assert Segment("false", code=True) in segments
    assert Segment("true", code=True) in segments


def test_long_values_are_shortened() -> None:
    text = format_value("x" * 1000)
    assert len(text) == 160
    assert text.endswith("…")
    assert format_value({"k": "日本語"}) == '{"k": "日本語"}'
