"""The Jinja2 environment and the static files shared by the HTML and PDF renderers.

Autoescaping is on for every template: resource names, tags and messages come from
customers' systems (principle 9). The only markup that bypasses escaping is produced
here or in ``charts``, from our own files or with every value escaped first.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from posture.content import builtin_dir
from posture.errors import ContentError


def reports_dir() -> Path:
    return builtin_dir("reports")


@lru_cache(maxsize=2)
def environment() -> Environment:
    """One environment per process: Jinja caches compiled templates inside it."""
    return Environment(
        loader=FileSystemLoader(reports_dir() / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=8)
def static_text(name: str) -> str:
    """A CSS or JS file from ``reports/static``, inlined so a report is one file."""
    path = reports_dir() / "static" / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"cannot read report asset: {exc.strerror}", path=str(path)) from exc


def trusted_static(name: str) -> Markup:
    """Our own asset as markup; refuses content that could close its ``<style>``/``<script>``."""
    content = static_text(name)
    if "</" in content:
        raise ContentError("a report asset must not contain '</'", path=name)
    return Markup(content)


def json_for_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u`` escapes, so a resource named
    ``</script><script>…`` cannot end the element early; ``JSON.parse`` restores them.
    """
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        encoded = encoded.replace(char, escaped)
    return Markup(encoded)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
