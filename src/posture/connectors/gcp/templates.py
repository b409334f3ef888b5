"""Templates of the Google Cloud specs: ``{field}``, ``{field|basename}``, scan variables."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jmespath

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\[\]\-]+)(?:\|([a-z_]+))?\}")


def _basename(value: Any) -> str:
    """The last path segment of a URL or resource name (``zones/us-central1-a`` -> the zone)."""
    return str(value).rstrip("/").rsplit("/", 1)[-1]


def _location(value: Any) -> str:
    """The segment after ``locations/`` (or ``regions/``, ``zones/``) of a resource name;
    ``global`` when it names none."""
    found = re.search(r"(?:^|/)(?:locations|regions|zones)/([^/]+)", str(value))
    return found.group(1) if found else "global"


FILTERS: dict[str, Callable[[Any], Any]] = {"basename": _basename, "location": _location}
# scan variables a template may read, and the scopes that have them
SCAN_VARIABLES = {
    "project_id": ("project",),
    "project_number": ("project",),
    "organization_id": ("organization",),
}


class SpecError(Exception):
    """A spec asks for something this collector cannot do (a missing field, an unknown name)."""


def placeholders(template: Any) -> list[tuple[str, str | None]]:
    """Every (name, filter) a template (or a structure of them) reads."""
    if isinstance(template, dict):
        return [p for v in template.values() for p in placeholders(v)]
    if isinstance(template, list):
        return [p for v in template for p in placeholders(v)]
    if not isinstance(template, str):
        return []
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]


def render(template: Any, doc: Any, ctx: dict[str, Any]) -> Any:
    """Fill placeholders from ``ctx`` then the document; a lone one keeps its value's type."""
    if isinstance(template, dict):
        return {k: render(v, doc, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, doc, ctx) for v in template]
    if not isinstance(template, str):
        return template

    def value(match: re.Match[str]) -> Any:
        name, name_filter = match.group(1), match.group(2)
        head = name.split(".", 1)[0]
        if name in ctx:
            found = ctx[name]
        elif head in ctx and "." in name:
            found = jmespath.search(name.split(".", 1)[1], ctx[head])
        else:
            found = jmespath.search(name, doc) if isinstance(doc, dict) else None
        if found is None:
            raise SpecError(f"field '{name}' is missing")
        if name_filter:
            if name_filter not in FILTERS:
                raise SpecError(f"unknown template filter '{name_filter}'")
            found = FILTERS[name_filter](found)
        return found

    whole = PLACEHOLDER.fullmatch(template)
    if whole:
        return value(whole)
    return PLACEHOLDER.sub(lambda m: str(value(m)), template)
