"""The app itself: health, readiness, metrics, security headers, request ids, JSON errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import Store
from posture.web import api as api_package
from posture.web.app import create_app
from posture.web.settings import WebSettings
from posture.web.state import web_state

from .conftest import Api


def test_health_and_readiness_need_no_sign_in(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "store": "ok"}


def test_readiness_fails_when_the_schema_is_behind(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("posture.operations.readiness.head_revisions", lambda: {"9999_not_applied"})
    ready = api.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "store": "behind"}


def test_readiness_fails_when_the_store_is_unreachable(catalog: Catalog, tmp_path: object) -> None:
    broken = Store("postgresql+psycopg://nobody@127.0.0.1:1/none", auto_migrate=False)
    app = create_app(WebSettings(), ops=Operations.using(broken, catalog))
    with TestClient(app, raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["store"] == "unreachable"
    assert "nobody" not in ready.text


def test_metrics_count_the_installations_workers_from_their_heartbeats(api: Api) -> None:
    from datetime import timedelta

    from posture.operations.service import WorkerBeat, record_heartbeat, worker_stopped
    from posture.store.types import utcnow

    def beat(name: str, running: int, **kw: object) -> None:
        record_heartbeat(api.ops, WorkerBeat(name, 100, ["posture.scan"], 4, running, 0), **kw)  # type: ignore[arg-type]

    beat("w1@host", 3)
    beat("w2@host", 1)
    beat("w3@host", 2, now=utcnow() - timedelta(hours=1))  # no heartbeat for an hour
    beat("w4@host", 0)
    worker_stopped(api.ops, "w4@host")
    text = api.client.get("/metrics").text
    assert 'posture_workers{state="alive"} 2.0' in text
    assert 'posture_workers{state="stopped"} 1.0' in text
    assert 'posture_workers{state="silent"} 1.0' in text
    assert "posture_workers_busy_tasks 4.0" in text  # the silent worker's 2 not counted
    assert "posture_workers_capacity 8.0" in text


def test_with_a_broker_configured_api_scans_go_to_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posture.worker.executor import CeleryExecutor

    db = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.delenv("POSTURE_EXECUTOR", raising=False)
    monkeypatch.delenv("POSTURE_BROKER_URL", raising=False)
    alone = web_state(create_app(WebSettings(db_url=db)))
    assert alone.base.executor is None and alone.scan_threads == 2
    monkeypatch.setenv("POSTURE_BROKER_URL", "redis://127.0.0.1:6379/15")
    scaled = web_state(create_app(WebSettings(db_url=db)))
    assert isinstance(scaled.base.executor, CeleryExecutor) and scaled.scan_threads == 16
    pinned = web_state(create_app(WebSettings(db_url=db, scan_threads=3)))
    assert pinned.scan_threads == 3


def test_metrics_are_prometheus_text(api: Api) -> None:
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in metrics.text


def test_security_headers_on_answers_and_errors(api: Api) -> None:
    for response in (
        api.client.get("/healthz"),
        api.client.get("/api/v1/tenants"),
        api.get("admin", "/api/v1/tenants"),
    ):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers


def test_hsts_with_secure_cookies(api_store: Store, catalog: Catalog) -> None:
    app = create_app(WebSettings(secure_cookies=True), ops=Operations.using(api_store, catalog))
    with TestClient(app) as client:
        assert "max-age" in client.get("/healthz").headers["strict-transport-security"]


def test_request_ids_are_echoed_or_made(api: Api) -> None:
    given = api.client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    assert given.headers["x-request-id"] == "trace-1234abcd"
    made = api.client.get("/healthz", headers={"X-Request-ID": "bad id\r\n"})
    assert made.headers["x-request-id"] != "bad id" and len(made.headers["x-request-id"]) == 32
    error = api.client.get("/api/v1/tenants")
    assert error.json()["error"]["request_id"] == error.headers["x-request-id"]


def test_openapi_schema_is_served_and_docs_pages_are_off(api: Api) -> None:
    schema = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/tenants/{tenant}/findings" in schema["paths"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert api.client.get("/docs").status_code == 404
    assert api.client.get("/redoc").status_code == 404


def test_without_credentials_401_json(api: Api) -> None:
    response = api.client.get("/api/v1/tenants/acme/findings")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not_authenticated"
    wrong = api.client.get("/api/v1/me", headers={"Authorization": "Bearer pst_nonsense"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"].startswith("token_")
    basic = api.client.get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert basic.status_code == 401


def test_unknown_routes_and_methods_are_json(api: Api) -> None:
    missing = api.get("admin", "/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    method = api.client.delete("/api/v1/tenants", headers=api.auth("admin"))
    assert method.status_code == 405
    assert method.json()["error"]["code"] == "method_not_allowed"


def test_validation_errors_have_the_same_shape(api: Api) -> None:
    response = api.get("admin", "/api/v1/tenants/acme/findings?limit=501&state=gone")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["request_id"]
    assert {d["location"] for d in error["details"]} == {"query.limit", "query.state"}
    japanese = api.client.get(
        "/api/v1/tenants/acme/findings?limit=0",
        headers={**api.auth("admin"), "Accept-Language": "ja,en;q=0.5"},
    )
    assert "リクエスト" in japanese.json()["error"]["message"]


def test_a_bug_is_a_generic_500_without_a_trace(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ops: Operations) -> list[object]:
        raise RuntimeError("secret internals: /etc/shadow")

    monkeypatch.setattr(api_package.tenants, "list_tenants", broken)
    with caplog.at_level(logging.ERROR, logger="posture.web"):
        response = api.get("admin", "/api/v1/tenants")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    logged = [r for r in caplog.records if error["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_the_schema_describes_the_api_only(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    assert all(p.startswith("/api/v1/") or p in ("/healthz", "/readyz", "/metrics") for p in paths)
