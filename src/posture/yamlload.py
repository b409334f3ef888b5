"""YAML loading that remembers where every value came from.

Content files are written by people; when one is wrong the error must name the file, the
line and the field. PyYAML's node tree carries line marks, so the loader keeps a map from
dotted field paths to line numbers next to the plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from posture.errors import ContentError


@dataclass
class LocatedDocument:
    """Plain data of one YAML document plus the line of each field path."""

    path: str
    data: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """Line of the deepest known ancestor of ``loc`` (1-based)."""
        probe = tuple(loc)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so ``on``, ``no``, ``off`` stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# libyaml parses ten times faster; the pure-Python loader stays for syntax errors, whose
# messages and marks the error reporting below is written against
_FastLoader: Any = _Loader
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """The same YAML 1.2 booleans, parsed by libyaml."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _CLoader


class _DuplicateKey(Exception):
    def __init__(self, field: str, line: int) -> None:
        self.field = field
        self.line = line


def _walk(
    node: yaml.Node, loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _Loader.construct_object(_LOADER_SINGLETON, key_node, deep=True)
            if key in out:
                raise _DuplicateKey(dotted((*loc, key)), key_node.start_mark.line + 1)
            child = (*loc, key)
            out[key] = _walk(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*loc, i), lines) for i, item in enumerate(node.value)]
    return _Loader.construct_object(_LOADER_SINGLETON, node, deep=True)


_LOADER_SINGLETON = _Loader("")


def dotted(loc: tuple[str | int, ...]) -> str:
    """Render a field location like ``tests[2].resource``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _syntax_error(path: str, text: str, exc: yaml.MarkedYAMLError) -> ContentError:
    """Point at the offending line, not at where the parser gave up.

    When the parser ran into the end of the file, or the problem sits inside a bracketed
    list or mapping, the culprit is the construct that never closed (a quote, a bracket):
    its first line. Otherwise it is the line of the problem, unless that follows a quoted
    value spanning several lines, whose closing quote is then most likely missing.
    """
    problem, context = exc.problem_mark, exc.context_mark
    detail = exc.problem or str(exc)
    hint = None
    line: int | None
    if problem is not None and not text[problem.index :].strip() and context is not None:
        line = context.line + 1
        detail = f"{exc.context} starting here: {detail} at the end of the file"
    elif problem is not None and context is not None and "flow" in str(exc.context):
        line = context.line + 1  # an unclosed [ or { swallows the lines after it
        if context.line != problem.line:
            detail = f"{exc.context} starting here: {detail} (at line {problem.line + 1})"
            hint = "is the closing bracket missing on this line (or a comma after it)?"
    elif problem is not None:
        line = problem.line + 1
        opened = _quote_spanning_lines(text, problem)
        if opened is not None:
            line, detail = (
                opened,
                (
                    f"the quoted value starting here runs to line {problem.line + 1} and is "
                    f"followed by: {detail}"
                ),
            )
            hint = "is a closing quote missing on this line?"
        else:
            if context is not None and context.line != problem.line:
                detail = f"{detail} ({exc.context} at line {context.line + 1})"
            if "expected <block end>" in detail or "not allowed here" in detail:
                hint = "check this line's indentation against the lines above it"
    else:
        line = context.line + 1 if context is not None else None
    return ContentError(f"invalid YAML: {detail}", path=path, line=line, hint=hint)


def _quote_spanning_lines(text: str, before: yaml.Mark) -> int | None:
    """First line of a quoted scalar that spans lines and ends right before ``before``."""
    last: yaml.Token | None = None
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if token.start_mark.index >= before.index:
                break
            last = token
    except yaml.MarkedYAMLError:
        pass
    if (
        isinstance(last, yaml.ScalarToken)
        and last.style in ('"', "'")
        and last.start_mark.line != last.end_mark.line
    ):
        return int(last.start_mark.line) + 1
    return None


def load_yaml(path: Path | str, text: str | None = None) -> LocatedDocument:
    """Parse one YAML file; syntax errors become ``ContentError`` with path and line."""
    p = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ContentError(f"cannot read file: {exc.strerror}", path=p) from exc
    try:
        node = yaml.compose(text, Loader=_FastLoader)
    except yaml.MarkedYAMLError:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(p, text, exc) from exc
    if node is None:
        return LocatedDocument(p, None, {(): 1})
    lines: dict[tuple[str | int, ...], int] = {}
    try:
        data = _walk(node, (), lines)
    except _DuplicateKey as exc:
        raise ContentError("duplicate key", path=p, line=exc.line, field=exc.field) from exc
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise ContentError(
            f"invalid YAML value: {exc.problem}", path=p, line=mark.line + 1 if mark else None
        ) from exc
    return LocatedDocument(p, data, lines)
