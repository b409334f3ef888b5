"""Schedules: recurring scans, monthly reports and retention runs of a tenant.

A schedule is a row of the ``schedule`` table: tenant, kind, a standard crontab
expression read in a time zone (the tenant's by default), options and whether it is
enabled. The scheduler face (``posture serve --scheduler``) derives its APScheduler jobs
from these rows (``job_specs``) and, when a job fires, calls ``run_schedule``.

Exactly once per scheduled time: ``run_schedule`` first inserts, and commits, a
``job_run`` row for (schedule, scheduled time), which is unique. A second scheduler
process firing the same job, or a restarted one catching up, fails that insert and skips
the run. This works the same on SQLite and PostgreSQL and doubles as the run history
(scheduled for, started, finished, outcome, error). A process killed in the middle of a
run leaves its row ``running``; that scheduled time is not retried, the next one runs.
When a scheduler starts, ``close_interrupted_runs`` marks the rows of processes of its
own host that no longer exist as ``interrupted``, so the history never shows a run
as going on forever.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from posture.errors import ConfigurationError, PostureError, TenantPaused, UsageError
from posture.operations.audit import purge_audit, purge_file_name
from posture.operations.auditing import audited
from posture.operations.context import Operations
from posture.operations.filters import check_choices
from posture.operations.fixes import auto_fix
from posture.operations.notifications import notify_scan
from posture.operations.reports import FORMATS, LANGUAGES, generate_report
from posture.operations.retention import DEFAULT_RESULT_DAYS, run_retention
from posture.operations.scans import scan_tenant
from posture.operations.tenants import check_active, get_tenant, resolve_tenant
from posture.report.period import zone
from posture.store import JobRun, Schedule, Tenant

KINDS = ("scan", "monthly_report", "retention")
# how late a missed run may still start (a scheduler down over the scheduled time runs it
# once when it comes back within this window; later, the run counts as missed)
GRACE = {
    "scan": timedelta(hours=6),
    "monthly_report": timedelta(days=7),
    "retention": timedelta(days=1),
}
JOB_TABLE = "apscheduler_jobs"
SHOWN_CANDIDATES = 5
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_NUMBER = re.compile(r"\d+")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunInfo:
    """One run of a schedule for one scheduled time."""

    schedule_id: str
    tenant: str
    kind: str
    scheduled_for: datetime
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running | succeeded | failed | missed | interrupted
    error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    runner: str = ""


@dataclass(frozen=True)
class ScheduleInfo:
    id: str
    tenant: str
    kind: str
    cron: str
    timezone: str
    options: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    next_run: datetime | None = None  # in the schedule's time zone
    last_run: RunInfo | None = None


@dataclass(frozen=True)
class JobSpec:
    """What the scheduler needs to keep one job: derived from an enabled schedule.

    ``name`` carries a fingerprint of the definition, so a scheduler can tell a job it
    already holds from one whose schedule changed. ``first_run`` is the first time to run
    when the job is (re)created: the first fire time after the schedule was last changed
    and after its last recorded run, but no earlier than the misfire window allows.
    """

    id: str
    name: str
    trigger: CronTrigger
    misfire_grace_time: int  # seconds
    first_run: datetime | None


def normalise_kind(kind: str) -> str:
    """``monthly-report`` (command line) and ``monthly_report`` (stored) are the same kind."""
    name = kind.strip().lower().replace("-", "_")
    if name not in KINDS:
        raise UsageError(
            f"unknown schedule kind '{kind}'", hint="use scan, monthly-report or retention"
        )
    return name


def _crontab_weekdays(field_text: str) -> str:
    """Standard cron weekday numbers (0 and 7 = Sunday) as names APScheduler reads.

    APScheduler 3 counts 0 as Monday; names mean the same everywhere.
    """

    def name(match: re.Match[str]) -> str:
        number = int(match.group())
        if number > 7:
            raise UsageError(f"invalid day of week {number} in cron expression: use 0-7")
        return _WEEKDAYS[number]

    parts = []
    for part in field_text.split(","):
        base, slash, step = part.partition("/")
        parts.append(_DOW_NUMBER.sub(name, base) + slash + step)
    return ",".join(parts)


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger of a five-field crontab expression in a time zone; clear errors."""
    fields = cron.split()
    if len(fields) != 5:
        raise UsageError(
            f"invalid cron expression '{cron}': it needs five fields "
            "(minute hour day-of-month month day-of-week)",
            hint='e.g. "0 3 * * *" for every day at 03:00',
        )
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=zone(timezone),
        )
    except ValueError as exc:
        raise UsageError(f"invalid cron expression '{cron}': {exc}") from exc


def next_fire_times(cron: str, timezone: str, after: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` times the expression fires after ``after``, in its time zone."""
    trigger = cron_trigger(cron, timezone)
    times: list[datetime] = []
    previous: datetime | None = None
    moment = after + timedelta(microseconds=1)
    while len(times) < count:
        fire: datetime | None = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        times.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return times


def monthly_cron(day: int | str, at: str) -> str:
    """The crontab expression of "day ``day`` of every month at ``at`` (HH:MM)"."""
    match = _TIME.match(at.strip())
    if not match:
        raise UsageError(f"--time takes HH:MM (24-hour), got '{at}'")
    text = str(day).strip().lower()
    if text != "last":
        try:
            number = int(text)
        except ValueError:
            number = 0
        if not 1 <= number <= 28:
            raise UsageError(
                f"--day takes 1 to 28 or 'last', got '{day}'",
                hint="days 29 to 31 do not exist in every month; use 'last' for month end",
            )
        text = str(number)
    return f"{int(match.group(2))} {int(match.group(1))} {text} * *"


def previous_month(scheduled_for: datetime, timezone: str) -> str:
    """``YYYY-MM`` of the month before the one ``scheduled_for`` falls in, in the zone."""
    local = scheduled_for.astimezone(zone(timezone))
    last_day = local.replace(day=1) - timedelta(days=1)
    return f"{last_day.year:04d}-{last_day.month:02d}"


# the options of each kind, and the command-line flag that sets each
OPTIONS = {
    "scan": {"connections": "--connection", "policies": "--policy"},
    "monthly_report": {"formats": "--format", "languages": "--lang", "out": "--out"},
    "retention": {"days": "--days", "audit_dir": "--audit-dir"},
}


def _check_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in options.items() if v not in (None, [], "")}
    for key in clean:
        if key not in OPTIONS[kind]:
            owner = next((k for k, names in OPTIONS.items() if key in names), None)
            if owner is None:
                raise UsageError(f"unknown schedule option '{key}'")
            flag, other = OPTIONS[owner][key], owner.replace("_", "-")
            raise UsageError(f"{flag} is for --kind {other}, not {kind.replace('_', '-')}")
    if kind == "monthly_report":
        formats = [str(f) for f in clean.get("formats", ["pdf"])]
        for fmt in formats:
            if fmt not in FORMATS:
                raise UsageError(f"--format takes html or pdf, got '{fmt}'")
        clean["formats"] = formats
        clean["languages"] = check_choices(
            "--lang", [str(x) for x in clean.get("languages", [])], LANGUAGES
        )
        if "out" in clean:  # the scheduler may run in another folder than the command
            clean["out"] = str(Path(str(clean["out"])).expanduser().resolve())
    if kind == "retention":
        days = clean.setdefault("days", DEFAULT_RESULT_DAYS)
        if not isinstance(days, int) or days < 1:
            raise UsageError(f"--days takes a number of days of at least 1, got '{days}'")
        if "audit_dir" in clean:
            clean["audit_dir"] = str(Path(str(clean["audit_dir"])).expanduser().resolve())
    if kind == "scan":
        for key in ("connections", "policies"):
            clean[key] = [str(x) for x in clean.get(key, [])]
    return clean


@audited("schedule.add", lambda s, a, k: (s.tenant, s.id, {"kind": s.kind, "cron": s.cron}))
def add_schedule(
    ops: Operations,
    tenant: str | None,
    kind: str,
    *,
    cron: str | None = None,
    day: int | str | None = None,
    at: str | None = None,
    timezone: str | None = None,
    options: dict[str, Any] | None = None,
    enabled: bool = True,
    now: datetime | None = None,
) -> ScheduleInfo:
    """Add a schedule; a monthly report takes ``day`` and ``at`` (HH:MM) or a cron.

    ``now`` is when the schedule counts as created: its first run is the first fire
    time after it.
    """
    name = normalise_kind(kind)
    if day is not None or at is not None:
        if name != "monthly_report":
            raise UsageError("--day and --time are for --kind monthly-report; use --cron")
        if cron:
            raise UsageError("give either --cron or --day/--time, not both")
        if day is None:
            raise UsageError("--kind monthly-report needs --day (1-28 or 'last')")
        cron = monthly_cron(day, at or "09:00")
    if not cron:
        hint = (
            "e.g. --day 3 --time 09:00"
            if name == "monthly_report"
            else 'e.g. --cron "0 3 * * *" (every day at 03:00)'
        )
        raise UsageError(f"a {name.replace('_', '-')} schedule needs a time", hint=hint)
    clean = _check_options(name, dict(options or {}))
    moment = now or datetime.now(UTC)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        tz = timezone or ten.timezone
        cron_trigger(cron, tz)  # validates both
        row = Schedule(
            tenant_id=ten.id,
            kind=name,
            cron=" ".join(cron.split()),
            timezone=tz,
            options=clean,
            enabled=enabled,
            created_at=moment,
            updated_at=moment,
        )
        session.add(row)
        session.flush()
        return _info(session, row, ten.slug, moment)


def _info(session: Session, row: Schedule, slug: str, now: datetime) -> ScheduleInfo:
    last = session.exec(
        select(JobRun)
        .where(JobRun.schedule_id == row.id)
        .order_by(col(JobRun.scheduled_for).desc())
        .limit(1)
    ).first()
    upcoming = next_fire_times(row.cron, row.timezone, now) if row.enabled else []
    return ScheduleInfo(
        id=row.id,
        tenant=slug,
        kind=row.kind,
        cron=row.cron,
        timezone=row.timezone,
        options=dict(row.options),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_run=upcoming[0] if upcoming else None,
        last_run=_run_info(last, slug) if last else None,
    )


def _run_info(run: JobRun, slug: str) -> RunInfo:
    return RunInfo(
        schedule_id=run.schedule_id,
        tenant=slug,
        kind=run.kind,
        scheduled_for=run.scheduled_for,
        started_at=run.started_at,
        finished_at=run.finished_at,
        outcome=run.outcome,
        error=run.error,
        detail=dict(run.detail),
        runner=run.runner,
    )


def list_schedules(
    ops: Operations, tenant: str | None = None, *, now: datetime | None = None
) -> list[ScheduleInfo]:
    """Schedules of one tenant, or of every tenant when none is named."""
    moment = now or datetime.now(UTC)
    with ops.session() as session:
        query = select(Schedule, Tenant.slug).join(
            Tenant, col(Tenant.id) == col(Schedule.tenant_id)
        )
        if tenant:
            query = query.where(Schedule.tenant_id == get_tenant(session, tenant).id)
        rows = session.exec(query.order_by(col(Tenant.slug), col(Schedule.created_at)))
        return [_info(session, row, slug, moment) for row, slug in rows]


def find_schedule(session: Session, schedule_id: str, tenant_id: str | None = None) -> Schedule:
    """The schedule whose id is or starts with ``schedule_id`` (of one tenant, if given)."""
    prefix = schedule_id.strip().lower()
    if not prefix:
        raise UsageError("a schedule id (or the start of one) is required")
    query = select(Schedule).where(col(Schedule.id).startswith(prefix, autoescape=True))
    if tenant_id is not None:
        query = query.where(Schedule.tenant_id == tenant_id)
    matches = list(session.exec(query.limit(SHOWN_CANDIDATES + 1)))
    exact = [s for s in matches if s.id == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise ConfigurationError(
            f"no schedule with id '{schedule_id}'", hint="list them with: posture schedule list"
        )
    if len(matches) > 1:
        shown = ", ".join(s.id for s in matches[:SHOWN_CANDIDATES])
        raise UsageError(
            f"schedule id '{schedule_id}' is ambiguous; it starts {shown}",
            hint="give more characters of the id",
        )
    return matches[0]


@audited("schedule.remove", lambda s, a, k: (s.tenant, s.id, {"kind": s.kind}))
def remove_schedule(ops: Operations, schedule_id: str, tenant: str | None = None) -> ScheduleInfo:
    """Delete a schedule (its run history stays); a running scheduler drops its job."""
    moment = datetime.now(UTC)
    with ops.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        row = find_schedule(session, schedule_id, tenant_id)
        owner = session.get(Tenant, row.tenant_id)
        info = _info(session, row, owner.slug if owner else "", moment)
        session.delete(row)
        return info


@audited("schedule.change", lambda s, a, k: (s.tenant, s.id, {"enabled": s.enabled}))
def set_schedule_enabled(
    ops: Operations,
    schedule_id: str,
    enabled: bool,
    tenant: str | None = None,
    *,
    now: datetime | None = None,
) -> ScheduleInfo:
    """Pause or resume a schedule; a resumed one runs from its next fire time on."""
    moment = now or datetime.now(UTC)
    with ops.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        row = find_schedule(session, schedule_id, tenant_id)
        if row.enabled != enabled:
            row.enabled = enabled
            row.updated_at = moment
            session.add(row)
        owner = session.get(Tenant, row.tenant_id)
        return _info(session, row, owner.slug if owner else "", moment)


def list_runs(
    ops: Operations,
    tenant: str | None = None,
    *,
    schedule_id: str | None = None,
    limit: int = 20,
) -> list[RunInfo]:
    """The most recent runs, newest scheduled time first."""
    if limit < 1:
        raise UsageError("the number of runs to list must be at least 1")
    with ops.session() as session:
        query = select(JobRun, Tenant.slug).join(Tenant, col(Tenant.id) == col(JobRun.tenant_id))
        if tenant:
            query = query.where(JobRun.tenant_id == get_tenant(session, tenant).id)
        if schedule_id:
            prefix = schedule_id.strip().lower()
            query = query.where(col(JobRun.schedule_id).startswith(prefix, autoescape=True))
        rows = session.exec(
            query.order_by(col(JobRun.scheduled_for).desc(), col(JobRun.id).desc()).limit(limit)
        )
        return [_run_info(run, slug) for run, slug in rows]


# -- what the scheduler face uses ------------------------------------------------------


class SharedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store, shared by the scheduler processes of a store.

    APScheduler assumes one process per job store. Here several may run: a job another
    process removed (its schedule was removed) is then simply gone, not an error that
    stops the scheduler. Double runs are prevented by ``run_schedule``, not by the store.
    """

    def update_job(self, job: Job) -> None:
        with contextlib.suppress(JobLookupError):
            super().update_job(job)


def job_store(ops: Operations) -> SQLAlchemyJobStore:
    """APScheduler's job store in the same database as the store, its table created."""
    jobs = SharedJobStore(engine=ops.store().engine, tablename=JOB_TABLE)
    try:
        jobs.jobs_t.create(ops.store().engine, checkfirst=True)
    except SQLAlchemyError:  # another scheduler created it at the same moment
        jobs.jobs_t.create(ops.store().engine, checkfirst=True)
    return jobs


def schedules_version(ops: Operations) -> tuple[int, datetime | None]:
    """Changes whenever a schedule is added, changed or removed: cheap to poll."""
    with ops.session() as session:
        count, newest = session.exec(
            select(func.count(col(Schedule.id)), func.max(col(Schedule.updated_at)))
        ).one()
        return int(count), newest


def _fingerprint(row: Schedule) -> str:
    text = json.dumps(
        [row.kind, row.cron, row.timezone, row.options, row.updated_at.isoformat()],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def job_specs(ops: Operations, *, now: datetime | None = None) -> list[JobSpec]:
    """The jobs the scheduler must hold: one per enabled schedule."""
    moment = now or datetime.now(UTC)
    with ops.session() as session:
        rows = session.exec(
            select(Schedule, Tenant.slug)
            .join(Tenant, col(Tenant.id) == col(Schedule.tenant_id))
            .where(col(Schedule.enabled).is_(True))
            .order_by(col(Schedule.id))
        )
        last_runs = dict(
            session.exec(
                select(JobRun.schedule_id, func.max(col(JobRun.scheduled_for))).group_by(
                    col(JobRun.schedule_id)
                )
            ).all()
        )
        specs = []
        for row, slug in rows:
            grace = GRACE[row.kind]
            trigger = cron_trigger(row.cron, row.timezone)
            anchor = max(row.updated_at, moment - grace)
            last = last_runs.get(row.id)
            if last is not None:
                anchor = max(anchor, _aware(last) + timedelta(microseconds=1))
            specs.append(
                JobSpec(
                    id=row.id,
                    name=f"{slug} {row.kind} [{_fingerprint(row)}]",
                    trigger=trigger,
                    misfire_grace_time=int(grace.total_seconds()),
                    first_run=trigger.get_next_fire_time(None, anchor),
                )
            )
        return specs


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def close_interrupted_runs(ops: Operations, *, host: str | None = None) -> list[RunInfo]:
    """Mark ``interrupted`` the runs still ``running`` whose scheduler process on this host
    (``host:pid`` in ``runner``) is gone; runs of other hosts are left to their own
    schedulers. Returns the runs closed."""
    here = host or socket.gethostname()
    closed: list[RunInfo] = []
    with ops.session() as session:
        rows = session.exec(select(JobRun).where(JobRun.outcome == "running"))
        for run in rows:
            name, _, pid = run.runner.rpartition(":")
            if name != here or not pid.isdigit() or _process_exists(int(pid)):
                continue
            run.outcome = "interrupted"
            run.finished_at = datetime.now(UTC)
            run.error = "the scheduler process stopped during the run"
            session.add(run)
            ten = session.get(Tenant, run.tenant_id)
            closed.append(_run_info(run, ten.slug if ten else ""))
    return closed


def run_schedule(
    ops: Operations,
    schedule_id: str,
    scheduled_for: datetime,
    *,
    runner: str | None = None,
) -> RunInfo | None:
    """Run a schedule for one scheduled time, once; ``None`` when it is not to run.

    Not to run: the schedule was removed or disabled, or another scheduler (or an earlier
    start of this one) has already claimed that scheduled time. A run that fails is
    recorded with its error and returned, not raised.
    """
    when = _aware(scheduled_for).astimezone(UTC)
    with ops.session() as session:
        row = session.get(Schedule, schedule_id)
        if row is None or not row.enabled:
            return None
        ten = session.get(Tenant, row.tenant_id)
        if ten is None:
            return None
        slug, kind, sched = ten.slug, row.kind, row  # detached copy: kept after commit
    claim = JobRun(
        schedule_id=schedule_id,
        tenant_id=sched.tenant_id,
        kind=kind,
        scheduled_for=when,
        started_at=datetime.now(UTC),
        runner=runner if runner is not None else runner_name(),
    )
    try:
        with ops.session() as session:
            session.add(claim)
    except IntegrityError:
        return None  # claimed by another scheduler, or already run
    outcome, error, detail = "succeeded", "", {}
    try:
        detail = _execute(ops, sched, slug, when)
        if detail.get("status") == "failed":
            outcome, error = "failed", str(detail.get("message", "the scan failed"))
    except TenantPaused as exc:
        outcome, error = "paused", str(exc)
    except PostureError as exc:
        outcome, error = "failed", str(exc)
    except Exception as exc:  # recorded, so the history shows it; the face logs it too
        outcome, error = "failed", f"unexpected {type(exc).__name__}: {exc}"
    with ops.session() as session:
        run = session.get(JobRun, claim.id)
        assert run is not None
        run.finished_at = datetime.now(UTC)
        run.outcome, run.error, run.detail = outcome, error, detail
        session.add(run)
        return _run_info(run, slug)


def record_missed(
    ops: Operations, schedule_id: str, scheduled_for: datetime, *, runner: str | None = None
) -> RunInfo | None:
    """Record that a scheduled time passed beyond its misfire window without a run.

    ``None`` when the schedule is gone or that time has a run already (another
    scheduler ran it).
    """
    when = _aware(scheduled_for).astimezone(UTC)
    moment = datetime.now(UTC)
    try:
        with ops.session() as session:
            row = session.get(Schedule, schedule_id)
            ten = session.get(Tenant, row.tenant_id) if row is not None else None
            if row is None or ten is None:
                return None
            run = JobRun(
                schedule_id=schedule_id,
                tenant_id=row.tenant_id,
                kind=row.kind,
                scheduled_for=when,
                started_at=moment,
                finished_at=moment,
                outcome="missed",
                error=(
                    f"no scheduler was running within {_span(GRACE[row.kind])} of the "
                    f"scheduled time (found {_span(moment - when)} late)"
                ),
                runner=runner if runner is not None else runner_name(),
            )
            session.add(run)
            session.flush()
            return _run_info(run, ten.slug)
    except IntegrityError:
        return None


def _span(delta: timedelta) -> str:
    """``7 days``, ``10 days 11 hours``, ``6 hours``, ``3 minutes``: for messages."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(shown) or "less than a minute"


def report_folder(tenant: Tenant) -> Path:
    """Where scheduled reports of a tenant go: its ``report_dir`` option, or
    ``$POSTURE_HOME/reports/<tenant>`` (``~/.posture`` by default)."""
    configured = tenant.options.get("report_dir")
    if configured:
        return Path(str(configured)).expanduser()
    home = os.environ.get("POSTURE_HOME")
    return (Path(home) if home else Path.home() / ".posture") / "reports" / tenant.slug


def audit_archive_folder() -> Path:
    """Where a retention run moves audit entries past their retention:
    ``$POSTURE_HOME/audit-archive`` (``~/.posture`` by default)."""
    home = os.environ.get("POSTURE_HOME")
    return (Path(home) if home else Path.home() / ".posture") / "audit-archive"


def _execute(ops: Operations, sched: Schedule, slug: str, when: datetime) -> dict[str, Any]:
    options = sched.options
    if sched.kind in ("scan", "monthly_report"):  # retention still runs for a paused tenant
        with ops.session() as session:
            check_active(get_tenant(session, slug))
    if sched.kind == "scan":
        outcome = scan_tenant(
            ops,
            slug,
            connections=options.get("connections", []),
            policies=options.get("policies", []),
            notify=False,
        )
        # the automatic mode of setting repair, then one notification saying both
        try:
            fixed = auto_fix(ops, slug)
        except PostureError as exc:  # a bad option must not lose the scan's notification
            log.error("automatic setting repair of %s failed: %s", slug, exc)
            fixed = []
        notify_scan(ops, outcome)
        scanned: dict[str, Any] = {"scan": outcome.scan_id, "status": outcome.status}
        if fixed:
            scanned["fixes"] = {run.id: run.state for run in fixed}
        return scanned
    if sched.kind == "monthly_report":
        with ops.session() as session:
            ten = get_tenant(session, slug)
            out = Path(str(options["out"])) if options.get("out") else report_folder(ten)
        # the month before the run, as the report reads months: in the tenant's zone
        period = previous_month(when, ten.timezone)
        report = generate_report(
            ops,
            slug,
            formats=options.get("formats", ["pdf"]),
            languages=options.get("languages", []),
            period=period,
            out=out,
        )
        return {
            "period": report.period.label,
            "files": [str(p) for p in report.paths],
            "gaps": report.gaps,
        }
    retention = run_retention(ops, slug, result_days=int(options.get("days", DEFAULT_RESULT_DAYS)))
    # the audit log is one chain for the whole service: entries past its retention are
    # written to a file, complete on disk, before they are deleted (idempotent: a second
    # run the same day finds nothing left to move)
    folder = Path(str(options["audit_dir"])) if options.get("audit_dir") else audit_archive_folder()
    folder.mkdir(parents=True, exist_ok=True)
    moved = purge_audit(ops, folder / purge_file_name())
    detail: dict[str, Any] = {"removed": retention.removed, "cutoff": retention.cutoff.isoformat()}
    detail["audit"] = {"moved": moved.purged, "file": str(moved.path) if moved.path else None}
    return detail
