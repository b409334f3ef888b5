"""Finding statements and recommendation commands: small templates over a resource.

A policy says in one sentence, per language, what is wrong with *this* resource, and fills
its recommendation commands with the resource's identifiers. Both are Jinja2 expressions
rendered in a sandbox::

    statement:
      en: "Access key 1 of {{ user }} was last used on {{ access_key_1_last_used_date | date }}"
      ja: "{{ user }} のアクセスキー 1 は {{ access_key_1_last_used_date | date }} 以降使われていません"
    commands:
      - "aws ec2 revoke-security-group-ingress --group-id {{ GroupId }} --region {{ resource.region }}"

Names in a template are the top-level fields of the resource document, plus:

* ``resource`` - ``name``, ``uid``, ``region``, ``account``, ``type`` of the resource;
* ``doc`` - the whole document (for fields whose names are not identifiers);
* ``offending(path)`` - the list items that made a quantifier (``any_item``, ``all_items``, ``count``,
  ``no_item``) at ``path`` fail, e.g. the security-group rules open to the internet;
* ``now`` - the evaluation clock.

Filters beyond Jinja's own (``join``, ``default``, ``length``, ``first`` ...): ``date``
(YYYY-MM-DD), ``days_ago`` (whole days before the evaluation clock), ``arn_name`` (the
last segment of an ARN), ``ip_permission`` (an AWS network rule as "TCP 22", "all traffic"). A missing field renders as "not set" / "未設定"; ``None`` the same;
lists are joined with ", ". Templates are compiled on first use, so loading the catalog
stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from posture.engine.conditions import parse_path, parse_time, resolve
from posture.japanese import close_stray_spaces
from posture.models import Evidence

RESERVED_NAMES = frozenset({"resource", "doc", "offending", "now"})
EXTRA_FILTERS = frozenset({"date", "days_ago", "arn_name", "ip_permission"})
_NOT_SET = {"en": "not set", "ja": "未設定"}
_QUANTIFIERS = frozenset({"any_item", "all_items", "no_item", "count"})


class TemplateError(ValueError):
    """A statement or command template is malformed."""


def _date(value: Any) -> Any:
    moment = parse_time(value)
    return moment.date().isoformat() if moment else value


def _arn_name(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    tail = value.rsplit(":", 1)[-1]
    return tail.rsplit("/", 1)[-1]


_RULE_WORDS = {
    "en": {"all": "all traffic", "ports": "(all ports)"},
    "ja": {"all": "すべてのトラフィック", "ports": "(全ポート)"},
}


def _ip_permission(rule: Any, lang: str = "en") -> Any:
    """An AWS security-group or NACL rule as "TCP 22", "TCP 0-1024" or "all traffic"."""
    if not isinstance(rule, dict):
        return rule
    words = _RULE_WORDS[lang]
    proto = str(rule.get("IpProtocol", rule.get("Protocol", "")))
    if proto in ("-1", "all"):
        return words["all"]
    name = {"6": "TCP", "17": "UDP", "1": "ICMP"}.get(proto, proto.upper())
    low, high = rule.get("FromPort"), rule.get("ToPort")
    ports = rule.get("PortRange")
    if isinstance(ports, dict):
        low, high = ports.get("From"), ports.get("To")
    if low is None and high is None:
        return f"{name} {words['ports']}"
    if low == high or high is None:
        return f"{name} {low}"
    return f"{name} {low}-{high}"


class _DocumentSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with a fast path for the JSON documents templates mostly read.

    A key of a dict is data, never a Python attribute, so ``rule.IpProtocol`` on a dict is
    answered by the item without the sandbox's attribute checks (which dominate the cost
    of rendering); anything else goes through the sandbox as usual.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                if not hasattr(dict, attribute):
                    return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _make_env(lang: str) -> ImmutableSandboxedEnvironment:
    missing_text = _NOT_SET[lang]

    class Missing(jinja2.ChainableUndefined):
        def __str__(self) -> str:
            return missing_text

    def finalize(value: Any) -> Any:
        if value is None or isinstance(value, jinja2.Undefined):
            return missing_text
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | tuple):
            return ", ".join(str(finalize(v)) for v in value)
        return value

    env = _DocumentSandbox(
        undefined=Missing,
        finalize=finalize,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["date"] = _date
    env.filters["arn_name"] = _arn_name
    env.filters["ip_permission"] = lambda rule: _ip_permission(rule, lang)
    return env


_ENVS = {lang: _make_env(lang) for lang in _NOT_SET}
_PARSE_ENV = _ENVS["en"]


def check_template(text: str) -> set[str]:
    """Parse ``text``; return the field names it reads. Raises ``TemplateError``."""
    try:
        ast = _PARSE_ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from None
    for node in ast.find_all(nodes.Filter):
        if node.name not in _PARSE_ENV.filters:
            known = ", ".join(sorted(EXTRA_FILTERS | {"join", "default", "length", "first"}))
            raise TemplateError(f"unknown filter '{node.name}'; e.g. {known}")
    names = _read_names(ast) - RESERVED_NAMES
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "offending":
            args = call.args
            if len(args) != 1 or not isinstance(args[0], nodes.Const):
                raise TemplateError("offending() takes one quoted path, e.g. offending('Rules')")
            try:
                parse_path(str(args[0].value))
            except ValueError as exc:
                raise TemplateError(str(exc)) from None
            names.add(str(args[0].value).split(".", 1)[0].split("[", 1)[0])
    return names


def reads_whole_document(text: str) -> bool:
    """Does a (valid) template read ``doc``, the whole resource document?"""
    try:
        ast = _PARSE_ENV.parse(text)
    except jinja2.TemplateSyntaxError:
        return False
    return "doc" in _read_names(ast)


_TEMPLATE_GLOBALS = frozenset(
    {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "caller", "varargs"}
    | {"kwargs", "true", "false", "none", "True", "False", "None"}
)


def _read_names(ast: nodes.Template) -> set[str]:
    """Names a template reads that it does not set itself (loop variables, ``set``, macros).

    Jinja's own ``meta.find_undeclared_variables`` runs the code generator, which costs a
    millisecond per template at every catalog load; a walk over the syntax tree is enough
    for telling which fields of the resource a template names.
    """
    stored: set[str] = set(_TEMPLATE_GLOBALS)
    loaded: set[str] = set()
    for node in ast.find_all(nodes.Name):
        (loaded if node.ctx == "load" else stored).add(node.name)
    for macro in ast.find_all(nodes.Macro):
        stored.add(macro.name)
    return loaded - stored


class Offending:
    """``offending(path)``: items named by the failing quantifier evidence at ``path``."""

    def __init__(self, document: Mapping[str, Any], evidence: Sequence[Evidence]) -> None:
        self._document = document
        self._indices: dict[str, list[int]] = {}
        for item in evidence:
            if item.op in _QUANTIFIERS and isinstance(item.actual, dict):
                found = item.actual.get("offending") or []
                self._indices.setdefault(item.path, [o["index"] for o in found])

    def __call__(self, path: str) -> list[Any]:
        items = resolve(self._document, parse_path(path))
        if not isinstance(items, list):
            return []
        indices = self._indices.get(path, [])
        return [items[i] for i in indices if 0 <= i < len(items)]


class Renderer:
    """Compiles templates on first use and renders them for one resource at a time."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], jinja2.Template] = {}

    def template(self, lang: str, text: str) -> jinja2.Template:
        key = (lang, text)
        found = self._cache.get(key)
        if found is None:
            env = _ENVS[lang]
            found = env.from_string(text)
            self._cache[key] = found
        return found

    def render(
        self,
        texts: Mapping[str, str],
        document: Mapping[str, Any],
        identity: Mapping[str, str],
        evidence: Sequence[Evidence],
        now: datetime,
    ) -> dict[str, str]:
        """Render ``{lang: template}``; every language gets one sentence, never an exception."""
        context = _context(document, identity, evidence, now)
        out: dict[str, str] = {}
        for lang, text in texts.items():
            out[lang] = self._safe_render(lang, text, context)
        return out

    def render_all(
        self,
        texts: Iterable[str],
        document: Mapping[str, Any],
        identity: Mapping[str, str],
        evidence: Sequence[Evidence],
        now: datetime,
    ) -> tuple[str, ...]:
        context = _context(document, identity, evidence, now)
        return tuple(self._safe_render("en", text, context) for text in texts)

    def render_finding(
        self,
        statement: Mapping[str, str],
        commands: Sequence[str],
        document: Mapping[str, Any],
        identity: Mapping[str, str],
        evidence: Sequence[Evidence],
        now: datetime,
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """The statement per language and the commands of one failing resource.

        The English statement and the commands are rendered as one template (one context,
        one call), which halves the cost of a failure; a template error falls back to
        rendering each part on its own so one bad command cannot spoil the statement.
        """
        context = _context(document, identity, evidence, now)
        out: dict[str, str] = {}
        rendered_commands: tuple[str, ...] = ()
        for lang, text in statement.items():
            if lang != "en" or not commands:
                out[lang] = self._safe_render(lang, text, context)
                continue
            joined = _PART.join((text, *commands))
            try:
                parts = self.template(lang, joined).render(context).split(_PART)
            except Exception:
                parts = []
            if len(parts) != len(commands) + 1:
                out[lang] = self._safe_render(lang, text, context)
                rendered_commands = tuple(self._safe_render(lang, c, context) for c in commands)
                continue
            out[lang] = _one_line(parts[0])
            rendered_commands = tuple(_one_line(part) for part in parts[1:])
        if commands and not rendered_commands:
            rendered_commands = tuple(self._safe_render("en", c, context) for c in commands)
        return out, rendered_commands

    def _safe_render(self, lang: str, text: str, context: dict[str, Any]) -> str:
        try:
            rendered = self.template(lang, text).render(context)
        except Exception as exc:  # a template must never stop an evaluation
            return f"{text} [{type(exc).__name__}: {exc}]"
        rendered = _one_line(rendered)
        return close_stray_spaces(rendered) if lang == "ja" else rendered


_SPACES = re.compile(r"\s+")
_PART = "\ue000"  # joins the parts of one rendering (private use: in no template)


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _context(
    document: Mapping[str, Any],
    identity: Mapping[str, str],
    evidence: Sequence[Evidence],
    now: datetime,
) -> dict[str, Any]:
    def days_ago(value: Any) -> Any:
        moment = parse_time(value)
        if moment is None:
            return value
        return int((now - moment).total_seconds() // 86400)

    context: dict[str, Any] = {k: v for k, v in document.items() if isinstance(k, str)}
    context.update(
        resource=dict(identity),
        doc=document,
        offending=Offending(document, evidence),
        now=now,
    )
    # a filter that needs the evaluation clock is bound per rendering
    context["__days_ago"] = days_ago
    return context


def _install_days_ago() -> None:
    """``days_ago`` reads the clock of the rendering context."""

    @jinja2.pass_context
    def days_ago(ctx: jinja2.runtime.Context, value: Any) -> Any:
        func = ctx.get("__days_ago")
        return func(value) if callable(func) else value

    for env in _ENVS.values():
        env.filters["days_ago"] = days_ago


_install_days_ago()

RENDERER = Renderer()
