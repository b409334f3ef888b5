"""Rendering of console pages: the Jinja2 environment, the reader's language, page context.

Every page is rendered server-side from ``reports/templates/web/`` with autoescaping on:
resource names, tags and messages come from customers' systems (principle 9). Pages
carry no inline script or style, so the strict Content-Security-Policy of the web app
holds; charts are inline SVG drawn by ``posture.report.charts`` from escaped values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from posture.report.i18n import Messages, load_messages
from posture.report.templating import reports_dir

LANG_COOKIE = "posture_lang"
LANGUAGES = ("ja", "en")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(reports_dir() / "templates" / "web"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.globals["query"] = query
    return env


def when(moment: datetime | None) -> str:
    """A moment in UTC, to the minute; a dash when there is none."""
    if moment is None:
        return "–"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(value: date | datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d")


def query(params: Mapping[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from the current filters with ``changes`` applied (empty values dropped)."""
    merged = {**params, **changes}
    pairs = [(k, str(v)) for k, v in merged.items() if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else "?"


def language(request: Request, preferred: str | None = None) -> str:
    """The reader's language: the switch (cookie), else the account's, else the browser's."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    if preferred in LANGUAGES:
        return str(preferred)
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "ja"


def messages(lang: str) -> Messages:
    return load_messages(lang)


def render_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """One page; ``context`` must hold ``lang`` (see ``views.base_context``)."""
    html = environment().get_template(template).render(request=request, **context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    return response
