"""Schedules: next runs in the tenant's time zone, missed runs after downtime, one run per
scheduled time across schedulers, run history, retention."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.errors import PostureError, UsageError
from posture.operations import Operations
from posture.operations.retention import prune_results, register_purge, unregister_purge
from posture.operations.schedules import (
    add_schedule,
    job_store,
    list_runs,
    list_schedules,
    next_fire_times,
    previous_month,
    remove_schedule,
    run_schedule,
    set_schedule_enabled,
)
from posture.operations.tenants import add_tenant
from posture.scheduler import SchedulerService
from posture.store import JobRun, ResultRecord, Store
from tests.operations.conftest import T0, VERSIONING, Seed

TOKYO = ZoneInfo("Asia/Tokyo")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll briefly; the work itself (rendering a report) sets the pace, not a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def finished_runs(ops: Operations, schedule_id: str) -> list[JobRun]:
    with ops.session() as session:
        return [
            r
            for r in session.exec(select(JobRun).where(JobRun.schedule_id == schedule_id))
            if r.finished_at is not None
        ]


def due_hourly() -> dict[str, Any]:
    """An hourly schedule, added three minutes ago, due since about two: both schedulers
    find it due as they start, and it does not fire again during the test."""
    now = datetime.now(UTC)
    fired = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    return {"cron": f"{fired.minute} * * * *", "now": now - timedelta(minutes=3)}


@pytest.fixture
def counted_purge() -> Iterator[list[str]]:
    """A registered retention purge that records each call (and takes a moment)."""
    calls: list[str] = []

    def purge(ops: Operations, tenant: str, now: datetime) -> int:
        calls.append(tenant)
        time.sleep(0.3)
        return 0

    register_purge("test", purge)
    yield calls
    unregister_purge("test")


# -- time zones ---------------------------------------------------------------------


def test_cron_is_read_in_the_tenants_time_zone() -> None:
    after = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    (tokyo,) = next_fire_times("0 3 * * *", "Asia/Tokyo", after)
    (utc,) = next_fire_times("0 3 * * *", "UTC", after)
    assert tokyo == datetime(2026, 1, 2, 3, 0, tzinfo=TOKYO)
    assert tokyo.astimezone(UTC) == datetime(2026, 1, 1, 18, 0, tzinfo=UTC)
    assert utc == datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


def test_weekday_numbers_are_standard_cron_and_months_roll_over() -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
    sundays = next_fire_times("0 9 * * 0", "UTC", after, 2)
    assert [d.date().isoformat() for d in sundays] == ["2026-01-04", "2026-01-11"]
    assert next_fire_times("0 9 * * 7", "UTC", after) == sundays[:1]
    weekdays = next_fire_times("0 9 * * 1-5", "UTC", after, 3)
    assert [d.strftime("%a") for d in weekdays] == ["Thu", "Fri", "Mon"]
    months = next_fire_times("0 9 3 * *", "Asia/Tokyo", datetime(2026, 12, 5, tzinfo=UTC), 2)
    assert [d.astimezone(UTC) for d in months] == [
        datetime(2027, 1, 3, 0, 0, tzinfo=UTC),
        datetime(2027, 2, 3, 0, 0, tzinfo=UTC),
    ]


def test_the_monthly_report_covers_the_previous_month_in_the_tenants_zone() -> None:
    # 1 March 00:30 in Tokyo is still February in UTC
    moment = datetime(2026, 2, 28, 15, 30, tzinfo=UTC)
    assert previous_month(moment, "Asia/Tokyo") == "2026-02"
    assert previous_month(moment, "UTC") == "2026-01"
    assert previous_month(datetime(2026, 1, 3, tzinfo=TOKYO), "Asia/Tokyo") == "2025-12"


def test_schedules_take_the_tenants_zone_and_show_their_next_run(ops: Operations) -> None:
    add_tenant(ops, "tokyo", name="Tokyo")
    add_tenant(ops, "london", name="London", timezone="UTC", locale="en")
    now = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    tokyo = add_schedule(ops, "tokyo", "scan", cron="0 3 * * *", now=now)
    london = add_schedule(ops, "london", "monthly-report", day=3, at="09:00", now=now)
    assert (tokyo.timezone, london.timezone) == ("Asia/Tokyo", "UTC")
    assert tokyo.next_run == datetime(2026, 1, 1, 18, 0, tzinfo=UTC)
    assert (london.kind, london.cron) == ("monthly_report", "0 9 3 * *")
    assert london.options == {"formats": ["pdf"], "languages": []}
    listed = list_schedules(ops, now=now)
    assert [s.tenant for s in listed] == ["london", "tokyo"]
    assert listed[0].next_run == datetime(2026, 1, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "backup", "cron": "0 3 * * *"}, "unknown schedule kind"),
        ({"kind": "scan", "cron": "0 3 * *"}, "five fields"),
        ({"kind": "scan", "cron": "0 25 * * *"}, "invalid cron expression"),
        ({"kind": "scan", "cron": "0 3 * * 8"}, "day of week"),
        ({"kind": "scan"}, "needs a time"),
        ({"kind": "scan", "day": 3}, "--day and --time are for"),
        ({"kind": "monthly-report", "day": 31}, "1 to 28"),
        ({"kind": "monthly-report", "day": 3, "at": "9am"}, "HH:MM"),
        ({"kind": "monthly-report", "day": 3, "options": {"formats": ["docx"]}}, "html or pdf"),
        ({"kind": "retention", "cron": "0 4 * * *", "options": {"days": 0}}, "at least 1"),
        ({"kind": "scan", "cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "time zone"),
        (
            {"kind": "scan", "cron": "0 3 * * *", "options": {"days": 3}},
            "--days is for --kind retention, not scan",
        ),
    ],
)
def test_invalid_schedules_are_refused(
    ops: Operations, kwargs: dict[str, object], message: str
) -> None:
    add_tenant(ops, "acme", name="Acme")
    with pytest.raises(PostureError, match=message):
        add_schedule(ops, "acme", **kwargs)  # type: ignore[arg-type]
    assert list_schedules(ops) == []


def test_remove_and_pause_by_id_prefix(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "retention", cron="0 4 * * *")
    paused = set_schedule_enabled(ops, info.id[:8], False)
    assert not paused.enabled and paused.next_run is None
    assert set_schedule_enabled(ops, info.id[:8], True).next_run is not None
    assert remove_schedule(ops, info.id[:8]).id == info.id
    assert list_schedules(ops) == []
    with pytest.raises(PostureError, match="no schedule with id"):
        remove_schedule(ops, info.id)
    with pytest.raises(UsageError):
        remove_schedule(ops, " ")


# -- one run per scheduled time ------------------------------------------------------


def test_a_scheduled_time_runs_once_and_is_recorded(
    ops: Operations, counted_purge: list[str]
) -> None:
    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "retention", cron="0 4 * * *")
    when = datetime(2026, 1, 1, 19, 0, tzinfo=UTC)
    run = run_schedule(ops, info.id, when, runner="test")
    assert run is not None and run.outcome == "succeeded", run
    assert run.detail["removed"] == {"results": 0, "test": 0}
    assert run_schedule(ops, info.id, when) is None  # already run
    assert run_schedule(ops, info.id, when + timedelta(days=1)) is not None
    assert counted_purge == ["acme", "acme"]
    runs = list_runs(ops, "acme")
    assert [r.scheduled_for for r in runs] == [when + timedelta(days=1), when]
    assert runs[1].runner == "test" and runs[1].finished_at is not None
    set_schedule_enabled(ops, info.id, False)
    assert run_schedule(ops, info.id, when + timedelta(days=2)) is None


def test_a_failed_run_is_recorded_with_its_error(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "scan", cron="0 3 * * *", options={"policies": ["nope.*"]})
    run = run_schedule(ops, info.id, datetime(2026, 1, 1, tzinfo=UTC))
    assert run is not None and run.outcome == "failed"
    assert "nope" in run.error
    (listed,) = list_schedules(ops)
    assert listed.last_run is not None and listed.last_run.outcome == "failed"


def test_a_run_whose_process_died_is_closed_when_a_scheduler_starts(ops: Operations) -> None:
    import socket
    import subprocess
    import sys

    from posture.operations.schedules import close_interrupted_runs

    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "retention", cron="0 4 * * *")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = socket.gethostname()
    when = datetime(2026, 1, 1, 19, 0, tzinfo=UTC)
    rows = {
        "dead": (f"{host}:{dead.stdout.strip()}", when),
        "alive": (f"{host}:{os.getpid()}", when + timedelta(days=1)),
        "elsewhere": ("another-host:1", when + timedelta(days=2)),
    }
    with ops.session() as session:
        from posture.store import Schedule

        sched = session.get(Schedule, info.id)
        assert sched is not None
        for runner, at in rows.values():
            session.add(JobRun(schedule_id=info.id, tenant_id=sched.tenant_id, kind="retention",
                               scheduled_for=at, started_at=at, runner=runner))  # fmt: skip
    service = SchedulerService(ops)
    try:
        service.start()
    finally:
        service.shutdown()
    outcome = {r.runner: r.outcome for r in list_runs(ops, "acme")}
    assert outcome == {
        rows["dead"][0]: "interrupted",
        rows["alive"][0]: "running",  # this very process: still going
        rows["elsewhere"][0]: "running",  # another host's scheduler decides about its own
    }
    assert close_interrupted_runs(ops) == []  # nothing left to close


def _other_store(store: Store) -> Store:
    """A second store (its own engine and connections) on the same database."""
    return Store(store.engine.url.render_as_string(hide_password=False))


def test_concurrent_claims_with_separate_engines_run_once(
    store: Store, catalog: Catalog, counted_purge: list[str]
) -> None:
    ops = Operations.using(store, catalog)
    other = _other_store(store)
    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "retention", cron="0 4 * * *")
    when = datetime(2026, 1, 1, 19, 0, tzinfo=UTC)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def claim(each: Operations) -> None:
        barrier.wait()
        run = run_schedule(each, info.id, when)
        outcomes.append("skipped" if run is None else run.outcome)

    contexts = [ops, Operations.using(other, catalog)] * 2
    threads = [threading.Thread(target=claim, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other.dispose()
    assert sorted(outcomes) == ["skipped", "skipped", "skipped", "succeeded"]
    assert counted_purge == ["acme"]


def test_two_schedulers_on_one_database_do_not_double_run(
    store: Store, catalog: Catalog, counted_purge: list[str]
) -> None:
    ops = Operations.using(store, catalog)
    other = _other_store(store)
    add_tenant(ops, "acme", name="Acme")
    info = add_schedule(ops, "acme", "retention", **due_hourly())
    first = SchedulerService(ops, poll_seconds=60)
    second = SchedulerService(Operations.using(other, catalog), poll_seconds=60)
    starters = [threading.Thread(target=s.start) for s in (first, second)]
    try:
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join(30)
        wait_for(lambda: len(finished_runs(ops, info.id)) >= 1)
        time.sleep(0.5)  # room for a second run, should one (wrongly) start
    finally:
        first.shutdown()
        second.shutdown()
        other.dispose()
    runs = finished_runs(ops, info.id)
    assert len(runs) == 1 and runs[0].outcome == "succeeded", runs
    assert len(counted_purge) == 1
    with ops.session() as session:
        claimed = session.exec(select(JobRun).where(JobRun.schedule_id == info.id)).all()
    assert len({r.scheduled_for for r in claimed}) == len(claimed)


# -- missed runs ---------------------------------------------------------------------


def _monthly_yesterday(
    ops: Operations, out: Path, now: datetime, created: datetime | None = None
) -> tuple[str, datetime]:
    """A monthly report schedule whose last fire time was yesterday at 00:00 in Tokyo."""
    yesterday = (now.astimezone(TOKYO) - timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    info = add_schedule(
        ops,
        "acme",
        "monthly-report",
        cron=f"0 0 {yesterday.day} * *",
        options={"formats": ["html"], "languages": ["ja", "en"], "out": str(out)},
        now=created or now,
    )
    return info.id, yesterday


def _rewind(ops: Operations, job_id: str, to: datetime) -> None:
    """Leave the stored job as a scheduler stopped before ``to`` would have left it."""
    jobs = job_store(ops)
    jobs.start(None, "default")
    job = jobs.lookup_job(job_id)
    job.next_run_time = to
    jobs.update_job(job)


def test_a_monthly_report_missed_during_downtime_runs_once_after_restart(
    ops: Operations, tmp_path: Path
) -> None:
    add_tenant(ops, "acme", name="Acme")
    now = datetime.now(UTC)
    schedule_id, missed = _monthly_yesterday(ops, tmp_path / "reports", now)
    running = SchedulerService(ops, poll_seconds=60)
    running.start()
    assert running.next_run_times()[schedule_id] > now  # next month
    running.shutdown()
    _rewind(ops, schedule_id, missed)  # the scheduler was down over yesterday's fire time

    restarted = SchedulerService(ops, poll_seconds=60)
    restarted.start()
    try:
        wait_for(lambda: len(finished_runs(ops, schedule_id)) == 1)
    finally:
        restarted.shutdown()
    (run,) = finished_runs(ops, schedule_id)
    assert run.outcome == "succeeded", run.error
    assert run.scheduled_for == missed
    period = previous_month(missed, "Asia/Tokyo")
    assert run.detail["period"] == period
    files = sorted((tmp_path / "reports").iterdir())
    assert len(files) == 2 and all(period in f.name for f in files), files
    stamps = [f.stat().st_mtime_ns for f in files]

    # a further restart, even one whose job store still holds the missed time, runs nothing
    _rewind(ops, schedule_id, missed)
    again = SchedulerService(ops, poll_seconds=60)
    again.start()
    try:
        wait_for(lambda: again.next_run_times()[schedule_id] > now)
        time.sleep(0.3)
    finally:
        again.shutdown()
    assert len(finished_runs(ops, schedule_id)) == 1
    assert [f.stat().st_mtime_ns for f in sorted((tmp_path / "reports").iterdir())] == stamps


def test_a_run_found_beyond_its_window_is_recorded_as_missed(
    ops: Operations, tmp_path: Path
) -> None:
    add_tenant(ops, "acme", name="Acme")
    now, out = datetime.now(UTC), tmp_path / "reports"
    fired = (now.astimezone(TOKYO) - timedelta(days=10)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    info = add_schedule(
        ops, "acme", "monthly-report", cron=f"0 0 {fired.day} * *", options={"out": str(out)}
    )
    running = SchedulerService(ops, poll_seconds=60)
    running.start()
    running.shutdown()
    _rewind(ops, info.id, fired)  # down for ten days: beyond the seven-day window
    restarted = SchedulerService(ops, poll_seconds=60)
    restarted.start()
    try:
        wait_for(lambda: len(finished_runs(ops, info.id)) == 1)
    finally:
        restarted.shutdown()
    (run,) = list_runs(ops, "acme")
    assert (run.outcome, run.scheduled_for) == ("missed", fired)
    assert "within 7 days of the scheduled time (found 10 days" in run.error
    assert not out.exists()


def test_a_schedule_added_while_no_scheduler_ran_catches_up_once(
    ops: Operations, tmp_path: Path
) -> None:
    """Two fire times passed since the schedule was added: one coalesced run, the latest."""
    add_tenant(ops, "acme", name="Acme")
    now = datetime.now(UTC)
    schedule_id, missed = _monthly_yesterday(
        ops, tmp_path / "reports", now, created=now - timedelta(days=40)
    )
    service = SchedulerService(ops, poll_seconds=60)
    service.start()
    try:
        wait_for(lambda: len(finished_runs(ops, schedule_id)) == 1)
        time.sleep(0.3)
    finally:
        service.shutdown()
    runs = finished_runs(ops, schedule_id)
    assert [r.scheduled_for for r in runs] == [missed]


def test_the_scheduler_follows_added_changed_and_removed_schedules(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    kept = add_schedule(ops, "acme", "scan", cron="0 3 * * *")
    paused = add_schedule(ops, "acme", "retention", cron="0 4 * * *")
    service = SchedulerService(ops, poll_seconds=60)
    outcome = service.start()
    try:
        assert sorted(outcome.added) == sorted([kept.id, paused.id])
        set_schedule_enabled(ops, paused.id, False)
        late = add_schedule(ops, "acme", "monthly-report", day=1, at="06:00")
        outcome = service.sync()
        assert outcome.kept == [kept.id]
        assert outcome.added == [late.id] and outcome.removed == [paused.id]
        remove_schedule(ops, late.id)
        service.poll()
        assert set(service.next_run_times()) == {kept.id}
    finally:
        service.shutdown()
    restarted = SchedulerService(ops, poll_seconds=60)
    assert restarted.start().kept == [kept.id]
    restarted.shutdown()


# -- retention -----------------------------------------------------------------------


def test_retention_keeps_the_latest_results_of_every_connection(
    ops: Operations, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    busy, quiet = seed.connection(tenant, "busy"), seed.connection(tenant, "quiet")
    old, newer = seed.scan(tenant, 0), seed.scan(tenant, 24)
    for scan, conn in ((old, busy), (old, quiet), (newer, busy)):
        seed.target(scan, conn)
        seed.result(scan, conn, VERSIONING, f"arn:aws:s3:::{conn.name}", "fail")
    now = T0 + timedelta(days=400)
    assert prune_results(ops, "acme", days=30, now=now) == 1
    with ops.session() as session:
        left = {(r.scan_id, r.connection_id) for r in session.exec(select(ResultRecord))}
    assert left == {(old.id, quiet.id), (newer.id, busy.id)}
    assert prune_results(ops, "acme", days=30, now=now) == 0
    with pytest.raises(UsageError):
        prune_results(ops, "acme", days=0)


def test_a_retention_run_moves_old_audit_entries_to_a_file_first(
    ops: Operations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from posture.operations import audit
    from posture.operations.audit import list_audit, verify_audit, verify_audit_file

    long_ago = datetime.now(UTC) - timedelta(days=200)
    monkeypatch.setattr(audit, "utcnow", lambda: long_ago)
    add_tenant(ops, "acme", name="Acme")  # an audited action, 200 days ago
    monkeypatch.undo()
    info = add_schedule(
        ops, "acme", "retention", cron="0 4 * * *", options={"audit_dir": str(tmp_path / "a")}
    )
    run = run_schedule(ops, info.id, datetime.now(UTC))
    assert run is not None and run.outcome == "succeeded", run
    moved = run.detail["audit"]
    assert moved["moved"] == 1
    archive = Path(moved["file"])
    assert archive.parent == tmp_path / "a"
    first = json.loads(archive.read_text(encoding="utf-8").splitlines()[0])
    assert first["action"] == "tenant.add"
    assert verify_audit_file(archive).ok and verify_audit(ops).ok
    assert all(e.action != "tenant.add" for e in list_audit(ops))
    # the next day's run finds nothing left to move and writes no file
    again = run_schedule(ops, info.id, datetime.now(UTC) + timedelta(days=1))
    assert again is not None and again.detail["audit"] == {"moved": 0, "file": None}
    assert list((tmp_path / "a").iterdir()) == [archive]
