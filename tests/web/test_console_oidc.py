"""Single sign-on through an OpenID provider: the console against the local provider
(``posture.localapi.oidc``) over HTTPS, with the real HTTP client, the real JOSE library
and the provider's documented answers, including every way an ID token can be wrong."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from posture.catalog import Catalog
from posture.errors import AuthenticationFailed, ConfigurationError, SignOnFailed, UsageError
from posture.localapi.oidc import FakeOidc, RunningOidc, oidc_server
from posture.operations import Operations
from posture.operations.access import Role
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.identity import (
    add_user,
    authenticate,
    create_session,
    disable_user,
    list_users,
    session_state,
    set_email,
)
from posture.store import Store, UserAccount
from posture.store.types import utcnow
from posture.web.app import create_app
from posture.web.oidc import OidcClient, Pending
from posture.web.settings import WebSettings
from tests.web.console_support import PASSWORD, Seeded

SECRET_ENV = "POSTURE_TEST_OIDC_SECRET"
BASE = "http://testserver"


@dataclass
class Sso:
    client: TestClient
    provider: RunningOidc
    ops: Operations
    store: Store

    @property
    def fake(self) -> FakeOidc:
        return self.provider.fake

    def sign_on(self, person: dict[str, object] | None, *, after: str = "/") -> httpx.Response:
        """The browser's round trip: console -> provider -> console callback."""
        self.fake.person = person
        start = self.client.get("/login/oidc", params={"next": after}, follow_redirects=False)
        assert start.status_code == 303, start.text
        location = start.headers["location"]
        assert location.startswith(self.provider.issuer + "/authorize?")
        with httpx.Client(verify=str(self.provider.ca_bundle)) as browser:
            answer = browser.get(location)
        assert answer.status_code == 302, answer.text
        back = answer.headers["location"]
        assert back.startswith(f"{BASE}/login/oidc/callback?")
        return self.client.get(back, follow_redirects=False)

    def signed_in(self, response: httpx.Response) -> bool:
        return "posture_session" in response.headers.get("set-cookie", "")


def settings_for(provider: RunningOidc, tmp_path: Path, **extra: object) -> WebSettings:
    return WebSettings(
        db_url=f"sqlite:///{tmp_path / 'console.db'}",
        files_dir=tmp_path / "f",
        base_url=BASE,
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.fake.client_id,
        oidc_client_secret_env=SECRET_ENV,
        oidc_ca_bundle=provider.ca_bundle,
        oidc_name="Contoso ID",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningOidc]:
    monkeypatch.setenv(SECRET_ENV, "local-client-secret")
    fake = FakeOidc(redirect_uris=[f"{BASE}/login/oidc/callback"])
    with oidc_server(tmp_path, fake) as running:
        yield running


def _app(
    store: Store, catalog: Catalog, provider: RunningOidc, tmp_path: Path, **extra: object
) -> Iterator[Sso]:
    ops = Operations.using(store, catalog)
    app = create_app(settings_for(provider, tmp_path, **extra), ops=ops)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield Sso(client, provider, ops, store)


@pytest.fixture
def sso(
    console_store: Store, catalog: Catalog, seeded: Seeded, provider: RunningOidc, tmp_path: Path
) -> Iterator[Sso]:
    yield from _app(console_store, catalog, provider, tmp_path)


def _person(email: str = "olivia@acme.example", sub: str = "00u-olivia", **more: object) -> dict:
    return {"sub": sub, "email": email, "email_verified": True, "name": "Olivia"} | more


def _olivia(ops: Operations, **kw: object) -> None:
    kw.setdefault("password", PASSWORD)
    add_user(
        ops,
        "olivia",
        role=Role.CUSTOMER_VIEWER,
        tenant="acme",
        email="Olivia@Acme.example",
        **kw,  # type: ignore[arg-type]
    )


def _audit(ops: Operations, action: str) -> list[dict]:
    """The details of the entries of one action, newest first."""
    rows = list_audit(ops, AuditQuery(actions=(action,), limit=50))
    return [r.details | {"target": r.target} for r in reversed(rows)]


def _user(store: Store, name: str) -> UserAccount:
    with store.session() as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == name)).one()
        session.expunge(user)
        return user


# --- the flow ----------------------------------------------------------------------


def test_the_login_page_offers_single_sign_on_only_when_a_provider_is_configured(
    sso: Sso, client: TestClient
) -> None:
    page = sso.client.get("/login?next=/findings")
    assert "Contoso ID" in page.text and "/login/oidc?next=/findings" in page.text
    plain = client.get("/login")
    assert 'data-testid="sso"' not in plain.text
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_a_verified_address_links_the_account_at_the_first_sign_on_and_the_subject_after(
    sso: Sso,
) -> None:
    _olivia(sso.ops)
    start = sso.client.get("/login/oidc", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["response_type"] == ["code"] and "openid" in query["scope"][0].split()
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [f"{BASE}/login/oidc/callback"]

    done = sso.sign_on(_person(), after="/findings")
    assert done.status_code == 303 and done.headers["location"] == "/findings"
    assert sso.signed_in(done)
    assert sso.client.get("/").status_code == 200  # the dashboard, signed in
    assert "olivia" in sso.client.get("/").text
    user = _user(sso.store, "olivia")
    assert user.oidc_subject == f"{sso.provider.issuer}|00u-olivia"
    assert [u.sso_linked for u in list_users(sso.ops, "acme") if u.username == "olivia"] == [True]
    login = _audit(sso.ops, "user.login")[0]
    assert login["method"] == "oidc" and login["linked"] is True and login["target"] == "olivia"

    # the provider now reports another address: the subject alone still signs in
    sso.client.cookies.clear()
    again = sso.sign_on(_person(email="olivia.new@acme.example"))
    assert again.status_code == 303 and sso.signed_in(again)
    assert _audit(sso.ops, "user.login")[0]["linked"] is False
    # another identity bringing the linked account's address links nothing
    sso.client.cookies.clear()
    other = sso.sign_on(_person(sub="00u-mallory"))
    assert other.status_code == 403 and not sso.signed_in(other)


def test_nobody_is_added_by_single_sign_on(sso: Sso) -> None:
    with sso.store.session() as session:
        before = session.exec(select(func.count()).select_from(UserAccount)).one()
    refused = sso.sign_on(_person(email="stranger@elsewhere.example", sub="00u-x"))
    assert refused.status_code == 403 and not sso.signed_in(refused)
    assert "No account here is linked" in refused.text
    with sso.store.session() as session:
        assert session.exec(select(func.count()).select_from(UserAccount)).one() == before
    failed = _audit(sso.ops, "user.login_failed")[0]
    assert failed["method"] == "oidc" and failed["reason"] == "not_linked"


def test_an_unverified_address_links_nothing_unless_the_provider_is_trusted_for_it(
    console_store: Store, catalog: Catalog, seeded: Seeded, provider: RunningOidc, tmp_path: Path
) -> None:
    strict = next(_app(console_store, catalog, provider, tmp_path))
    _olivia(strict.ops)
    refused = strict.sign_on(_person(email_verified=False))
    assert refused.status_code == 403 and not strict.signed_in(refused)
    assert _audit(strict.ops, "user.login_failed")[0]["reason"] == "unverified_email"
    no_claim = _person()
    del no_claim["email_verified"]  # Entra ID sends no email_verified claim
    assert strict.sign_on(no_claim).status_code == 403
    assert _user(console_store, "olivia").oidc_subject is None

    trusting = next(_app(console_store, catalog, provider, tmp_path, oidc_trust_email=True))
    linked = trusting.sign_on(no_claim)
    assert linked.status_code == 303 and trusting.signed_in(linked)


def test_disabled_and_locked_accounts_stay_out(sso: Sso) -> None:
    _olivia(sso.ops)
    assert sso.sign_on(_person()).status_code == 303  # linked
    with sso.store.session() as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == "olivia")).one()
        user.locked_until = utcnow() + timedelta(minutes=10)
        session.add(user)
    sso.client.cookies.clear()
    locked = sso.sign_on(_person())
    assert locked.status_code == 401 and not sso.signed_in(locked)
    assert "locked" in locked.text
    with sso.store.session() as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == "olivia")).one()
        user.locked_until = None
        session.add(user)
    disable_user(sso.ops, "olivia")
    disabled = sso.sign_on(_person())
    assert disabled.status_code == 401 and not sso.signed_in(disabled)
    reasons = [d["reason"] for d in _audit(sso.ops, "user.login_failed")]
    assert reasons[:2] == ["disabled", "locked"]


def test_single_sign_on_voids_a_one_time_password_never_used(sso: Sso) -> None:
    _, one_time = add_user(
        sso.ops, "owen", role=Role.ANALYST, email="owen@provider.example", password=None
    )
    assert one_time
    done = sso.sign_on(_person(email="owen@provider.example", sub="00u-owen"))
    assert done.status_code == 303 and done.headers["location"] == "/"  # no password page
    assert _user(sso.store, "owen").must_change_password is False
    with pytest.raises(AuthenticationFailed):
        authenticate(sso.ops, "owen", one_time)


def test_a_planted_session_cookie_is_ended_and_the_target_stays_on_this_site(sso: Sso) -> None:
    _olivia(sso.ops)
    add_user(sso.ops, "mallory", role=Role.CUSTOMER_VIEWER, tenant="beta", password=PASSWORD)
    planted = create_session(sso.ops, authenticate(sso.ops, "mallory", PASSWORD)).token
    sso.client.cookies.set("posture_session", planted, domain="testserver.local")
    done = sso.sign_on(_person(), after="//evil.example/x")
    assert done.headers["location"] == "/"
    issued = sso.client.cookies.get("posture_session", domain="testserver.local")
    assert issued not in (None, planted)
    assert session_state(sso.ops, planted) is None  # the planted session is over


# --- what the callback refuses ------------------------------------------------------


def test_a_callback_without_this_browsers_sign_in_is_refused(sso: Sso) -> None:
    _olivia(sso.ops)

    def callback() -> str:
        sso.fake.person = _person()
        start = sso.client.get("/login/oidc", follow_redirects=False)
        with httpx.Client(verify=str(sso.provider.ca_bundle)) as browser:
            return str(browser.get(start.headers["location"]).headers["location"])

    back = callback()
    # another browser (no cookie) presenting the real callback
    stranger = TestClient(sso.client.app, base_url=BASE)
    refused = stranger.get(back, follow_redirects=False)
    assert refused.status_code == 400 and "posture_session" not in refused.headers.get(
        "set-cookie", ""
    )
    # the right browser signs in once; the same callback again is refused
    assert sso.client.get(back, follow_redirects=False).status_code == 303
    sso.client.cookies.delete("posture_session")
    assert sso.client.get(back, follow_redirects=False).status_code == 400
    # a forged state ends the sign-in under way: the real callback after it is refused too
    back = callback()
    assert (
        sso.client.get(back.replace("state=", "state=x"), follow_redirects=False).status_code == 400
    )
    assert sso.client.get(back, follow_redirects=False).status_code == 400


def test_a_cancelled_sign_in_at_the_provider_says_so(sso: Sso) -> None:
    cancelled = sso.sign_on(None)
    assert cancelled.status_code == 401 and "cancelled" in cancelled.text


@pytest.mark.parametrize(
    "fault",
    [
        "wrong_issuer",
        "wrong_audience",
        "expired",
        "future",
        "wrong_nonce",
        "no_nonce",
        "foreign_key",
        "alg_none",
        "hs256",
    ],
)
def test_an_id_token_that_cannot_be_trusted_signs_nobody_in(sso: Sso, fault: str) -> None:
    _olivia(sso.ops)
    sso.fake.fault = fault
    refused = sso.sign_on(_person())
    assert refused.status_code == 401, fault
    assert not sso.signed_in(refused) and "Single sign-on failed" in refused.text
    assert _user(sso.store, "olivia").oidc_subject is None
    failed = _audit(sso.ops, "user.login_failed")[0]
    assert failed["method"] == "oidc" and failed["reason"]


def test_keys_rotated_by_the_provider_are_fetched_again(sso: Sso) -> None:
    _olivia(sso.ops)
    assert sso.sign_on(_person()).status_code == 303
    sso.fake.rotate()
    sso.client.cookies.clear()
    assert sso.sign_on(_person()).status_code == 303
    assert sso.fake.requests.count(("GET", "/jwks")) == 2


def test_a_provider_that_takes_only_client_secret_post_is_answered_so(sso: Sso) -> None:
    _olivia(sso.ops)
    sso.fake.auth_methods = ("client_secret_post",)
    assert sso.sign_on(_person()).status_code == 303


def test_an_unreachable_provider_leaves_the_password_sign_in_working(
    console_store: Store, catalog: Catalog, seeded: Seeded, tmp_path: Path
) -> None:
    settings = WebSettings(
        db_url=f"sqlite:///{tmp_path / 'console.db'}",
        files_dir=tmp_path / "f",
        base_url=BASE,
        oidc_issuer="https://127.0.0.1:9",
        oidc_client_id="posture-console",
    )
    app = create_app(settings, ops=Operations.using(console_store, catalog))
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        page = client.get("/login/oidc", follow_redirects=False)
        assert page.status_code == 503 and "cannot be reached" in page.text
        assert 'name="password"' in page.text


def test_the_code_exchange_needs_the_verifier_of_the_request(
    provider: RunningOidc, tmp_path: Path
) -> None:
    client = OidcClient(settings_for(provider, tmp_path))
    provider.fake.person = _person()
    url, pending = client.begin("/")
    with httpx.Client(verify=str(provider.ca_bundle)) as browser:
        back = browser.get(url).headers["location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    other = Pending(pending.state, pending.nonce, "x" * 60, "/", pending.started)
    with pytest.raises(SignOnFailed, match="refused the code"):
        client.finish(other, code)
    client.close()


def test_a_stale_or_malformed_pending_cookie_is_no_sign_in() -> None:
    pending = Pending("s", "n", "v", "/", 1_000)
    assert Pending.from_cookie(pending.cookie(), now=1_100) == pending
    assert Pending.from_cookie(pending.cookie(), now=1_000 + 601) is None
    assert Pending.from_cookie("not base64 json!") is None
    assert Pending.from_cookie("") is None


def test_the_discovery_document_must_name_the_configured_issuer(
    provider: RunningOidc, tmp_path: Path
) -> None:
    settings = settings_for(provider, tmp_path).model_copy(
        update={"oidc_issuer": provider.issuer + "/"}
    )
    client = OidcClient(settings)
    with pytest.raises(SignOnFailed, match="names issuer"):
        client.begin("/")
    client.close()


# --- addresses ----------------------------------------------------------------------


def test_addresses_are_checked_kept_in_lower_case_and_unique(sso: Sso) -> None:
    _olivia(sso.ops)
    assert _user(sso.store, "olivia").email == "olivia@acme.example"
    with pytest.raises(UsageError, match="invalid e-mail"):
        set_email(sso.ops, "olivia", "not-an-address")
    with pytest.raises(ConfigurationError, match="already belongs"):
        add_user(sso.ops, "olga", role=Role.ANALYST, email="OLIVIA@acme.example")
    assert sso.sign_on(_person()).status_code == 303
    moved = set_email(sso.ops, "olivia", "olivia@acme.co.jp")
    assert moved.email == "olivia@acme.co.jp" and moved.sso_linked is False
    assert _audit(sso.ops, "user.email")[0]["sso_unlinked"] is True
    sso.client.cookies.clear()
    assert sso.sign_on(_person()).status_code == 403  # the old address links no more


def test_the_api_and_the_console_set_addresses(sso: Sso) -> None:
    from posture.operations.identity import create_token

    add_user(sso.ops, "root", role=Role.PROVIDER_ADMIN, password=PASSWORD)
    _, secret = create_token(sso.ops, "root", name="t", scopes=None, expires_days=1)
    auth = {"Authorization": f"Bearer {secret}"}
    made = sso.client.post(
        "/api/v1/users",
        json={"username": "pia", "role": "analyst", "email": "pia@provider.example"},
        headers=auth,
    )
    assert made.status_code == 201 and made.json()["user"]["email"] == "pia@provider.example"
    changed = sso.client.post(
        "/api/v1/users/pia/email", json={"email": "pia@elsewhere.example"}, headers=auth
    )
    assert changed.status_code == 200 and changed.json()["email"] == "pia@elsewhere.example"
    bad = sso.client.post("/api/v1/users/pia/email", json={"email": "nope"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["code"]


def test_a_client_secret_variable_that_is_not_set_stops_the_app_at_start(
    provider: RunningOidc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(ConfigurationError, match=SECRET_ENV):
        create_app(settings_for(provider, tmp_path))


def test_posture_serve_reads_the_single_sign_on_settings_from_its_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "POSTURE_WEB_OIDC_ISSUER": "https://login.example.jp/tenant/v2.0",
        "POSTURE_WEB_OIDC_CLIENT_ID": "app-1",
        "POSTURE_WEB_OIDC_CLIENT_SECRET_ENV": SECRET_ENV,
        "POSTURE_WEB_OIDC_NAME": "Example ID",
        "POSTURE_WEB_OIDC_SCOPES": "openid email",
        "POSTURE_WEB_OIDC_CA_BUNDLE": str(tmp_path / "ca.pem"),
        "POSTURE_WEB_OIDC_TRUST_EMAIL": "true",
    }.items():
        monkeypatch.setenv(name, value)
    settings = WebSettings.from_env()
    assert settings.oidc_enabled and settings.oidc_client_id == "app-1"
    assert (settings.oidc_name, settings.oidc_scopes) == ("Example ID", "openid email")
    assert settings.oidc_ca_bundle == tmp_path / "ca.pem" and settings.oidc_trust_email is True
    monkeypatch.setenv("POSTURE_WEB_OIDC_TRUST_EMAIL", "sometimes")
    with pytest.raises(ConfigurationError, match="POSTURE_WEB_OIDC_TRUST_EMAIL"):
        WebSettings.from_env()
    monkeypatch.delenv("POSTURE_WEB_OIDC_ISSUER")
    monkeypatch.delenv("POSTURE_WEB_OIDC_TRUST_EMAIL")
    assert WebSettings.from_env().oidc_enabled is False
