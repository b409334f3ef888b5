"""Fixes written as steps: templated client calls, read back and compared.

A string that is one ``{{ expression }}`` becomes the expression's value (a mapping stays a
mapping, ``true`` stays a bool); any other string is rendered as text. Templates see
``resource`` (type, uid, name, region, account, tags), ``data`` (the resource's stored
configuration), ``params`` (the fix's parameters), ``before`` and, in apply and restore,
``after``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from posture.catalog.fix import FixCall, FixRead
from posture.remediate.registry import FixContext, ProviderCallError

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_WHOLE = re.compile(r"^\{\{\s*(.+?)\s*\}\}$", re.DOTALL)


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """``value`` with every template in it filled from ``variables``."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole and "{{" not in whole.group(1):
            return _ENV.compile_expression(whole.group(1), undefined_to_none=False)(**variables)
        if "{{" in value or "{%" in value:
            return _ENV.from_string(value).render(**variables)
        return value
    if isinstance(value, Mapping):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def holds(expression: str | None, variables: Mapping[str, Any]) -> bool:
    if expression is None:
        return True
    return bool(_ENV.compile_expression(expression, undefined_to_none=False)(**variables))


def pick(answer: Any, path: str | None) -> Any:
    """The value at a dotted path (integers index lists); missing parts give null."""
    value = answer
    for part in (path or "").split(".") if path else []:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def variables(ctx: FixContext, **states: Any) -> dict[str, Any]:
    return {
        "resource": ctx.target.as_dict(),
        "data": dict(ctx.target.data),
        "params": dict(ctx.fix.params),
        **states,
    }


def run_call(ctx: FixContext, step: FixCall, values: Mapping[str, Any]) -> dict[str, Any]:
    region = render(step.region, values) if step.region else ctx.target.region
    args = render(step.args, values)
    return ctx.client.call(step.service, step.operation, args, region=str(region))


def run_steps(ctx: FixContext, steps: Sequence[FixCall], values: Mapping[str, Any]) -> None:
    for step in steps:
        if holds(step.when, values):
            run_call(ctx, step, values)


def read_state(ctx: FixContext, read: FixRead, values: Mapping[str, Any]) -> Any:
    try:
        answer = run_call(ctx, read, values)
    except ProviderCallError as exc:
        if exc.code and exc.code in read.absent_on:
            return None
        raise
    return _plain(pick(answer, read.pick))


def _plain(value: Any) -> Any:
    """JSON-shaped: dates and other values as strings, so states compare after storing."""
    import json

    return json.loads(json.dumps(value, default=str))


class DeclarativeHandler:
    """Runs a fix file's ``read`` / ``desired`` / ``apply`` / ``restore`` steps."""

    def read(self, ctx: FixContext) -> Any:
        assert ctx.fix.read is not None
        return read_state(ctx, ctx.fix.read, variables(ctx))

    def desired(self, ctx: FixContext, before: Any) -> Any:
        return _plain(render(ctx.fix.desired, variables(ctx, before=before)))

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        run_steps(ctx, ctx.fix.apply, variables(ctx, before=before, after=after))

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        run_steps(ctx, ctx.fix.restore, variables(ctx, before=before, after=current))
