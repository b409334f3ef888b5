"""Turn pydantic validation errors into ``ContentError`` naming file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from posture.errors import ContentError
from posture.yamlload import LocatedDocument, dotted

M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M],
    doc: LocatedDocument,
    data: Any,
    base: tuple[str | int, ...] = (),
    context: dict[str, Any] | None = None,
) -> M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise content_error(doc, exc, base) from None


def content_error(
    doc: LocatedDocument, exc: ValidationError, base: tuple[str | int, ...] = ()
) -> ContentError:
    """The first problem as the error's message; every problem in ``problems``."""
    problems = [_problem(doc, error, base) for error in exc.errors()]
    first = problems[0]
    extra = f" ({len(problems) - 1} more problem(s) in this file)" if len(problems) > 1 else ""
    return ContentError(
        first.detail + extra,
        path=doc.path,
        line=first.line,
        field=first.field,
        problems=problems,
    )


def _problem(
    doc: LocatedDocument, error: ErrorDetails, base: tuple[str | int, ...]
) -> ContentError:
    loc = (*base, *error["loc"])
    # pydantic appends the failing validator's name for unions / function validators
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    ctx = error.get("ctx") or {}
    inner_loc = getattr(ctx.get("error"), "loc", None)
    if inner_loc:
        loc = (*base, *inner_loc)
    if error["type"] == "missing":
        msg = "is required"
    elif error["type"] == "extra_forbidden":
        msg = "is not a known field"
    return ContentError(msg, path=doc.path, line=doc.line_of(loc), field=dotted(loc) or None)


def wrap(doc: LocatedDocument, loc: tuple[str | int, ...], fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a ``ContentError`` without location gets this document's."""
    try:
        return fn()
    except ContentError as exc:
        if exc.path:
            raise
        raise ContentError(
            exc.message, path=doc.path, line=doc.line_of(loc), field=dotted(loc)
        ) from exc
