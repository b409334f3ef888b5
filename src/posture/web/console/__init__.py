"""The web console: server-rendered pages over the same operations as the CLI and the API.

``router`` is mounted at ``/`` by ``posture.web.app.create_app``. Pages are Jinja2
templates under ``reports/templates/web/`` in Japanese and English (``web.*`` messages),
styled by one stylesheet under ``reports/static/web/``; no page runs a script.
``error_page`` renders the app's own errors (unknown routes, invalid forms) as console
pages when set as ``app.state.error_page``.
"""

from __future__ import annotations

from fastapi import APIRouter

from posture.web.console import admin, library, pages, signin, sso
from posture.web.console.views import console_error_page as error_page

router = APIRouter()
for part in (signin, sso, pages, library, admin):
    router.include_router(part.router)

__all__ = ["error_page", "router"]
