"""The demo as an operation: plant the estate, scan it into the demo's own store, report.

The demo writes into a store of its own (by default ``<out>/demo.db``) so that it can never
disturb a working one; this module opens and closes that store for the face that asks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from posture.operations.audit import record
from posture.operations.context import Operations
from posture.scan import ProgressFactory
from posture.store import Store

if TYPE_CHECKING:
    from posture.demo.runner import DemoResult


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
