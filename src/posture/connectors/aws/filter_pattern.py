"""CloudWatch Logs filter patterns for JSON log events: parsed, then evaluated on events.

A metric filter such as ``{ ($.eventName = "CreateTrail") || ($.eventName = UpdateTrail) }``
is read as the expression it is, not searched with regular expressions: spacing, the order
of the terms, quoting and redundant parentheses then cannot change the verdict, and a
pattern that misses a required event, or matches everything, is seen for what it does.

Supported, after the CloudWatch Logs filter pattern syntax for JSON log events:

* selectors ``$.a.b``, ``$.list[0].c``, ``$.*`` members are not supported;
* ``=`` and ``!=`` with a quoted (``"..."``) or unquoted value (several unquoted words
  are one value), where ``*`` is a wildcard for any text; ``%...%`` is a regular expression;
* ``<``, ``<=``, ``>``, ``>=`` with numbers;
* ``IS TRUE``, ``IS FALSE``, ``IS NULL``, ``NOT EXISTS`` (and ``EXISTS``);
* ``&&``, ``||`` (``&&`` binds tighter) and parentheses.

A comparison on a field that the event lacks does not match (``!=`` included): only
``NOT EXISTS`` matches a missing field. Text patterns (terms, ``[...]`` space-delimited
patterns) are not JSON patterns and raise :class:`PatternError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>&&) | (?P<or>\|\|) | (?P<lp>\() | (?P<rp>\)) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<selector>\$(?:\.[A-Za-z0-9_@:\-]+|\[\d+\])*) |
        (?P<quoted>"(?:[^"\\]|\\.)*") |
        (?P<word>[^\s()&|=!<>"]+)
    )""",
    re.VERBOSE,
)


class PatternError(ValueError):
    """The text is not a JSON filter pattern this module can read."""


@dataclass(frozen=True)
class Comparison:
    """``selector op value``; ``op`` is one of ``= != < <= > >= is exists not_exists``."""

    path: tuple[str | int, ...]
    op: str
    value: Any = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        found = _resolve(event, self.path)
        if self.op == "not_exists":
            return found is _MISSING
        if found is _MISSING:
            return False
        if self.op == "exists":
            return True
        if self.op == "is":
            return found is self.value if self.value is not None else found is None
        if self.op in ("=", "!="):
            equal = _equals(found, self.value)
            return equal if self.op == "=" else not equal
        return _numeric(found, self.op, self.value)


@dataclass(frozen=True)
class All:
    terms: tuple[Expression, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return all(t.matches(event) for t in self.terms)


@dataclass(frozen=True)
class Any_:
    terms: tuple[Expression, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return any(t.matches(event) for t in self.terms)


Expression = Comparison | All | Any_


@dataclass(frozen=True)
class _Value:
    text: str
    quoted: bool


def _resolve(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        elif isinstance(value, Mapping) and step in value:
            value = value[step]
        else:
            return _MISSING
    return value


def _equals(found: Any, value: _Value) -> bool:
    if isinstance(found, (dict, list)):
        return False
    if not value.quoted and _is_number(value.text) and isinstance(found, (int, float)):
        return not isinstance(found, bool) and float(found) == float(value.text)
    text = "" if found is None else str(found).lower() if isinstance(found, bool) else str(found)
    if len(value.text) > 1 and value.text.startswith("%") and value.text.endswith("%"):
        return re.search(value.text[1:-1], text) is not None
    if "*" in value.text:
        glob = ".*".join(re.escape(part) for part in value.text.split("*"))
        return re.fullmatch(glob, text, re.DOTALL) is not None
    return text == value.text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(found: Any, op: str, value: _Value) -> bool:
    if isinstance(found, bool) or not isinstance(found, (int, float, str)):
        return False
    try:
        return _NUMERIC[op](float(found), float(value.text))
    except ValueError:
        return False


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise PatternError(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, kind: str) -> str:
        got, text = self.peek()
        if got != kind:
            raise PatternError(f"expected {kind}, found {text or 'the end'!r}")
        self.pos += 1
        return text

    def expression(self) -> Expression:
        terms = [self.conjunction()]
        while self.peek()[0] == "or":
            self.pos += 1
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else Any_(tuple(terms))

    def conjunction(self) -> Expression:
        terms = [self.unary()]
        while self.peek()[0] == "and":
            self.pos += 1
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else All(tuple(terms))

    def unary(self) -> Expression:
        if self.peek()[0] == "lp":
            self.pos += 1
            inner = self.expression()
            self.take("rp")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = _path(self.take("selector"))
        kind, text = self.peek()
        if kind == "op":
            self.pos += 1
            return Comparison(path, text, self.value())
        words = [self.take("word").upper()] if kind == "word" else []
        if words in (["IS"], ["NOT"]) and self.peek()[0] == "word":
            words.append(self.take("word").upper())
        keyword = " ".join(words)
        if keyword in ("IS TRUE", "IS FALSE"):
            return Comparison(path, "is", keyword == "IS TRUE")
        if keyword == "IS NULL":
            return Comparison(path, "is", None)
        if keyword == "NOT EXISTS":
            return Comparison(path, "not_exists")
        if keyword == "EXISTS":
            return Comparison(path, "exists")
        raise PatternError(f"expected an operator after a selector, found {keyword or text!r}")

    def value(self) -> _Value:
        kind, text = self.peek()
        if kind == "quoted":
            self.pos += 1
            return _Value(re.sub(r"\\(.)", r"\1", text[1:-1]), True)
        if kind == "word":
            # unquoted words up to the next operator or parenthesis form one value, as in
            # the CIS text "$.errorMessage = Failed authentication"
            words = []
            while self.peek()[0] == "word":
                words.append(self.take("word"))
            return _Value(" ".join(words), False)
        raise PatternError(f"expected a value, found {text or 'the end'!r}")


def _path(selector: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        out.append(int(index) if index else name)
    return tuple(out)


def parse(pattern: str) -> Expression:
    """Parse a JSON filter pattern ``{ ... }``; raises :class:`PatternError`."""
    text = (pattern or "").strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PatternError("not a JSON filter pattern (it must be enclosed in { })")
    parser = _Parser(_tokens(text[1:-1]))
    if parser.peek()[0] == "end":
        raise PatternError("empty JSON filter pattern")
    expression = parser.expression()
    if parser.peek()[0] != "end":
        raise PatternError(f"unexpected {parser.peek()[1]!r} after a complete expression")
    return expression


def matches(pattern: str | Expression, event: Mapping[str, Any]) -> bool:
    """Whether the pattern matches the JSON log event (a parsed CloudTrail record)."""
    expression = parse(pattern) if isinstance(pattern, str) else pattern
    return expression.matches(event)
