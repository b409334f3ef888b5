"""The demo: local AWS, Microsoft 365 and Google Workspace APIs holding planted tenants,
scanned and reported end to end.

Same code path as a real scan: the connections point at the local endpoints, everything
else (collectors, engine, lifecycle, store, reports) is what production runs.

A run is repeatable: moto is reset and seeded, so every run plants the same ids in the same
account, and a second run into the same store finds nothing new and resolves nothing.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from posture.catalog import Catalog
from posture.demo.clients import moto_control
from posture.demo.estate import backdate_iam, plant_estate, settle_config_recorders
from posture.demo.manifest import EstateManifest
from posture.demo.saas import LocalSaas, local_saas
from posture.localapi.aws_extras import install as install_aws_extras
from posture.scan import ScanOutcome, run_scan
from posture.store import Connection, Store, Tenant

DEMO_TENANT = "demo"
DEMO_CONNECTION = "demo-aws"
DEMO_REGIONS = ("ap-northeast-1", "us-east-1")
#: Any fixed number will do: the same seed plants the same resource ids on every run.
DEMO_SEED = 1
DEMO_STORE_FILE = "demo.db"
#: Environment that would change the planted account or the credentials the scan uses.
_AWS_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "MOTO_ACCOUNT_ID",
)
ProgressFactory = Callable[[str, int], Callable[[str, str, int], None]]


@dataclass
class DemoResult:
    manifest: EstateManifest
    outcome: ScanOutcome
    reports: list[Path] = field(default_factory=list)
    failing_policies: list[str] = field(default_factory=list)


def demo_store_url(out: Path) -> str:
    """The demo's own SQLite store, ``<out>/demo.db``, so the demo never touches a working store.

    Creates ``out``: SQLite creates the file but not its folder.
    """
    out.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(out / DEMO_STORE_FILE).as_posix()}"


def next_commands(db_url: str, program: str = "posture") -> list[str]:
    """Commands worth trying next against the demo store, quoted for a POSIX shell."""
    base = f"{shlex.quote(program)} --db {shlex.quote(db_url)}"
    return [
        f"{base} findings --tenant {DEMO_TENANT} --min-severity high",
        f"{base} results --tenant {DEMO_TENANT} --status pass --json",
        f"{base} report --tenant {DEMO_TENANT} --format pdf --lang en",
    ]


@contextmanager
def local_aws() -> Iterator[str]:
    """A freshly reset moto server on a free loopback port, in this process, dummy credentials.

    moto keeps its backends per process, not per server, so the reset is what makes every
    run start from the same empty account (moto's default, 123456789012).
    """
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in _AWS_ENVIRONMENT}
    for key in _AWS_ENVIRONMENT:
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=DEMO_REGIONS[0]
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on the console
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    install_aws_extras(server)  # Access Analyzer and contact information, which moto lacks
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        moto_control(endpoint, "reset")
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def register_demo(store: Store, endpoint: str, saas: LocalSaas | None = None) -> None:
    """Create (or re-point) the demo tenant, its AWS connection and its SaaS connections."""
    wanted = [(DEMO_CONNECTION, "aws", {"endpoint_url": endpoint, "regions": list(DEMO_REGIONS)})]
    for saas_connection in saas.connections if saas else []:
        wanted.append((saas_connection.name, saas_connection.provider, saas_connection.settings))
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
        for name, provider, settings in wanted:
            conn = session.exec(
                select(Connection).where(Connection.tenant_id == tenant.id, Connection.name == name)
            ).first()
            if conn is None:
                conn = Connection(tenant_id=tenant.id, name=name, provider=provider)
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
    """Plant, scan and report into ``store``; an empty ``formats`` skips the reports.

    Re-running it plants the same ids (see :data:`DEMO_SEED`), so a second run into the same
    store records no new and no resolved finding. The IAM credentials are aged relative to
    now, which keeps every age-based outcome the same from one run to the next.
    """
    from posture.operations.history import read_month_history
    from posture.report import write_report
    from posture.report.build import build_report_data
    from posture.report.period import month

    with local_aws() as endpoint, local_saas(out / "local-apis") as saas:
        manifest = plant_estate(endpoint, regions=list(DEMO_REGIONS), scale=scale, seed=DEMO_SEED)
        backdate_iam(manifest.account_id)
        settle_config_recorders(manifest.account_id, DEMO_REGIONS)
        register_demo(store, endpoint, saas)
        outcome = run_scan(store, catalog, DEMO_TENANT, progress=progress)
    result = DemoResult(manifest, outcome)
    now = datetime.now(UTC)
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == DEMO_TENANT)).one()
        span = month(None, tenant.timezone, now)
        data = build_report_data(
            session, catalog, tenant, span.start, span.end, history=read_month_history
        )
    result.failing_policies = sorted({f.policy_id for f in data.findings})
    for lang in langs:
        for fmt in formats:
            result.reports.append(write_report(data, lang, fmt, out))
    return result
