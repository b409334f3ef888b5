"""The console through plain HTTP: sign-in, CSRF, tenant walls, waivers, reports, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from posture.operations import Operations
from posture.operations.audit import AuditQuery, list_audit
from posture.store import Store
from tests.web.console_support import (
    ADMIN,
    CUSTOMER_ADMIN,
    HOSTILE,
    MISSING_PERMISSION,
    PASSWORD,
    VIEWER,
    Seeded,
    finding_ids,
    form_token,
    login,
)

SESSION = "posture_session"


def _expiry(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def test_pages_need_a_session(client: TestClient) -> None:
    response = client.get("/t/acme/findings", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login?next=/t/acme/findings"
    form = client.get(response.headers["location"])
    signed_in = client.post(
        "/login",
        data={
            "username": ADMIN,
            "password": PASSWORD,
            "csrf_token": form_token(form.text),
            "after": re.search(r'name="after" value="([^"]+)"', form.text).group(1),  # type: ignore[union-attr]
        },
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/t/acme/findings"


def test_sign_in_without_the_form_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": ADMIN, "password": "x", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert SESSION not in client.cookies


def test_wrong_password_gives_one_generic_message(client: TestClient) -> None:
    for username in (ADMIN, "nobody"):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": username, "password": "wrong", "csrf_token": form_token(page.text)},
            headers={"accept-language": "en"},
        )
        assert response.status_code == 401
        assert "The username or password is wrong." in response.text


def test_lockout_is_named_after_repeated_failures(client: TestClient) -> None:
    for _ in range(5):
        page = client.get("/login")
        client.post(
            "/login",
            data={"username": ADMIN, "password": "wrong", "csrf_token": form_token(page.text)},
        )
    page = client.get("/login", headers={"accept-language": "ja"})
    response = client.post(
        "/login",
        data={
            "username": ADMIN,
            "password": "correct horse battery staple",
            "csrf_token": form_token(page.text),
        },
        headers={"accept-language": "ja"},
    )
    assert response.status_code == 401
    assert "ロックされています" in response.text


def _sign_in(client: TestClient, username: str) -> str:
    """Sign in with whatever session cookie the client holds; the cookie issued."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    issued = response.cookies.get(SESSION)
    assert issued
    return str(issued)


def test_sign_in_issues_a_new_session_and_ends_the_old_one(client: TestClient) -> None:
    planted = _sign_in(client, ADMIN)  # a session an attacker got hold of and plants
    issued = _sign_in(client, ADMIN)  # the victim signs in with it in the browser
    assert issued != planted
    for cookie, status in ((planted, 303), (issued, 200)):
        client.cookies.clear()
        client.cookies.set(SESSION, cookie)
        assert client.get("/tenants", follow_redirects=False).status_code == status


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    token = login(client, ADMIN)
    refused = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/tenants", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/tenants", follow_redirects=False).status_code in (302, 303, 307)


def test_waive_without_csrf_token_is_refused(client: TestClient, seeded: Seeded) -> None:
    login(client, ADMIN)
    fid = finding_ids(client.get("/t/acme/findings").text, "acme")[0]
    response = client.post(
        f"/t/acme/findings/{fid}/waive",
        data={"reason": "accepted", "expires": _expiry()},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "waived" not in client.get(f"/t/acme/findings/{fid}").text.lower().split("state")[0]


def test_provider_admin_waives_with_expiry(client: TestClient, console_store: Store) -> None:
    login(client, ADMIN)
    page = client.get("/t/acme/findings")
    fid = finding_ids(page.text, "acme")[0]
    detail = client.get(f"/t/acme/findings/{fid}")
    response = client.post(
        f"/t/acme/findings/{fid}/waive",
        data={
            "reason": "compensating control",
            "expires": _expiry(30),
            "csrf_token": form_token(detail.text),
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    assert 'data-testid="finding-state">Waived' in response.text
    entries = list_audit(Operations.using(console_store), AuditQuery(actions=("waiver.add",)))
    assert [e.actor for e in entries] == [ADMIN]


def test_hostile_resource_name_is_shown_as_text(client: TestClient) -> None:
    login(client, ADMIN)
    page = client.get("/t/acme/findings?state=all")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    fid = next(
        f
        for f in finding_ids(page.text, "acme")
        if "&lt;script&gt;" in client.get(f"/t/acme/findings/{f}").text
    )
    detail = client.get(f"/t/acme/findings/{fid}").text
    assert "<script>" not in detail
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in detail


def test_no_inline_script_or_style_on_pages(client: TestClient) -> None:
    login(client, ADMIN)
    for url in ("/tenants", "/t/acme", "/t/acme/findings", "/t/acme/reports", "/audit"):
        html = client.get(url).text
        assert "<script" not in html
        assert "<style" not in html and " style=" not in html


def test_customer_viewer_sees_only_its_tenant(client: TestClient, seeded: Seeded) -> None:
    admin = login(client, ADMIN)
    acme_ids = finding_ids(client.get("/t/acme/findings").text, "acme")
    client.post("/t/acme/reports", data={"formats": "html", "languages": "en", "csrf_token": admin})
    report = re.findall(
        r'href="/t/acme/reports/(posture-[^"?]+\.html)"', client.get("/t/acme/reports").text
    )[0]
    client.cookies.clear()
    login(client, VIEWER)
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"].endswith("/t/beta")
    for url in (
        "/t/acme",
        "/t/acme/findings",
        f"/t/acme/findings/{acme_ids[0]}",
        f"/t/beta/findings/{acme_ids[0]}",
        f"/t/acme/reports/{report}",
        f"/t/beta/reports/{report}",
        "/t/acme/export/findings.csv",
        "/t/nosuch",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "acme" not in response.text.lower(), url
    tenants = client.get("/tenants", follow_redirects=False)
    assert tenants.headers["location"].endswith("/t/beta")


def test_customer_viewer_has_no_waive_form_and_a_forged_post_is_refused(
    client: TestClient,
) -> None:
    token = login(client, VIEWER)
    fid = finding_ids(client.get("/t/beta/findings").text, "beta")[0]
    detail = client.get(f"/t/beta/findings/{fid}")
    assert detail.status_code == 200
    assert 'data-testid="waive-form"' not in detail.text
    forged = client.post(
        f"/t/beta/findings/{fid}/waive",
        data={"reason": "forged", "expires": _expiry(), "csrf_token": token},
    )
    assert forged.status_code == 403
    # the viewer's account is Japanese: that wins over the browser's language
    after = client.get(f"/t/beta/findings/{fid}", headers={"accept-language": "en"}).text
    assert 'data-testid="finding-state">未対応' in after


def test_findings_filters_and_paging(client: TestClient) -> None:
    login(client, ADMIN)
    everything = client.get("/t/acme/findings?state=all&lang=en").text
    logs = client.get("/t/acme/findings?state=all&q=logs").text
    assert len(finding_ids(logs, "acme")) == 1
    assert len(finding_ids(everything, "acme")) == 4
    only_gcp = client.get("/t/acme/findings?provider=gcp").text
    assert finding_ids(only_gcp, "acme") == []
    unknown = client.get("/t/acme/findings?policy=aws.nosuch")
    assert "no policy matches" in unknown.text


def test_dashboard_shows_counts_and_connection_health(client: TestClient) -> None:
    login(client, ADMIN)
    page = client.get("/t/acme", headers={"accept-language": "en"}).text
    assert 'data-testid="health-board"' in page
    assert MISSING_PERMISSION in page
    assert "aws.kms.key" in page
    assert "<svg" in page


def test_report_generate_download_and_deliver(client: TestClient, console_store: Store) -> None:
    token = login(client, CUSTOMER_ADMIN)
    response = client.post(
        "/t/acme/reports", data={"formats": "html", "languages": "en", "csrf_token": token}
    )
    assert response.status_code == 200
    names = re.findall(r'href="/t/acme/reports/(posture-acme-[^"?]+)"', response.text)
    assert names
    download = client.get(f"/t/acme/reports/{names[0]}")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    assert "acme" in download.text.lower()
    preview = client.get(f"/t/acme/reports/{names[0]}?view=1")
    assert "sandbox" in preview.headers["content-security-policy"]
    for bad in ("..%2Fconsole.db", "posture-beta-2020-01-en.html"):
        assert client.get(f"/t/acme/reports/{bad}").status_code == 404
    listing = client.get("/t/acme/reports", headers={"accept-language": "en"})
    assert "Mark delivered" not in listing.text  # a customer administrator may not
    refused = client.post(
        f"/t/acme/reports/{names[0]}/delivered", data={"to": "x", "csrf_token": token}
    )
    assert refused.status_code == 403
    client.cookies.clear()
    token = login(client, ADMIN)
    delivered = client.post(
        f"/t/acme/reports/{names[0]}/delivered",
        data={"to": "ciso@acme.example", "csrf_token": token},
    )
    assert "ciso@acme.example" in delivered.text
    entries = list_audit(Operations.using(console_store), AuditQuery(actions=("report.deliver",)))
    assert [(e.actor, e.target) for e in entries] == [(ADMIN, names[0])]


def test_language_switch_changes_the_page(client: TestClient) -> None:
    login(client, ADMIN)
    assert "Dashboard" in client.get("/t/acme", headers={"accept-language": "ja"}).text
    client.post("/language", data={"lang": "ja", "back": "/t/acme"})
    assert "ダッシュボード" in client.get("/t/acme").text
    client.post("/language", data={"lang": "en", "back": "/t/acme"})
    assert "Dashboard" in client.get("/t/acme").text


def test_one_time_password_shown_once_then_forced_change(client: TestClient) -> None:
    token = login(client, ADMIN)
    created = client.post(
        "/users",
        data={"username": "newbie", "role": "analyst", "locale": "en", "csrf_token": token},
    )
    assert created.status_code == 200
    secret = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert secret
    assert secret.group(1) not in client.get("/users").text
    client.cookies.clear()
    page = client.get("/login")
    first = client.post(
        "/login",
        data={
            "username": "newbie",
            "password": secret.group(1),
            "csrf_token": form_token(page.text),
        },
        follow_redirects=False,
    )
    assert first.headers["location"] == "/password"
    assert client.get("/", follow_redirects=False).headers["location"] == "/password"
    form = client.get("/password")
    changed = client.post(
        "/password",
        data={
            "current": secret.group(1),
            "new": "a much better password",
            "confirm": "a much better password",
            "csrf_token": form_token(form.text),
        },
    )
    assert changed.status_code == 200


def test_the_findings_list_walks_its_pages_without_gaps_or_repeats(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import posture.web.console.pages as pages

    login(client, ADMIN)
    whole = re.findall(r'/t/acme/findings/([0-9a-f-]+)"', client.get("/t/acme/findings").text)
    assert len(whole) >= 3
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    count = (len(whole) + 1) // 2
    walked: list[str] = []
    for number in range(1, count + 1):
        page = client.get(f"/t/acme/findings?page={number}").text
        walked += re.findall(r'/t/acme/findings/([0-9a-f-]+)"', page)
    assert walked == whole
    beyond = client.get("/t/acme/findings?page=99").text  # past the end: the last page
    assert re.findall(r'/t/acme/findings/([0-9a-f-]+)"', beyond) == whole[(count - 1) * 2 :]
