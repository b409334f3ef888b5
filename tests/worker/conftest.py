"""Workers in subprocesses over a local RabbitMQ and a PostgreSQL schema of their own."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection as BrokerConnection

from posture.operations import Operations
from posture.operations.service import service_status
from posture.store import Store
from posture.worker.runner import spawn_workers

from ..conftest import PG_URL, _postgres_store

BROKER = os.environ.get("POSTURE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
SRC = Path(__file__).resolve().parents[2] / "src"


def _reachable(url: str) -> bool:
    host_port = url.split("@", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 5672)), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class Service:
    """A store shared by the test and the workers, and the workers' processes."""

    store: Store
    url: str
    prefix: str
    procs: list[subprocess.Popen[bytes]]
    env: dict[str, str]

    def ops(self) -> Operations:
        return Operations.using(self.store)

    def wait_for_workers(self, count: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p.args for p in self.procs if p.poll() is not None]
            assert not dead, f"a worker exited: {dead}"
            status = service_status(self.ops(), queue_depths=lambda: {})
            if len(status.alive) >= count:
                return
            time.sleep(0.5)
        raise AssertionError(f"fewer than {count} workers reported a heartbeat")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _delete_queues(prefix: str) -> None:
    with BrokerConnection(BROKER, connect_timeout=5) as conn:
        for name in (f"{prefix}.scan", f"{prefix}.report"):
            channel = conn.channel()
            with contextlib.suppress(*conn.channel_errors):
                channel.queue_delete(name)
            with contextlib.suppress(Exception):
                channel.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Three worker processes (one task at a time each) on a store of their own."""
    if not PG_URL:
        pytest.skip("POSTURE_TEST_DATABASE_URL is not set")
    if not _reachable(BROKER):
        pytest.skip(f"no broker at {BROKER}")
    home = tmp_path_factory.mktemp("worker-home")
    prefix = f"pt-{uuid.uuid4().hex[:8]}"
    saved = {k: os.environ.get(k) for k in ("POSTURE_BROKER_URL", "POSTURE_QUEUE_PREFIX")}
    os.environ["POSTURE_BROKER_URL"] = BROKER
    os.environ["POSTURE_QUEUE_PREFIX"] = prefix
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "POSTURE_HOME": str(home),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    with _postgres_store() as store:
        url = store.engine.url.render_as_string(hide_password=False)
        procs = spawn_workers(3, Operations(db_url=url), env=env, prefix=prefix)
        svc = Service(store, url, prefix, procs, env)
        try:
            yield svc
        finally:
            _stop(svc.procs)
            _delete_queues(prefix)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="module")
def moto_process() -> Iterator[str]:
    """moto (with the APIs posture adds) in a process of its own: the workers and this
    process then do not share one interpreter with the fake AWS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "posture.localapi.aws_extras", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "moto did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
