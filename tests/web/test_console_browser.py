"""The console in headless Chromium: sign-in, dashboard, findings, waiver, report download.

A uvicorn server runs the web app in a thread over a seeded SQLite store (two tenants).
Run once in English (a provider administrator working on both tenants) and once in
Japanese (a customer administrator), and as a customer viewer who tries to reach the
other tenant by guessed URLs. Every page is checked for Content-Security-Policy
violations: the console has no inline script or style.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import Store
from tests.web.console_support import ADMIN, ANALYST, CUSTOMER_ADMIN, PASSWORD, VIEWER, seed

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """The app on a uvicorn server in a thread until the block ends; its base URL."""
    import uvicorn

    port = port or _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        if not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[str]:
    from posture.web.app import create_app
    from posture.web.settings import WebSettings

    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'console.db'}"
    store = Store(url)
    seed(store, catalog)
    app = create_app(
        WebSettings(db_url=url, files_dir=folder / "files"),
        ops=Operations.using(store, catalog),
    )
    with serving(app) as base:
        yield base
    store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Session:
    """One browser context (its own cookies) in one language, recording CSP violations."""

    def __init__(self, browser: Any, base: str, locale: str, **options: Any) -> None:
        self.base = base
        self.context = browser.new_context(locale=locale, accept_downloads=True, **options)
        self.page = self.context.new_page()
        self.violations: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit].primary")
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


def _waive_first_finding(session: Session, slug: str, submit: str, waived: str) -> None:
    page = session.page
    session.go(f"/t/{slug}/findings")
    page.click("[data-testid=finding-link] >> nth=0")
    page.wait_for_selector("[data-testid=waive-form]")
    page.fill("textarea[name=reason]", "compensating control in place")
    page.click(f"text={submit}")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=finding-state]") == waived


def _download_report(session: Session, slug: str, submit: str, tmp_path: Path) -> str:
    page = session.page
    session.go(f"/t/{slug}/reports")
    page.click(f"[data-testid=generate-form] >> text={submit}")
    page.wait_for_selector("[data-testid=report-download]")
    with page.expect_download() as download:
        page.click("[data-testid=report-download] >> nth=0")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    return target.read_text(encoding="utf-8")


#: what the provider flow reads and clicks, per language
LABELS = {
    "en": {
        "dashboard": "Dashboard",
        "findings": "Findings",
        "total": "findings",
        "waive": "Record the waiver",
        "waived": "Waived",
        "generate": "Generate",
        "switch": "Switch tenant",
    },
    "ja": {
        "dashboard": "ダッシュボード",
        "findings": "検出事項",
        "total": "件の検出事項",
        "waive": "リスク受容を登録",
        "waived": "リスク受容",
        "generate": "作成",
        "switch": "テナントを切り替える",
    },
}


@pytest.mark.parametrize(
    ("username", "locale", "lang"), [(ADMIN, "en-US", "en"), (ANALYST, "ja-JP", "ja")]
)
def test_provider_user_works_on_both_tenants(
    browser: Any, server: str, tmp_path: Path, username: str, locale: str, lang: str
) -> None:
    words = LABELS[lang]
    session = Session(browser, server, locale)
    page = session.page
    session.login(username)
    assert page.url.endswith("/tenants")
    for slug, name in (("acme", "Acme"), ("beta", "Beta")):
        page.click(f"[data-testid=tenant-link] >> text={name}")
        page.wait_for_load_state()
        assert page.inner_text("h1") == words["dashboard"]
        assert page.inner_text("[data-testid=tenant-name]") == name
        assert page.locator("svg.chart").count() == 1
        page.click(f"nav.main >> text={words['findings']}")
        assert words["total"] in page.inner_text("[data-testid=findings-total]")
        _waive_first_finding(session, slug, words["waive"], words["waived"])
        report = _download_report(session, slug, words["generate"], tmp_path)
        assert name in report
        assert f'lang="{lang}"' in report
        page.click(f"text={words['switch']}")
    hostile = page.goto(server + "/t/acme/findings?state=all&q=script")
    assert hostile is not None
    assert "<script>alert(1)</script>" in page.inner_text("[data-testid=findings-table]")
    assert page.evaluate("() => document.querySelectorAll('main script').length") == 0
    assert session.violations == []
    session.close()


def test_customer_admin_in_japanese(browser: Any, server: str, tmp_path: Path) -> None:
    session = Session(browser, server, "ja-JP")
    page = session.page
    session.login(CUSTOMER_ADMIN)
    assert page.url.endswith("/t/acme")
    assert page.inner_text("h1") == "ダッシュボード"
    assert "接続の状態" in page.inner_text("main")
    _waive_first_finding(session, "acme", "リスク受容を登録", "リスク受容")
    report = _download_report(session, "acme", "作成", tmp_path)
    assert 'lang="ja"' in report
    page.click("[data-testid=switch-language]")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Reports"
    assert session.violations == []
    session.close()


def test_customer_viewer_cannot_reach_the_other_tenant(
    browser: Any, server: str, tmp_path: Path
) -> None:
    admin = Session(browser, server, "en-US")
    admin.login(ADMIN)
    _download_report(admin, "acme", "Generate", tmp_path)
    acme_report = admin.page.get_attribute("[data-testid=report-download] >> nth=0", "href")
    admin.go("/t/acme/findings?state=all")
    acme_finding = admin.page.get_attribute("[data-testid=finding-link] >> nth=0", "href")
    admin.close()
    assert acme_report and acme_report.startswith("/t/acme/reports/posture-acme-")
    assert acme_finding and acme_finding.startswith("/t/acme/findings/")
    finding_id = acme_finding.rsplit("/", 1)[-1]

    session = Session(browser, server, "en-US")
    page = session.page
    session.login(VIEWER)
    assert page.url.endswith("/t/beta")
    assert "Switch tenant" not in page.inner_text("header")
    for path in (
        "/t/acme",
        "/t/acme/findings",
        acme_finding,
        f"/t/beta/findings/{finding_id}",
        "/t/acme/reports",
        acme_report,
        acme_report.replace("/t/acme/", "/t/beta/"),
        "/t/acme/export/findings.csv",
        "/t/acme/schedules",
    ):
        response = session.go(path)
        assert response is not None and response.status == 404, path
        assert page.inner_text("[data-testid=error-status]") == "Not found"
        assert "acme" not in page.content().lower().replace(path.lower(), "")
    forged = session.go("/t/beta/findings?tenant=acme&state=all")
    assert forged is not None and forged.status == 200
    links = page.eval_on_selector_all(
        "[data-testid=finding-link]", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links and all(link.startswith("/t/beta/") for link in links)
    page.click("[data-testid=finding-link] >> nth=0")
    assert page.locator("[data-testid=waive-form]").count() == 0
    assert session.violations == []
    session.close()


def test_single_sign_on_in_the_browser(
    browser: Any, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign in through the local OpenID provider: console -> provider -> console dashboard."""
    from posture.localapi.oidc import FakeOidc, oidc_server
    from posture.operations.access import Role
    from posture.operations.identity import add_user
    from posture.web.app import create_app
    from posture.web.settings import WebSettings

    monkeypatch.setenv("POSTURE_TEST_OIDC_SECRET", "local-client-secret")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    person = {"sub": "00u-olivia", "email": "olivia@acme.example", "email_verified": True}
    fake = FakeOidc(redirect_uris=[f"{base}/login/oidc/callback"], person=person)
    url = f"sqlite:///{tmp_path / 'sso.db'}"
    store = Store(url)
    seed(store, catalog)
    ops = Operations.using(store, catalog)
    add_user(ops, "olivia", role=Role.CUSTOMER_VIEWER, tenant="acme", email=person["email"])
    with oidc_server(tmp_path, fake) as provider:
        settings = WebSettings(
            db_url=url,
            files_dir=tmp_path / "files",
            base_url=base,
            oidc_issuer=provider.issuer,
            oidc_client_id=fake.client_id,
            oidc_client_secret_env="POSTURE_TEST_OIDC_SECRET",
            oidc_ca_bundle=provider.ca_bundle,
            oidc_name="Contoso ID",
        )
        with serving(create_app(settings, ops=ops), port):
            # the provider's certificate is the test's own CA: the browser is told to accept it
            session = Session(browser, base, "en-US", ignore_https_errors=True)
            session.go("/login")
            session.page.click("[data-testid=sso]")
            session.page.wait_for_url(f"{base}/t/acme")
            assert "olivia" in session.page.content()
            assert ("GET", "/authorize") in fake.requests and ("POST", "/token") in fake.requests
            session.go("/t/beta")  # a customer viewer of acme still sees only acme
            assert "Beta" not in session.page.title()
            assert session.violations == []
            session.context.close()
    store.dispose()
