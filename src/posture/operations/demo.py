"""The demo as an operation: plant the estate, scan it into the demo's own store, report.

The demo writes into a store of its own (by default ``<out>/demo.db``) so that it can never
disturb a working one; this module opens and closes that store for the face that asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from posture.operations.audit import record
from posture.operations.context import Operations
from posture.scan import ProgressFactory
from posture.store import Store

if TYPE_CHECKING:
    from posture.demo.runner import DemoResult

DEMO_ADMIN = "demo-admin"
DEMO_VIEWER = "demo-viewer"


@dataclass(frozen=True)
class ConsoleLogin:
    """A demo user of the web console and its one-time password (changed at first sign-in)."""

    username: str
    role: str
    one_time_password: str


def run_demo(
    ops: Operations,
    store_url: str,
    *,
    out: Path,
    scale: int = 1,
    progress: ProgressFactory | None = None,
) -> DemoResult:
    """Plant, scan and report into ``store_url`` with the catalog of ``ops``."""
    from posture.demo.runner import run_demo as run

    store = Store(store_url)
    try:
        result = run(store, ops.catalog(), out=out, scale=scale, progress=progress)
        # audited in the demo's store: that is the store the demo changed
        audited = Operations.using(store, actor=ops.actor, source=ops.source)
        details = {"store": shown_url(store_url), "scale": scale, "out": str(out.resolve())}
        details |= {"status": result.outcome.status, "reports": [p.name for p in result.reports]}
        scan = result.outcome
        record(audited, "demo.run", tenant=scan.tenant, target=scan.scan_id, details=details)
        return result
    finally:
        store.dispose()


def shown_url(url: str) -> str:
    """The URL as typed, unless it holds a password (then with the password masked)."""
    parsed = make_url(url)
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


def demo_console_users(store_url: str, tenant: str) -> list[ConsoleLogin]:
    """A provider administrator and a customer viewer of ``tenant`` in the demo's store.

    Users that exist already get a fresh one-time password, so every demo run prints
    passwords that work.
    """
    from posture.errors import ConfigurationError
    from posture.operations.access import Role
    from posture.operations.identity import add_user, reset_password
    from posture.operations.tenants import list_tenants

    store = Store(store_url)
    try:
        ops = Operations.using(store, source="cli demo")
        logins = []
        accounts: list[tuple[str, Role, str | None]] = [(DEMO_ADMIN, Role.PROVIDER_ADMIN, None)]
        if tenant in {t.slug for t in list_tenants(ops)}:  # the demo planted its tenant
            accounts.append((DEMO_VIEWER, Role.CUSTOMER_VIEWER, tenant))
        for username, role, slug in accounts:
            try:
                _, secret = add_user(ops, username, role=role, tenant=slug, locale="en")
            except ConfigurationError:
                secret = reset_password(ops, username)
            logins.append(ConsoleLogin(username, role.value, secret or ""))
        return logins
    finally:
        store.dispose()
