"""A paused tenant's pages carry a banner with the reason, in the reader's language."""

from __future__ import annotations

from starlette.requests import Request

from posture.operations.dashboard import TenantView
from posture.report.i18n import load_messages
from posture.web.console.render import environment


def _page(lang: str, tenant: TenantView) -> str:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/t/acme",
            "query_string": b"",
            "headers": [],
            "server": ("testserver", 80),
            "scheme": "http",
        }
    )
    return (
        environment()
        .get_template("base.html.j2")
        .render(
            request=request,
            lang=lang,
            t=load_messages(lang),
            principal=None,
            provider=False,
            can=lambda _: False,
            csrf="",
            tenant=tenant,
            section="",
            notice="",
        )
    )


def _tenant(paused: bool, reason: str = "") -> TenantView:
    return TenantView(
        id="t1",
        slug="acme",
        name="Acme",
        locale="ja",
        timezone="Asia/Tokyo",
        paused=paused,
        paused_reason=reason,
        setting_repair=False,
    )


def test_paused_banner_names_the_reason() -> None:
    html = _page("en", _tenant(True, "contract <ended>"))
    assert 'data-testid="paused-banner"' in html
    assert "The service of this tenant is paused: contract &lt;ended&gt;" in html
    assert "一時停止中" in _page("ja", _tenant(True))


def test_no_banner_for_an_active_tenant() -> None:
    assert 'data-testid="paused-banner"' not in _page("en", _tenant(False))


def test_tenant_view_reads_the_pause_and_the_setting_repair_option() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from posture.operations.dashboard import tenant_view

    row = SimpleNamespace(
        id="t1",
        slug="acme",
        name="Acme",
        locale="en",
        timezone="UTC",
        options={"setting_repair": {"enabled": True}},
        paused_at=datetime(2026, 1, 5, tzinfo=UTC),
        paused_reason="unpaid",
    )
    view = tenant_view(row)  # type: ignore[arg-type]
    assert (view.paused, view.paused_reason, view.setting_repair) == (True, "unpaid", True)
    active = SimpleNamespace(**{**vars(row), "paused_at": None, "options": {}})
    assert tenant_view(active).paused is False  # type: ignore[arg-type]
