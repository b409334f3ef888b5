"""Evidence as one readable line: "`path` is `actual`, expected equal to `true`".

Principle 3 of the design handbook: every finding explains itself, in both languages.
A line is a tuple of ``Segment`` so that templates can set field names and values in
``<code>`` while autoescaping every piece; nothing here produces markup.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.report.i18n import Messages
from posture.report.model import ReportEvidence

MAX_VALUE_CHARS = 160
_QUANTIFIERS = frozenset({"any_item", "all_items", "no_item"})
_BOOLEAN_OPERATORS = frozenset({"exists", "empty"})
_COMPARED = frozenset({"length", "duration_days", "count"})
_SUMMARY_KEYS = frozenset({"matching", "total", "offending"})


@dataclass(frozen=True)
class Segment:
    """A run of text; ``code`` marks a field path or a value from the customer's system."""

    text: str
    code: bool = False


Line = tuple[Segment, ...]


def plain_text(line: Sequence[Segment]) -> str:
    """The line without formatting, for search indexes and tests."""
    return "".join(segment.text for segment in line)


def fill(template: str, values: Mapping[str, Sequence[Segment]]) -> Line:
    """Put segment runs into the ``{placeholders}`` of a catalog template."""
    out: list[Segment] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            out.append(Segment(literal))
        if name is not None:
            out.extend(values[name])
    return tuple(out)


def format_value(value: Any) -> str:
    """Compact, unambiguous rendering of an evidence value (JSON except bare strings)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + "…"
    return text


def describe(evidence: ReportEvidence, messages: Messages) -> Line:
    """One evidence record as a sentence in the catalog's language."""
    path = (Segment(evidence.path or "@", code=True),)
    values = {"path": path, "expectation": expectation(evidence, messages)}
    if evidence.op in _QUANTIFIERS or evidence.op == "count":
        values["actual"] = _items_matched(evidence.actual, messages)
        return fill(messages.template("evidence.line_items"), values)
    if evidence.actual is None:
        return fill(messages.template("evidence.line_not_set"), values)
    values["actual"] = (Segment(format_value(evidence.actual), code=True),)
    return fill(messages.template("evidence.line"), values)


def expectation(evidence: ReportEvidence, messages: Messages) -> Line:
    """The part after "expected": an operator phrase with the policy's value."""
    group = "operators_negated" if evidence.negated else "operators"
    if evidence.op in _COMPARED:
        return _length_expectation(evidence, group, messages)
    key = evidence.op
    if evidence.op in _BOOLEAN_OPERATORS:
        key = f"{evidence.op}_{'true' if evidence.expected else 'false'}"
    template = messages.get(f"{group}.{key}", "")
    expected = evidence.expected
    if isinstance(expected, dict) and set(expected) == {"field"}:
        shown = messages("evidence.field_value", field=str(expected["field"]))
        values = {"expected": (Segment(shown),)}
    else:
        values = {"expected": (Segment(format_value(expected), code=True),)}
    if not template:
        template = messages.template(f"{group}.unknown")
        values["op"] = (Segment(evidence.op, code=True),)
    return fill(template, values)


def _length_expectation(evidence: ReportEvidence, group: str, messages: Messages) -> Line:
    """``length: {ge: 14}`` reads "a length greater than or equal to 14" (likewise
    ``duration_days`` and ``count``)."""
    expected = evidence.expected
    if isinstance(expected, dict) and len(expected) == 1:
        ((inner_op, inner_value),) = expected.items()
        inner = ReportEvidence(evidence.path, str(inner_op), inner_value, None, evidence.negated)
        comparison = expectation(inner, messages)
    else:
        comparison = (Segment(format_value(expected), code=True),)
    return fill(messages.template(f"{group}.{evidence.op}"), {"comparison": comparison})


def _items_matched(actual: Any, messages: Messages) -> Line:
    """Localise the engine's item-quantifier summary ``{"matching": n, "total": m}``."""
    if isinstance(actual, dict) and {"matching", "total"} <= set(actual) <= _SUMMARY_KEYS:
        line: list[Segment] = [
            Segment(
                messages(
                    "evidence.items_matched",
                    matched=str(actual["matching"]),
                    total=str(actual["total"]),
                )
            )
        ]
        offending = [o for o in actual.get("offending") or [] if isinstance(o, dict)]
        if offending:
            line.append(Segment(messages("evidence.offending_items")))
            for n, item in enumerate(offending):
                label = f"[{item.get('index')}]"
                if item.get("id") is not None:
                    label += f" {format_value(item['id'])}"
                line.append(Segment("" if n == 0 else ", "))
                line.append(Segment(label, code=True))
        return tuple(s for s in line if s.text)
    return (Segment(format_value(actual), code=True),)
