"""Benchmark of the REST API under concurrent load: the findings list of a tenant with N
findings, as a provider analyst's dashboard and scripts call it.

Usage: python bench/api_bench.py --findings 100000 [--clients 8] [--requests 40] [--json]

The store is the report bench's synthetic tenant (``bench/report_bench.py``: a year of
monthly scans over four connections). ``posture serve --web --no-scheduler`` runs in a
child process on a free port, as in production; ``--clients`` threads each send
``--requests`` requests with an API token, cycling through the calls an analyst makes:
the first page, a page deep in the list, open critical and high findings, a text search.
Prints one JSON object: latency p50 / p95 / max per call and over all, requests per
second, and errors (any answer but 200).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import build_store

from posture.operations import Operations
from posture.operations.access import Role
from posture.operations.identity import add_user, create_token
from posture.store import Store

CALLS = {
    "first_page": "/api/v1/tenants/bench/findings?limit=100",
    "deep_page": "/api/v1/tenants/bench/findings?limit=100&offset={offset}",
    "open_critical_high": "/api/v1/tenants/bench/findings?state=open&severity=critical"
    "&severity=high&limit=100",
    "search": "/api/v1/tenants/bench/findings?q=bucket&limit=50",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def token_for(url: str) -> str:
    store = Store(url)
    ops = Operations.using(store)
    add_user(ops, "bench-analyst", role=Role.ANALYST, password="bench analyst password 1")
    _, secret = create_token(ops, "bench-analyst", name="bench", scopes=None, expires_days=1)
    store.dispose()
    return secret


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"posture serve ended with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("posture serve did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(base: str, token: str, findings: int, clients: int, requests: int) -> dict[str, Any]:
    names = list(CALLS)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            for i in range(requests):
                name = names[(index + i) % len(names)]
                path = CALLS[name].format(offset=(findings // 2 + 37 * i) % max(findings, 1))
                started = time.perf_counter()
                response = http.get(path, timeout=120)
                took = time.perf_counter() - started
                with lock:
                    latencies[name].append(took)
                    if response.status_code != 200:
                        errors.append(f"{name}: {response.status_code}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    every = [t for values in latencies.values() for t in values]

    def figures(values: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }

    return {
        "requests": len(every),
        "requests_per_second": round(len(every) / wall, 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        **figures(every),
        "calls": {name: figures(values) for name, values in latencies.items() if values},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=40, help="requests per client")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--keep", type=Path, help="keep the store in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="posture-api-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'bench.db'}"
    if not (folder / "bench.db").exists():
        started = time.perf_counter()
        build_store(url, args.findings)
        if not args.json:
            print(
                f"store of {args.findings} findings built in {time.perf_counter() - started:.1f} s"
            )
    token = token_for(url)
    port = free_port()
    env = {**os.environ, "POSTURE_HOME": str(folder)}
    command = [sys.executable, "-m", "posture", "--db", url, "serve", "--web", "--no-scheduler"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        httpx.get(f"{base}{CALLS['first_page']}", headers={"Authorization": f"Bearer {token}"})
        figures = load(base, token, args.findings, args.clients, args.requests)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = {"findings": args.findings, "clients": args.clients, "store": "sqlite", **figures}
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
