"""Benchmark of the monthly report: a store with N findings over a year of monthly scans,
the customer PDF and the analyst HTML rendered from it, one JSON object of figures.

Usage: python bench/report_bench.py --findings 5000 [--json] [--keep DIR] [--no-browser]

The store is synthetic but shaped like a managed-service tenant: four connections (two AWS
accounts, Microsoft 365, Google Workspace) with the catalog's own policies, every
severity, findings opened and resolved across twelve monthly scans, a few reopened, and one
month in which a connection could not be read. The PDF is rendered in a child process so
its peak RSS is the render's own (WeasyPrint runs in a grandchild: both peaks are printed,
with the larger as ``pdf_peak_rss_mb``), and CPU seconds of both next to the wall time. The HTML is then opened in headless Chromium (driven by
Playwright, ``POSTURE_CHROMIUM`` or ``chromium`` on the PATH) until its findings table is
interactive: ``html_open_seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from posture.catalog import load_catalog
from posture.operations import Operations
from posture.operations.reports import generate_report
from posture.store import Store
from posture.store.tables import Connection, Finding, Scan, ScanTarget, Tenant

MONTH = "2026-11"  # the report month; scans run monthly from December 2025
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
CONNECTIONS = (("aws-prod", "aws"), ("aws-dev", "aws"), ("m365", "m365"), ("gws", "gws"))
SEVERITIES = ("critical", "high", "medium", "low", "info")


def scan_times() -> list[datetime]:
    """The 5th of each month at 02:00 JST, December 2025 to November 2026."""
    out = []
    year, month = 2025, 12
    for _ in range(12):
        out.append(datetime(year, month, 4, 17, 0, tzinfo=UTC))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def build_store(url: str, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    catalog = load_catalog()
    store = Store(url)
    by_provider: dict[str, list[Any]] = {}
    for policy in catalog.policies.values():
        by_provider.setdefault(policy.id.split(".")[0], []).append(policy)
    times = scan_times()
    with store.session() as session:
        tenant = Tenant(
            slug="bench",
            name="株式会社ベンチ <Bench & Co>",
            options={"report": {"provider_name": "Example Managed Security"}},
        )
        session.add(tenant)
        session.flush()
        conns = []
        for name, provider in CONNECTIONS:
            conn = Connection(tenant_id=tenant.id, name=name, provider=provider, account=name)
            session.add(conn)
            conns.append(conn)
        session.flush()
        scans = []
        for i, at in enumerate(times):
            scan = Scan(
                tenant_id=tenant.id,
                status="succeeded",
                started_at=at,
                finished_at=at + timedelta(minutes=20),
                policies=len(catalog.policies),
                resources=n // 2,
            )
            session.add(scan)
            session.flush()
            scans.append(scan)
            for j, conn in enumerate(conns):
                failed = i == 10 and j == 3  # one month without Google Workspace
                session.add(
                    ScanTarget(
                        scan_id=scan.id,
                        connection_id=conn.id,
                        status="failed" if failed else "succeeded",
                        message="HTTP 401 invalid_grant" if failed else "",
                        finished_at=at + timedelta(minutes=20),
                        stats={"reason_code": "credentials_rejected"} if failed else {},
                    )
                )
        rows = []
        for k in range(n):
            conn = conns[k % len(conns)]
            policy = rng.choice(by_provider.get(conn.provider) or by_provider["aws"])
            opened = rng.randrange(12)
            first = times[opened] + timedelta(minutes=5)
            fate = rng.random()
            state, resolved_at, reopened = "open", None, 0
            if fate < 0.35 and opened < 11:
                state = "resolved"
                resolved_at = times[rng.randrange(opened + 1, 12)] + timedelta(minutes=6)
            elif fate < 0.40:
                reopened = 1
            name = f"{conn.name}-{policy.id.split('.')[1]}-{k:06d}"
            uid = f"arn:bench:{conn.provider}:{conn.name}:{policy.id}:{k:06d}"
            rows.append(
                {
                    "id": f"f{k:08d}",
                    "tenant_id": tenant.id,
                    "connection_id": conn.id,
                    "policy_id": policy.id,
                    "resource_type": f"{conn.provider}.{policy.id.split('.')[1]}",
                    "resource_uid": uid,
                    "resource_name": name,
                    "region": "ap-northeast-1" if conn.provider == "aws" else "global",
                    "severity": str(policy.severity),
                    "state": state,
                    "evidence": [
                        {"path": "Settings.Enabled", "op": "eq", "expected": True, "actual": False}
                    ],
                    "statement": {
                        "en": f"{name} fails: {policy.title.en}",
                        "ja": f"{name}: {policy.title.ja}",
                    },
                    "commands": [f"posture-fix --resource {uid}"] if k % 3 == 0 else [],
                    "first_seen": first,
                    "last_seen": resolved_at or times[-1],
                    "resolved_at": resolved_at,
                    "reopened": reopened,
                    "last_scan_id": scans[-1].id,
                }
            )
        for i in range(0, len(rows), 5000):
            session.execute(insert(Finding), rows[i : i + 5000])
        # what each scan counted: open findings by severity and pass / fail results
        for i, scan in enumerate(scans):
            end = times[i] + timedelta(minutes=30)
            open_now = [
                r
                for r in rows
                if r["first_seen"] < end and (r["resolved_at"] is None or r["resolved_at"] >= end)
            ]
            counts = {s: sum(1 for r in open_now if r["severity"] == s) for s in SEVERITIES}
            scan.summary = {
                "open_by_severity": counts,
                "policies": sorted(catalog.policies),
                "errored": [],
                "results": {"fail": len(open_now), "pass": 3 * n - len(open_now)},
            }
            session.add(scan)
    store.dispose()


def render(url: str, fmt: str, out: Path) -> dict[str, Any]:
    """Generate one report with the operations layer, as ``posture report`` does."""
    ops = Operations.using(Store(url, auto_migrate=False))
    start = time.monotonic()
    outcome = generate_report(
        ops, "bench", formats=(fmt,), languages=("ja",), period=MONTH, out=out, now=NOW
    )
    seconds = time.monotonic() - start
    path = outcome.paths[0]
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the PDF layout process
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(
            own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 2
        ),
        "bytes": path.stat().st_size,
        "path": str(path),
        "peak_rss_mb": round(own.ru_maxrss / 1024, 1),
        "child_peak_rss_mb": round(children.ru_maxrss / 1024, 1),
    }


def pdf_pages(path: Path) -> tuple[int, int]:
    """(pages, page on which the appendix starts) read back with pdftotext."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    total = len(pages) - 1 if pages and not pages[-1].strip() else len(pages)
    appendix = next(
        (i + 1 for i, page in enumerate(pages) if "付録: 未解決の検出事項" in page and i > 1), 0
    )
    return total, appendix


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    """The Chromium to drive: ``POSTURE_CHROMIUM``, else the one on the PATH."""
    return os.environ.get("POSTURE_CHROMIUM") or shutil.which("chromium")


def html_open_seconds(path: Path, runs: int = 3) -> float:
    """Median time from navigating to the file until its findings table is interactive.

    "Interactive" is what a reader can use: the page script has marked the findings section
    ready and its first rows are in the table. Each run is a fresh page (no cache).
    """
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        raise SystemExit("html open time: no Chromium found (set POSTURE_CHROMIUM)")
    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            for _ in range(runs):
                page = browser.new_context().new_page()
                start = time.monotonic()
                page.goto(path.resolve().as_uri(), wait_until="commit")
                page.wait_for_selector("#findings.ready tbody.rows tr", timeout=120_000)
                timings.append(time.monotonic() - start)
                page.context.close()
        finally:
            browser.close()
    return round(statistics.median(timings), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--formats", default="pdf,html", help="what to render: pdf,html")
    parser.add_argument("--keep", type=Path, help="write the store and reports here")
    parser.add_argument(
        "--no-browser", action="store_true", help="skip opening the HTML in headless Chromium"
    )
    parser.add_argument("--render", choices=("pdf", "html"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:  # the child process: one render, its own figures
        print(json.dumps(render(args.url, args.render, args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{work / 'report-bench.db'}"
        (work / "report-bench.db").unlink(missing_ok=True)
        t0 = time.monotonic()
        build_store(url, args.findings)
        build_seconds = time.monotonic() - t0
        figures: dict[str, Any] = {"findings": args.findings}
        for fmt in args.formats.split(","):
            child = subprocess.run(
                [sys.executable, __file__, "--render", fmt, "--url", url, "--out", str(work)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            if fmt == "pdf":
                pages, appendix = pdf_pages(Path(result["path"]))
                figures.update(
                    pdf_seconds=result["seconds"],
                    pdf_pages=pages,
                    pdf_body_pages=(appendix - 1) if appendix else pages,
                    pdf_cpu_seconds=result["cpu_seconds"],
                    # the larger of the two processes; both are alive during the layout
                    pdf_peak_rss_mb=max(result["peak_rss_mb"], result["child_peak_rss_mb"]),
                    pdf_parent_rss_mb=result["peak_rss_mb"],
                    pdf_layout_rss_mb=result["child_peak_rss_mb"],
                )
            else:
                figures.update(html_seconds=result["seconds"], html_bytes=result["bytes"])
                if not args.no_browser:
                    figures["html_open_seconds"] = html_open_seconds(Path(result["path"]))
        figures["store_seconds"] = round(build_seconds, 1)
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
