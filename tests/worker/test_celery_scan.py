"""Scans on three Celery workers: the same findings as in-process, and a worker killed
mid-task loses and duplicates nothing."""

from __future__ import annotations

import http.server
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.scan import run_scan
from posture.worker.app import app
from posture.worker.executor import CeleryExecutor, enqueue_report

from ..conftest import _postgres_store
from .conftest import Service
from .estate import (
    POLICIES,
    account_id,
    counts,
    expected_findings,
    finding_set,
    make_tenant,
    plant,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CONNECTIONS = 30


@pytest.fixture(scope="module")
def planted(moto_process: str) -> dict[str, list[str]]:
    """Accounts for the big tenant and for the one whose worker is killed (moto not reset:
    every account is its own)."""
    big = [account_id(i, 200000000000) for i in range(CONNECTIONS)]
    small = [account_id(i, 300000000000) for i in range(3)]
    plant(moto_process, big + small)
    return {"big": big, "small": small}


def in_process(
    catalog: Catalog, slug: str, accounts: list[str], endpoint: str
) -> tuple[set[tuple[str, str, str, str]], dict[str, Any]]:
    with _postgres_store() as store:
        make_tenant(store, slug, accounts, endpoint)
        outcome = run_scan(store, catalog, slug, policy_ids=POLICIES)
        assert outcome.status == "succeeded"
        return finding_set(store, slug), counts(store, outcome.scan_id)


def test_three_workers_find_what_one_process_finds(
    service: Service, planted: dict[str, list[str]], moto_process: str, catalog: Catalog
) -> None:
    accounts = planted["big"]
    make_tenant(service.store, "big", accounts, moto_process)
    expected, expected_counts = in_process(catalog, "big", accounts, moto_process)
    assert len(expected) == expected_findings(CONNECTIONS)
    service.wait_for_workers(3)

    outcome = run_scan(
        service.store, catalog, "big", policy_ids=POLICIES, executor=CeleryExecutor(timeout=120)
    )

    assert outcome.status == "succeeded", outcome
    assert len(outcome.targets) == CONNECTIONS
    assert [t.connection for t in outcome.targets] == sorted(f"acct-{a}" for a in accounts)
    assert sum(t.lifecycle.new for t in outcome.targets) == len(expected)
    assert finding_set(service.store, "big") == expected
    assert counts(service.store, outcome.scan_id) == expected_counts
    status = service.ops()
    from posture.operations.service import service_status

    seen = service_status(status, queue_depths=lambda: {})
    # every worker took part (one task at a time each, 30 connections)
    busy = [w for w in seen.alive if w.name.startswith(service.prefix)]
    assert len(busy) == 3


class Gate:
    """An HTTP proxy to moto that holds every request until opened."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.arrived = threading.Event()
        self.opened = threading.Event()
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                gate.arrived.set()
                gate.opened.wait(60)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                request = urllib.request.Request(
                    gate.upstream + self.path, data=body, method=self.command
                )
                for key, value in self.headers.items():
                    if key.lower() not in ("host", "content-length", "connection"):
                        request.add_header(key, value)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, headers, data = response.status, response.headers, response.read()
                except urllib.error.HTTPError as exc:
                    status, headers, data = exc.code, exc.headers, exc.read()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client was killed while it waited
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Gate:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.opened.set()
        self.server.shutdown()
        self.server.server_close()


def running_pid(task_suffix: str, timeout: float = 30.0) -> int:
    """The pool process running the task whose id ends with ``task_suffix``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = app.control.inspect(timeout=2.0).active() or {}
        for tasks in active.values():
            for task in tasks:
                if str(task.get("id", "")).endswith(task_suffix) and task.get("worker_pid"):
                    return int(task["worker_pid"])
        time.sleep(0.2)
    raise AssertionError("the held task is not reported running by any worker")


@pytest.fixture
def gate(moto_process: str) -> Iterator[Gate]:
    with Gate(moto_process) as g:
        yield g


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(
    service: Service,
    planted: dict[str, list[str]],
    moto_process: str,
    catalog: Catalog,
    gate: Gate,
) -> None:
    accounts = planted["small"]
    held = f"acct-{accounts[1]}"
    ids = make_tenant(service.store, "small", accounts, moto_process, {held: gate.url})
    expected, expected_counts = in_process(catalog, "small", accounts, moto_process)
    service.wait_for_workers(3)
    done: dict[str, Any] = {}

    def scan() -> None:
        done["outcome"] = run_scan(
            service.store,
            catalog,
            "small",
            policy_ids=POLICIES,
            executor=CeleryExecutor(timeout=120),
        )

    runner = threading.Thread(target=scan)
    runner.start()
    assert gate.arrived.wait(60), "no worker started the held connection"
    pid = running_pid(f":{ids[held]}")
    os.kill(pid, signal.SIGKILL)  # the pool process dies in the middle of the collection
    gate.opened.set()
    runner.join(150)
    assert not runner.is_alive()

    outcome = done["outcome"]
    assert outcome.status == "succeeded", outcome
    assert {t.connection: t.status for t in outcome.targets} == {
        f"acct-{a}": "succeeded" for a in accounts
    }
    assert finding_set(service.store, "small") == expected
    assert counts(service.store, outcome.scan_id) == expected_counts


def test_a_report_is_rendered_by_a_worker(
    service: Service,
    planted: dict[str, list[str]],
    moto_process: str,
    catalog: Catalog,
    tmp_path: Path,
) -> None:
    """A scanned tenant's HTML report, written by a worker."""
    make_tenant(service.store, "rep", planted["big"][:1], moto_process)
    run_scan(service.store, catalog, "rep", policy_ids=POLICIES)
    out = tmp_path / "reports"
    enqueue_report("rep", formats=["html"], languages=["en"], out=str(out))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not list(out.glob("*.html")):
        time.sleep(0.5)
    (page,) = out.glob("*.html")
    assert "open-" in page.read_text(encoding="utf-8")  # the open buckets are named
