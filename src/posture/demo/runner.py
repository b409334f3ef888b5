"""The demo: a local AWS API with a planted estate, scanned and reported end to end.

Same code path as a real scan: the connection points at the local endpoint, everything
else (collector, engine, lifecycle, store, reports) is what production runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from posture.catalog import Catalog
from posture.demo.estate import backdate_iam, plant_estate, settle_config_recorders
from posture.demo.manifest import EstateManifest
from posture.scan import ScanOutcome, run_scan
from posture.store import Connection, Store, Tenant

DEMO_TENANT = "demo"
DEMO_CONNECTION = "demo-aws"
DEMO_REGIONS = ("ap-northeast-1", "us-east-1")
ProgressFactory = Callable[[str, int], Callable[[str, str, int], None]]


@dataclass
class DemoResult:
    manifest: EstateManifest
    outcome: ScanOutcome
    reports: list[Path] = field(default_factory=list)
    failing_policies: list[str] = field(default_factory=list)


@contextmanager
def local_aws() -> Iterator[str]:
    """A moto server on a free loopback port, in this process, with dummy credentials."""
    from moto.server import ThreadedMotoServer

    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=DEMO_REGIONS[0]
    )
    os.environ.pop("AWS_PROFILE", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on the console
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def register_demo(store: Store, endpoint: str) -> None:
    """Create (or re-point) the demo tenant and its AWS connection."""
    settings = {"endpoint_url": endpoint, "regions": list(DEMO_REGIONS)}
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == DEMO_TENANT)).first()
        if tenant is None:
            tenant = Tenant(
                slug=DEMO_TENANT,
                name="Acme Japan K.K. (demo)",
                locale="ja",
                options={"auto_remediation": False, "vulnerability_view": True},
            )
            session.add(tenant)
            session.flush()
        conn = session.exec(
            select(Connection).where(
                Connection.tenant_id == tenant.id, Connection.name == DEMO_CONNECTION
            )
        ).first()
        if conn is None:
            conn = Connection(tenant_id=tenant.id, name=DEMO_CONNECTION, provider="aws")
        conn.settings = settings
        session.add(conn)


def run_demo(
    store: Store,
    catalog: Catalog,
    *,
    out: Path,
    scale: int = 1,
    progress: ProgressFactory | None = None,
    langs: tuple[str, ...] = ("ja", "en"),
    formats: tuple[str, ...] = ("html", "pdf"),
) -> DemoResult:
    from posture.report import write_report
    from posture.report.build import build_report_data

    with local_aws() as endpoint:
        manifest = plant_estate(endpoint, regions=list(DEMO_REGIONS), scale=scale)
        backdate_iam(manifest.account_id)
        settle_config_recorders(manifest.account_id, DEMO_REGIONS)
        register_demo(store, endpoint)
        outcome = run_scan(store, catalog, DEMO_TENANT, progress=progress)
    result = DemoResult(manifest, outcome)
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == DEMO_TENANT)).one()
        data = build_report_data(session, catalog, tenant, start, end)
    result.failing_policies = sorted({f.policy_id for f in data.findings})
    for lang in langs:
        for fmt in formats:
            result.reports.append(write_report(data, lang, fmt, out))
    return result
