"""Benchmark: plant an estate of scale N in a moto_server process, scan it, print figures.

moto runs in its own process so the figures measure posture (collector, engine, store),
not the fake AWS. Usage: python bench/scan_bench.py --scale 20 [--regions ap-northeast-1,us-east-1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlmodel import func, select

from posture.catalog import load_catalog
from posture.demo.estate import plant_estate
from posture.scan import run_scan
from posture.store import Connection, Finding, Store, Tenant


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        # moto with the few APIs it lacks (Access Analyzer, contact information, Lambda
        # function URLs) answered in front of it, as the demo runs it
        [sys.executable, "-m", "posture.localapi.aws_extras", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--regions", default="ap-northeast-1,us-east-1")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    regions = args.regions.split(",")
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=regions[0]
    )
    os.environ.pop("AWS_PROFILE", None)
    proc, url = start_moto()
    try:
        t0 = time.monotonic()
        manifest = plant_estate(url, regions=regions, scale=args.scale)
        plant_seconds = time.monotonic() - t0
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
            with store.session() as session:
                tenant = Tenant(slug="bench", name="Bench")
                session.add(tenant)
                session.flush()
                session.add(
                    Connection(
                        tenant_id=tenant.id,
                        name="aws",
                        provider="aws",
                        settings={"endpoint_url": url, "regions": regions},
                    )
                )
            catalog = load_catalog()
            t1 = time.monotonic()
            outcome = run_scan(store, catalog, "bench")
            scan_seconds = time.monotonic() - t1
            t2 = time.monotonic()
            rescan = run_scan(store, catalog, "bench")
            rescan_seconds = time.monotonic() - t2
            with store.session() as session:
                findings = int(session.exec(select(func.count()).select_from(Finding)).one())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    target = outcome.targets[0]
    figures = {
        "scale": args.scale,
        "regions": len(regions),
        "planted": len(manifest.resources),
        "plant_seconds": round(plant_seconds, 1),
        "scan_seconds": round(scan_seconds, 1),
        "rescan_seconds": round(rescan_seconds, 1),
        "collect_seconds": round(target.phases.get("collect", 0), 2),
        "evaluate_seconds": round(target.phases.get("evaluate", 0), 2),
        "write_seconds": round(target.phases.get("write", 0), 2),
        "api_calls": target.api_calls,
        "resources": target.resources,
        "policies": len(catalog.policies),
        "results": dict(target.results),
        "findings": findings,
        "rescan_new_findings": rescan.targets[0].lifecycle.new,
        "collection_failures": len(target.failures),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
