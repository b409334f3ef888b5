"""Benchmark: connections per hour per Celery worker, with 1 and 3 workers.

Starts moto in its own process, plants one bucket in each of N accounts (one connection
per account, signed in through a role of that account), then scans the tenant in-process
and with 1 and 3 worker processes (one task at a time each), each into a fresh PostgreSQL
schema, and prints JSON. Needs PostgreSQL and RabbitMQ (or Redis):

    POSTURE_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    POSTURE_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \\
    python bench/worker_bench.py --connections 30
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from sqlalchemy import create_engine, text

from posture.catalog import load_catalog
from posture.operations import Operations
from posture.operations.service import service_status
from posture.scan import run_scan
from posture.store import Connection, Store, Tenant
from posture.worker.executor import CeleryExecutor
from posture.worker.runner import spawn_workers

POLICIES = ["aws.s3.bucket_block_public_access", "aws.s3.bucket_versioning_enabled"]
REGION = "us-east-1"
SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "posture.localapi.aws_extras", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto did not start")


def role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/posture-scan"


def plant(endpoint: str, accounts: list[str]) -> None:
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint)
    for n, account in enumerate(accounts):
        creds = sts.assume_role(RoleArn=role(account), RoleSessionName="bench")["Credentials"]
        s3 = boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        s3.create_bucket(Bucket=f"bench-{account}")
        if n % 2:
            s3.put_bucket_versioning(
                Bucket=f"bench-{account}", VersioningConfiguration={"Status": "Enabled"}
            )


@contextmanager
def schema_store(base: str) -> Iterator[tuple[Store, str]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    store = Store(url)
    try:
        yield store, url
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_tenant(store: Store, accounts: list[str], endpoint: str) -> None:
    with store.session() as session:
        tenant = Tenant(slug="bench", name="Bench")
        session.add(tenant)
        session.flush()
        for account in accounts:
            settings = {"endpoint_url": endpoint, "regions": [REGION], "role_arn": role(account)}
            session.add(
                Connection(
                    tenant_id=tenant.id, name=f"acct-{account}", provider="aws", settings=settings
                )
            )


def wait_for(ops: Operations, count: int, procs: list[Any], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker exited")
        if len(service_status(ops, queue_depths=lambda: {}).alive) >= count:
            return
        time.sleep(0.5)
    raise SystemExit("the workers did not report")


def measure(base: str, accounts: list[str], endpoint: str, workers: int) -> dict[str, Any]:
    catalog = load_catalog()
    with schema_store(base) as (store, url):
        make_tenant(store, accounts, endpoint)
        if workers == 0:
            started = time.monotonic()
            outcome = run_scan(store, catalog, "bench", policy_ids=POLICIES)
        else:
            prefix = f"bench-{uuid.uuid4().hex[:6]}"
            os.environ["POSTURE_QUEUE_PREFIX"] = prefix
            env = {**os.environ, "PYTHONPATH": str(SRC)}
            procs = spawn_workers(workers, Operations(db_url=url), env=env, prefix=prefix)
            try:
                wait_for(Operations.using(store), workers, procs)
                started = time.monotonic()
                outcome = run_scan(
                    store, catalog, "bench", policy_ids=POLICIES, executor=CeleryExecutor()
                )
            finally:
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    proc.wait(timeout=60)
        seconds = time.monotonic() - started
    per_hour = len(accounts) / seconds * 3600
    return {
        "workers": workers or "in-process",
        "connections": len(accounts),
        "status": outcome.status,
        "seconds": round(seconds, 2),
        "connections_per_hour": round(per_hour),
        "connections_per_hour_per_worker": round(per_hour / (workers or 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=30)
    parser.add_argument("--workers", default="1,3", help="comma-separated worker counts")
    args = parser.parse_args()
    base = os.environ.get("POSTURE_BENCH_DATABASE_URL") or os.environ.get(
        "POSTURE_TEST_DATABASE_URL"
    )
    if not base or not os.environ.get("POSTURE_BROKER_URL"):
        raise SystemExit("set POSTURE_BENCH_DATABASE_URL and POSTURE_BROKER_URL")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(key, value)
    moto, endpoint = start_moto()
    try:
        accounts = [f"{600000000000 + i:012d}" for i in range(args.connections)]
        plant(endpoint, accounts)
        load = os.getloadavg()[0]
        runs = [measure(base, accounts, endpoint, 0)]
        for count in (int(c) for c in args.workers.split(",") if c):
            runs.append(measure(base, accounts, endpoint, count))
        cores = os.cpu_count()
        print(json.dumps({"load_average_at_start": round(load, 2), "cores": cores, "runs": runs}))
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
