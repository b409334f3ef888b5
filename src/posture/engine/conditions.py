"""The condition language: validate once, compile into Python callables, explain every outcome.

A condition is a tree of clauses::

    {all: [clause, ...]}     every clause holds
    {any: [clause, ...]}     at least one clause holds
    {not: clause}            the clause does not hold
    {path: a.b[0].c, OP: value}

``path`` is dotted, with ``[n]`` for list indices; ``@`` is the current document (useful
inside item quantifiers over lists of scalars). A missing key reads as null.

Operators (``OPERATORS`` is the closed list):

* comparison: ``eq ne in not_in contains not_contains gt ge lt le``
* presence: ``exists: true|false`` (key present and not null), ``empty: true|false``
  (null, "", [] or {})
* text: ``matches`` / ``not_matches`` (regular expression, searched)
* time: ``older_than_days: N`` / ``within_days: N`` on ISO-8601 timestamps, relative
  to the evaluation clock, so tests can inject ``now``
* size: ``length: {OP: n}`` with a comparison operator on the length of a list, text or map
* lists: ``any_item`` / ``all_items`` / ``no_item``: a clause evaluated on every item,
  with paths relative to the item; ``count: {where: clause, OP: n}`` compares how many
  items satisfy the clause
* e-mail domains: ``domain_in`` / ``domain_not_in``: the domain of an address (the text
  after the last ``@``, or the text itself) is / is not one of the listed domains or a
  subdomain of one, ignoring case
* ISO 8601 durations: ``duration_days: {OP: n}`` (``P90D``, ``PT8H``, ``P1Y`` = 365 days)

Where an operator compares with a value, the value may be ``{field: PATH}``: the value at
``PATH`` of the whole resource document (not of the current list item), e.g.
``{path: emailAddress.address, domain_not_in: {field: tenant_domains}}``. Path segments
holding dots are quoted: ``principal["@odata.type"]``.

Compiled clauses return ``(holds, evidence)``: every leaf reports the field, the actual
value and the expectation, so a failure can say why in one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from posture.models import Evidence

Loc = tuple[str | int, ...]
Outcome = tuple[bool, list[Evidence]]


@dataclass(frozen=True)
class EvalContext:
    now: datetime
    root: Any = None  # the resource document being judged, for ``{field: PATH}`` values


Check = Callable[[Any, EvalContext, str], Outcome]

COMPARISON_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "gt",
    "ge",
    "lt",
    "le",
    "exists",
    "empty",
    "matches",
    "not_matches",
    "older_than_days",
    "within_days",
    "length",
    "any_item",
    "all_items",
    "no_item",
    "count",
    "domain_in",
    "domain_not_in",
    "duration_days",
)
#: Operators whose value may be a ``{field: PATH}`` reference into the resource document.
REFERENCE_OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "domain_in",
    "domain_not_in",
)
COMBINATORS = ("all", "any", "not")
MAX_ITEM_EVIDENCE = 5
_MISSING = object()


class ConditionError(ValueError):
    """A clause is malformed; ``loc`` is the field path inside the condition."""

    def __init__(self, message: str, loc: Loc) -> None:
        super().__init__(message)
        self.loc = loc


# --------------------------------------------------------------------------- paths

# one key of a path; an OData annotation such as ``@odata.type`` is one key despite its dot,
# and any key holding dots can be quoted: ``principal["@odata.type"]``
_KEY = r'@odata\.[A-Za-z]+|[^.\[\]"]+'
_QUOTED = r'\["([^"\]]+)"\]'
_TOKEN = re.compile(rf"({_KEY})|\[(\d+)\]|{_QUOTED}")
_PATH = re.compile(rf"^(?:{_KEY}|{_QUOTED})(?:\.(?:{_KEY})|\[\d+\]|{_QUOTED})*$")


def parse_path(path: str) -> tuple[str | int, ...]:
    """``a.b[2].c`` -> ``("a", "b", 2, "c")``; ``a.@odata.type`` and ``a["@odata.type"]``
    -> ``("a", "@odata.type")``;
    ``@`` -> ``()``."""
    if path in ("@", ""):
        return ()
    if not _PATH.match(path):
        raise ValueError(f"invalid path '{path}'")
    parts: list[str | int] = []
    for m in _TOKEN.finditer(path):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            parts.append(m.group(3))
    return tuple(parts)


def resolve(doc: Any, parts: Sequence[str | int]) -> Any:
    """Value at ``parts`` or ``_MISSING``."""
    cur = doc
    for part in parts:
        if isinstance(part, int):
            if isinstance(cur, list) and -len(cur) <= part < len(cur):
                cur = cur[part]
            else:
                return _MISSING
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


def join_path(prefix: str, path: str) -> str:
    if path in ("@", ""):
        return prefix or "@"
    if not prefix:
        return path
    return f"{prefix}.{path}" if not path.startswith("[") else prefix + path


# --------------------------------------------------------------------------- helpers


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 text, ``datetime`` or ``date`` -> aware ``datetime``; anything else -> None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _age_days(value: Any, ctx: EvalContext) -> float | None:
    moment = parse_time(value)
    if moment is None:
        return None
    return (ctx.now - moment).total_seconds() / 86400.0


def _is_empty(value: Any) -> bool:
    return value is _MISSING or value is None or value in ("", [], {})


def _plain(value: Any) -> Any:
    """Evidence must be JSON-friendly and short."""
    if value is _MISSING:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list) and len(value) > 20:
        return [*value[:20], f"... {len(value) - 20} more"]
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + "..."
    return value


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected) if actual is not _MISSING else expected is None
    if op == "ne":
        return not _compare("eq", actual, expected)
    a, e = _number(actual), _number(expected)
    if a is None or e is None:
        return False
    return {"gt": a > e, "ge": a >= e, "lt": a < e, "le": a <= e}[op]


# --------------------------------------------------------------------------- leaf operators


_DURATION = re.compile(
    r"^P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_DAYS_PER = {
    "y": 365.0,
    "mo": 30.0,
    "w": 7.0,
    "d": 1.0,
    "h": 1 / 24,
    "mi": 1 / 1440,
    "s": 1 / 86400,
}


def duration_days(value: Any) -> float | None:
    """``P90D`` -> 90.0, ``PT12H`` -> 0.5, ``P1Y`` -> 365.0; None for anything else."""
    if not isinstance(value, str):
        return None
    m = _DURATION.match(value.strip().upper())
    if not m or value.strip().upper() in ("P", "PT"):
        return None
    return sum(float(v) * _DAYS_PER[k] for k, v in m.groupdict().items() if v)


def mail_domain(value: Any) -> str | None:
    """The domain of an e-mail address (or a domain), lower case; None if not text."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().rsplit("@", 1)[-1].rstrip(".").lower()


def _in_domains(domain: str, domains: Any) -> bool:
    if not isinstance(domains, list):
        return False
    for item in domains:
        if isinstance(item, str) and item.strip():
            wanted = item.strip().rstrip(".").lower()
            if domain == wanted or domain.endswith("." + wanted):
                return True
    return False


def _reference(value: Any, loc: Loc) -> tuple[str | int, ...] | None:
    """The path of a ``{field: PATH}`` value, or None for a literal."""
    if isinstance(value, dict) and set(value) == {"field"}:
        if not isinstance(value["field"], str):
            raise ConditionError("'field' needs a path such as tenant_domains", (*loc, "field"))
        try:
            return parse_path(value["field"])
        except ValueError as exc:
            raise ConditionError(str(exc), (*loc, "field")) from exc
    return None


def _comparison(op: str, value: Any, loc: Loc, example: str) -> tuple[str, Any]:
    """The one ``{OP: number}`` comparison that ``length`` and ``duration_days`` take."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ConditionError(f"'{op}' needs one comparison, e.g. {example}", loc)
    ((inner_op, inner_value),) = value.items()
    if inner_op not in COMPARISON_OPERATORS or _number(inner_value) is None:
        raise ConditionError(
            f"'{op}' takes one of {', '.join(COMPARISON_OPERATORS)} with a number",
            (*loc, str(inner_op)),
        )
    return str(inner_op), inner_value


def _leaf_test(op: str, value: Any, loc: Loc) -> Callable[[Any, EvalContext], bool]:
    """Return a predicate on the resolved value (may be ``_MISSING``)."""
    ref = _reference(value, loc)
    if ref is not None:
        if op not in REFERENCE_OPERATORS:
            raise ConditionError(
                f"'{op}' takes a literal value; {{field: ...}} works with "
                + ", ".join(REFERENCE_OPERATORS),
                loc,
            )

        def referenced(actual: Any, ctx: EvalContext) -> bool:
            target = resolve(ctx.root, ref)
            target = None if target is _MISSING else target
            if op in ("in", "not_in", "domain_in", "domain_not_in") and not isinstance(
                target, list
            ):
                target = [] if target is None else [target]
            return _leaf_test(op, target, loc)(actual, ctx)

        return referenced
    if op in ("domain_in", "domain_not_in"):
        if not isinstance(value, list):
            raise ConditionError(f"'{op}' needs a list of domains or {{field: PATH}}", loc)

        def domain_test(actual: Any, ctx: EvalContext) -> bool:
            domain = mail_domain(actual)
            if domain is None:
                return False  # no address: neither inside nor outside
            return _in_domains(domain, value) == (op == "domain_in")

        return domain_test
    if op == "duration_days":
        d_op, d_value = _comparison(op, value, loc, "{le: 180}")

        def duration(actual: Any, ctx: EvalContext) -> bool:
            days = duration_days(actual)
            return days is not None and _compare(d_op, days, d_value)

        return duration
    if op in COMPARISON_OPERATORS:
        if op not in ("eq", "ne") and _number(value) is None:
            raise ConditionError(f"'{op}' needs a number, got {value!r}", loc)
        return lambda actual, ctx: _compare(op, actual, value)
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise ConditionError(f"'{op}' needs a list, got {value!r}", loc)
        options = list(value)
        if op == "in":
            return lambda actual, ctx: actual is not _MISSING and actual in options
        return lambda actual, ctx: actual is _MISSING or actual not in options
    if op in ("contains", "not_contains"):

        def contains(actual: Any, ctx: EvalContext) -> bool:
            if isinstance(actual, list | tuple | set):
                return value in actual
            if isinstance(actual, str) and isinstance(value, str):
                return value in actual
            if isinstance(actual, dict):
                return value in actual
            return False

        if op == "contains":
            return contains
        return lambda actual, ctx: not contains(actual, ctx)
    if op == "exists":
        if not isinstance(value, bool):
            raise ConditionError("'exists' needs true or false", loc)
        return lambda actual, ctx: (actual is not _MISSING and actual is not None) == value
    if op == "empty":
        if not isinstance(value, bool):
            raise ConditionError("'empty' needs true or false", loc)
        return lambda actual, ctx: _is_empty(actual) == value
    if op in ("matches", "not_matches"):
        if not isinstance(value, str):
            raise ConditionError(f"'{op}' needs a regular expression", loc)
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ConditionError(f"invalid regular expression: {exc}", loc) from exc
        if op == "matches":
            return lambda actual, ctx: isinstance(actual, str) and bool(pattern.search(actual))
        return lambda actual, ctx: not (isinstance(actual, str) and bool(pattern.search(actual)))
    if op in ("older_than_days", "within_days"):
        limit = _number(value)
        if limit is None:
            raise ConditionError(f"'{op}' needs a number of days", loc)
        if op == "older_than_days":

            def older(actual: Any, ctx: EvalContext) -> bool:
                age = _age_days(actual, ctx)
                return age is not None and age > limit

            return older

        def within(actual: Any, ctx: EvalContext) -> bool:
            age = _age_days(actual, ctx)
            return age is not None and age <= limit

        return within
    if op == "length":
        inner_op, inner_value = _comparison(op, value, loc, "{ge: 2}")

        def length(actual: Any, ctx: EvalContext) -> bool:
            size = len(actual) if isinstance(actual, list | str | dict) else 0
            return _compare(inner_op, size, inner_value)

        return length
    raise ConditionError(f"unknown operator '{op}'", loc)  # pragma: no cover - guarded by caller


# --------------------------------------------------------------------------- compile


def compile_condition(clause: Any, loc: Loc = ()) -> Check:
    """Validate ``clause`` and return a callable ``(doc, ctx, prefix) -> (holds, evidence)``."""
    if not isinstance(clause, dict) or not clause:
        raise ConditionError("a clause must be a mapping with 'all', 'any', 'not' or 'path'", loc)
    keys = set(clause)
    combinators = keys & set(COMBINATORS)
    if combinators:
        if len(keys) != 1:
            raise ConditionError(
                f"'{sorted(combinators)[0]}' must stand alone in its clause, found {sorted(keys)}",
                loc,
            )
        (name,) = combinators
        return _compile_combinator(name, clause[name], (*loc, name))
    if "path" not in keys:
        raise ConditionError(
            f"unknown clause keys {sorted(keys)}; a clause uses one of "
            f"{', '.join(COMBINATORS)} or 'path' with an operator ({', '.join(OPERATORS)})",
            loc,
        )
    return _compile_leaf(clause, loc)


def _compile_combinator(name: str, body: Any, loc: Loc) -> Check:
    if name == "not":
        inner = compile_condition(body, loc)

        def negate(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
            holds, evidence = inner(doc, ctx, prefix)
            return (not holds, [_negate(e) for e in evidence])

        return negate
    if not isinstance(body, list) or not body:
        raise ConditionError(f"'{name}' needs a non-empty list of clauses", loc)
    children = [compile_condition(child, (*loc, i)) for i, child in enumerate(body)]
    if name == "all":

        def all_of(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
            failed: list[Evidence] = []
            passed: list[Evidence] = []
            for child in children:
                holds, evidence = child(doc, ctx, prefix)
                (passed if holds else failed).extend(evidence)
            return (not failed, failed or passed)

        return all_of

    def any_of(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
        failed: list[Evidence] = []
        for child in children:
            holds, evidence = child(doc, ctx, prefix)
            if holds:
                return True, evidence
            failed.extend(evidence)
        return False, failed

    return any_of


def _negate(evidence: Evidence) -> Evidence:
    return Evidence(
        evidence.path, evidence.op, evidence.expected, evidence.actual, not evidence.negated
    )


def _compile_leaf(clause: dict[str, Any], loc: Loc) -> Check:
    raw_path = clause["path"]
    if not isinstance(raw_path, str):
        raise ConditionError(
            "'path' must be text such as 'PasswordPolicy.MinimumPasswordLength'", (*loc, "path")
        )
    try:
        parts = parse_path(raw_path)
    except ValueError as exc:
        raise ConditionError(str(exc), (*loc, "path")) from exc
    ops = [k for k in clause if k != "path"]
    unknown = [k for k in ops if k not in OPERATORS]
    if unknown:
        raise ConditionError(
            f"unknown operator '{unknown[0]}'; valid operators: {', '.join(OPERATORS)}",
            (*loc, unknown[0]),
        )
    if len(ops) != 1:
        raise ConditionError(
            f"a 'path' clause takes exactly one operator, found {ops or 'none'}", loc
        )
    op = ops[0]
    value = clause[op]
    if op in ("any_item", "all_items", "no_item"):
        return _compile_quantifier(op, raw_path, parts, compile_condition(value, (*loc, op)))
    if op == "count":
        return _compile_count(raw_path, parts, value, (*loc, op))
    test = _leaf_test(op, value, (*loc, op))
    expected = _plain(value)

    def leaf(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
        actual = resolve(doc, parts)
        holds = test(actual, ctx)
        return holds, [Evidence(join_path(prefix, raw_path), op, expected, _plain(actual))]

    return leaf


_ID_KEYS = ("Id", "Name", "Arn", "Key", "id", "name", "arn", "key")
MAX_OFFENDING = 20


def item_identifier(item: Any) -> Any:
    """A short name for a list item in evidence: a scalar itself, else its id-like field."""
    if not isinstance(item, dict):
        return _plain(item) if not isinstance(item, list) else None
    for key, value in item.items():
        if isinstance(key, str) and key.endswith(_ID_KEYS) and isinstance(value, str | int):
            return value
    return None


def _offending(items: list[Any], indices: list[int]) -> list[dict[str, Any]]:
    out = []
    for index in indices[:MAX_OFFENDING]:
        entry: dict[str, Any] = {"index": index}
        ident = item_identifier(items[index])
        if ident is not None:
            entry["id"] = ident
        out.append(entry)
    return out


def _compile_quantifier(
    op: str, raw_path: str, parts: tuple[str | int, ...], inner: Check
) -> Check:
    def quantify(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
        base = join_path(prefix, raw_path)
        items = resolve(doc, parts)
        if not isinstance(items, list):
            items = [] if items is _MISSING or items is None else [items]
        holding: list[Evidence] = []
        failing: list[Evidence] = []
        held: list[int] = []
        missed: list[int] = []
        for index, item in enumerate(items):
            holds, evidence = inner(item, ctx, f"{base}[{index}]")
            if holds:
                held.append(index)
                if len(held) <= MAX_ITEM_EVIDENCE:
                    holding.extend(evidence)
                if op == "any_item":
                    return True, holding
            else:
                missed.append(index)
                if len(failing) < MAX_ITEM_EVIDENCE * 4:
                    failing.extend(evidence)
        counts: dict[str, Any] = {"matching": len(held), "total": len(items)}
        if op == "any_item":
            summary = Evidence(base, op, "item condition", counts)
            return False, [summary, *failing[: MAX_ITEM_EVIDENCE * 2]]
        if op == "all_items":
            if not missed:
                return True, [Evidence(base, op, "item condition", counts)]
            counts["offending"] = _offending(items, missed)
            summary = Evidence(base, op, "item condition", counts)
            return False, [summary, *failing[: MAX_ITEM_EVIDENCE * 2]]
        if not held:
            return True, [Evidence(base, op, "item condition", counts)]
        counts["offending"] = _offending(items, held)
        summary = Evidence(base, op, "item condition", counts)
        return False, [summary, *[_negate(e) for e in holding]]

    return quantify


def _compile_count(raw_path: str, parts: tuple[str | int, ...], body: Any, loc: Loc) -> Check:
    """``count: {where: clause, OP: n}``: how many items satisfy ``where``, compared with n."""
    if not isinstance(body, dict) or "where" not in body or len(body) != 2:
        raise ConditionError(
            "'count' needs 'where' and one comparison, e.g. {where: ..., le: 2}", loc
        )
    ((c_op, c_value),) = [(k, v) for k, v in body.items() if k != "where"]
    if c_op not in COMPARISON_OPERATORS or _number(c_value) is None:
        raise ConditionError(
            f"'count' takes one of {', '.join(COMPARISON_OPERATORS)} with a number",
            (*loc, str(c_op)),
        )
    inner = compile_condition(body["where"], (*loc, "where"))

    def count(doc: Any, ctx: EvalContext, prefix: str) -> Outcome:
        base = join_path(prefix, raw_path)
        items = resolve(doc, parts)
        if not isinstance(items, list):
            items = [] if items is _MISSING or items is None else [items]
        held = [i for i, item in enumerate(items) if inner(item, ctx, f"{base}[{i}]")[0]]
        holds = _compare(c_op, len(held), c_value)
        summary: dict[str, Any] = {"matching": len(held), "total": len(items)}
        if held:
            summary["offending"] = _offending(items, held)
        return holds, [Evidence(base, "count", {c_op: c_value}, summary)]

    return count


def decisive(evidence: list[Evidence]) -> list[Evidence]:
    """The evidence that decided an outcome, one line per field.

    Alternatives of a failed ``any`` often test one field several ways ("not set", "within
    45 days"); printing each would read as a contradiction. The first line per path stays.
    """
    seen: set[str] = set()
    out: list[Evidence] = []
    for item in evidence:
        if item.path in seen:
            continue
        seen.add(item.path)
        out.append(item)
    return out


#: What ``read_keys`` answers for a clause that reads the whole document (``path: "@"``).
WHOLE_DOCUMENT = "*"
_QUANTIFIER_OPS = ("any_item", "all_items", "no_item")


def _parsed(path: Any) -> tuple[str | int, ...] | None:
    if not isinstance(path, str):
        return None
    try:
        return parse_path(path)
    except ValueError:
        return None


def document_paths(clause: Any, *, top: bool = True) -> list[tuple[str | int, ...]]:
    """Paths of a (valid) clause that start at the document root, parsed.

    Paths inside ``any_item`` / ``all_items`` / ``no_item`` / ``count.where`` are relative to
    the list items and left out (the list's own path counts); a ``{field: PATH}`` value always
    starts at the root.
    """
    out: list[tuple[str | int, ...]] = []
    if not isinstance(clause, dict):
        return out
    for name in COMBINATORS:
        if name in clause:
            body = clause[name]
            for child in body if isinstance(body, list) else [body]:
                out += document_paths(child, top=top)
            return out
    if top and (parts := _parsed(clause.get("path"))) is not None:
        out.append(parts)
    for op, value in clause.items():
        if op in _QUANTIFIER_OPS:
            out += document_paths(value, top=False)
        elif op == "count" and isinstance(value, dict):
            out += document_paths(value.get("where"), top=False)
        elif (
            isinstance(value, dict)
            and set(value) == {"field"}
            and (parts := _parsed(value["field"])) is not None
        ):
            out.append(parts)
    return out


def read_keys(clause: Any) -> set[str]:
    """Top-level document keys a (valid) clause reads; ``*`` for the whole document.

    The engine uses this to tell which policies a failed detail affects.
    """
    return {
        parts[0] if parts and isinstance(parts[0], str) else WHOLE_DOCUMENT
        for parts in document_paths(clause)
    }
