"""A connection's task run again (redelivered after its worker died once the write was
committed, or twice at once) writes nothing more; Celery refuses a SQLite store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.errors import ConfigurationError
from posture.scan import TargetJob, TargetOutcome, _finish, _start, scan_target
from posture.store import Store, Tenant
from posture.worker.executor import CeleryExecutor

from .estate import (
    POLICIES,
    account_id,
    counts,
    expected_findings,
    finding_set,
    make_tenant,
    plant,
)


def jobs(store: Store, slug: str) -> list[TargetJob]:
    tenant, connections, scan = _start(store, slug, None)
    return [TargetJob(scan.id, tenant.id, c.id, c.name, tuple(POLICIES)) for c in connections]


@pytest.mark.postgres
def test_a_repeated_connection_task_writes_nothing(
    store: Store, moto_url: str, catalog: Catalog
) -> None:
    accounts = [account_id(i, 400000000000) for i in range(2)]
    plant(moto_url, accounts)
    make_tenant(store, "acme", accounts, moto_url)
    first_jobs = jobs(store, "acme")
    first = [scan_target(store, catalog, job) for job in first_jobs]
    assert [o.status for o in first] == ["succeeded", "succeeded"]
    written = counts(store, first_jobs[0].scan_id)
    findings = finding_set(store, "acme")
    assert written["targets"] == 2 and written["events"] == len(findings) == expected_findings(2)

    again = [scan_target(store, catalog, job) for job in first_jobs]  # redelivered

    assert counts(store, first_jobs[0].scan_id) == written
    assert finding_set(store, "acme") == findings
    assert [o.lifecycle.new for o in again] == [o.lifecycle.new for o in first]  # the recorded
    assert again[0].results == first[0].results


@pytest.mark.postgres
def test_two_runs_at_once_write_once(store: Store, moto_url: str, catalog: Catalog) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    accounts = [account_id(0, 500000000000)]
    plant(moto_url, accounts)
    make_tenant(store, "acme", accounts, moto_url)
    (job,) = jobs(store, "acme")
    outcomes: list[TargetOutcome] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        outcomes.append(scan_target(store, catalog, job))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert [o.status for o in outcomes] == ["succeeded", "succeeded"]
    assert counts(store, job.scan_id)["targets"] == 1
    assert (
        counts(store, job.scan_id)["events"]
        == len(finding_set(store, "acme"))
        == expected_findings(1)
    )
    with store.session() as session:
        tenant = session.exec(select(Tenant)).one()
    done = _finish(store, tenant, job.scan_id, outcomes[:1], 1.0)
    assert done.status == "succeeded"


def test_celery_refuses_a_sqlite_store(tmp_path: Path, catalog: Catalog) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        CeleryExecutor(timeout=1).run_targets(store, catalog, [])
    store.dispose()
