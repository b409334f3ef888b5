"""APScheduler 3 jobs derived from the schedule table, run through the operations layer.

The jobs live in APScheduler's SQLAlchemy job store in the same database as the store, so a
scheduler that was down finds the runs it missed: each job coalesces missed runs into one
and runs it when the scheduler comes back within the kind's misfire window (days for the
monthly report). The schedule table stays the source of truth: at start, and whenever a
poll sees a schedule added, changed or removed (by the CLI in another process, say), the
jobs are brought in line with it.

Several scheduler processes may share one database. Each may fire the same job; the run
itself is claimed in ``job_run`` (see ``posture.operations.schedules``), so only one of them
does the work for a scheduled time.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as Pool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from posture.operations import Operations
from posture.operations.schedules import (
    close_interrupted_runs,
    job_specs,
    job_store,
    record_missed,
    run_schedule,
    schedules_version,
)
from posture.worker.executor import use_configured_executor

log = logging.getLogger("posture.scheduler")
JOB_FUNC = "posture.scheduler.service:run_scheduled"
JOBS = "default"  # the persistent job store (one job per schedule)
INTERNAL = "internal"  # this process's own housekeeping (the sync poll)


def run_scheduled(
    schedule_id: str, *, ops: Operations | None = None, scheduled_for: datetime | None = None
) -> str:
    """What a schedule's job calls: run it once for its scheduled time, and log the run.

    ``ScheduleExecutor`` supplies ``ops`` and ``scheduled_for``; the stored job holds
    only the schedule id (no database URL or secret is pickled into the job store).
    """
    if ops is None or scheduled_for is None:
        raise RuntimeError("schedule jobs run through ScheduleExecutor")
    started = time.monotonic()
    run = run_schedule(ops, schedule_id, scheduled_for)
    when = scheduled_for.astimezone(UTC).isoformat(timespec="seconds")
    if run is None:
        log.info(
            "schedule %s for %s: not run here (already claimed, removed or disabled)",
            schedule_id,
            when,
        )
        return "skipped"
    took = time.monotonic() - started
    if run.outcome == "succeeded":
        log.info(
            "schedule %s (%s %s) for %s: succeeded in %.1fs %s",
            schedule_id,
            run.tenant,
            run.kind,
            when,
            took,
            run.detail,
        )
    else:
        log.error(
            "schedule %s (%s %s) for %s: failed in %.1fs: %s",
            schedule_id,
            run.tenant,
            run.kind,
            when,
            took,
            run.error,
        )
    return run.outcome


class _AtRunTime:
    """A job seen at one scheduled time: APScheduler's ``run_job`` calls
    ``func(*args, **kwargs)``, and these kwargs add the operations context and that time."""

    def __init__(self, job: Job, kwargs: dict[str, Any]) -> None:
        self._job = job
        self.kwargs = kwargs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class ScheduleExecutor(BasePoolExecutor):  # type: ignore[misc]
    """A thread pool that hands each schedule job its operations context and run time.

    APScheduler 3 does not tell a job when it was scheduled for; the exactly-once claim
    needs it. Missed runs are coalesced, so a job gets one run time at a time.
    """

    def __init__(self, ops: Operations, max_workers: int = 4) -> None:
        super().__init__(Pool(max_workers, thread_name_prefix="posture-job"))
        self._ops = ops

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if job.func is not run_scheduled:
            super()._do_submit_job(job, run_times)
            return
        last = run_times[-1]
        timed = _AtRunTime(job, {**job.kwargs, "ops": self._ops, "scheduled_for": last})
        future: Future[Any] = self._pool.submit(
            run_job, timed, job._jobstore_alias, [last], self._logger.name
        )
        future.add_done_callback(self._done(job.id))

    def _done(self, job_id: str) -> Callable[[Future[Any]], None]:
        def callback(future: Future[Any]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job_id, exc, exc.__traceback__)
            else:
                self._run_job_success(job_id, future.result())

        return callback


@dataclass
class SyncOutcome:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


class SchedulerService:
    """One scheduler process over one store; ``start``, then ``shutdown``."""

    def __init__(
        self, ops: Operations, *, poll_seconds: float = 30.0, max_workers: int = 4
    ) -> None:
        # scans go to the workers when an executor is configured (POSTURE_BROKER_URL)
        self.ops = use_configured_executor(ops)
        self.poll_seconds = poll_seconds
        self.max_workers = max_workers
        self._scheduler: BackgroundScheduler | None = None
        self._version: tuple[int, datetime | None] | None = None
        self._lock = threading.Lock()

    @property
    def scheduler(self) -> BackgroundScheduler:
        if self._scheduler is None:
            raise RuntimeError("the scheduler has not been started")
        return self._scheduler

    def start(self) -> SyncOutcome:
        """Load the jobs, bring them in line with the schedules, then start running them."""
        for run in close_interrupted_runs(self.ops):
            log.warning(
                "schedule %s (%s %s) for %s was interrupted: its scheduler process stopped",
                run.schedule_id,
                run.tenant,
                run.kind,
                run.scheduled_for.isoformat(timespec="seconds"),
            )
        scheduler = BackgroundScheduler(
            jobstores={JOBS: job_store(self.ops), INTERNAL: MemoryJobStore()},
            executors={"default": ScheduleExecutor(self.ops, self.max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler = scheduler
        scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        scheduler.start(paused=True)
        outcome = self.sync()
        scheduler.add_job(
            self.poll,
            "interval",
            seconds=self.poll_seconds,
            id="posture-sync",
            jobstore=INTERNAL,
            coalesce=True,
            max_instances=1,
        )
        scheduler.resume()
        log.info(
            "scheduler started: %d job(s) (%d new, %d changed, %d removed)",
            len(outcome.added) + len(outcome.replaced) + len(outcome.kept),
            len(outcome.added),
            len(outcome.replaced),
            len(outcome.removed),
        )
        return outcome

    def sync(self) -> SyncOutcome:
        """Make the job store hold exactly one job per enabled schedule, as defined now."""
        with self._lock:
            scheduler = self.scheduler
            version = schedules_version(self.ops)
            outcome = SyncOutcome()
            held = {job.id: job for job in scheduler.get_jobs(jobstore=JOBS)}
            for spec in job_specs(self.ops):
                job = held.pop(spec.id, None)
                if job is not None and job.name == spec.name:
                    outcome.kept.append(spec.id)
                    continue
                if spec.first_run is None:  # no fire time left: nothing to hold
                    if job is not None:
                        self._remove(spec.id)
                        outcome.removed.append(spec.id)
                    continue
                scheduler.add_job(
                    JOB_FUNC,
                    trigger=spec.trigger,
                    args=[spec.id],
                    id=spec.id,
                    name=spec.name,
                    jobstore=JOBS,
                    misfire_grace_time=spec.misfire_grace_time,
                    coalesce=True,
                    max_instances=1,
                    replace_existing=True,
                    next_run_time=spec.first_run,
                )
                (outcome.added if job is None else outcome.replaced).append(spec.id)
            for job_id in held:
                self._remove(job_id)
                outcome.removed.append(job_id)
            self._version = version
            for name in ("added", "replaced", "removed"):
                for job_id in getattr(outcome, name):
                    log.info("schedule %s: job %s", job_id, name)
            return outcome

    def _missed(self, event: JobExecutionEvent) -> None:
        """A run found too late (beyond the kind's window) is recorded as missed."""
        if event.jobstore != JOBS:
            return
        try:
            run = record_missed(self.ops, event.job_id, event.scheduled_run_time)
        except Exception:
            log.exception("could not record the missed run of schedule %s", event.job_id)
            return
        if run is not None:
            log.warning(
                "schedule %s (%s %s) for %s: missed; %s",
                event.job_id,
                run.tenant,
                run.kind,
                run.scheduled_for.isoformat(timespec="seconds"),
                run.error,
            )

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):  # another scheduler removed it first
            self.scheduler.remove_job(job_id, jobstore=JOBS)

    def poll(self) -> None:
        """Re-sync when the schedules changed; look at the job store again either way
        (another scheduler process may have changed it)."""
        try:
            if schedules_version(self.ops) != self._version:
                self.sync()
        except Exception:  # a database hiccup must not stop the scheduler
            log.exception("could not read the schedules; trying again in %ss", self.poll_seconds)
        self.scheduler.wakeup()

    def next_run_times(self) -> dict[str, datetime | None]:
        """The next run time of every schedule job this scheduler holds."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs(jobstore=JOBS)}

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing jobs; with ``wait``, let the running ones finish first."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            log.info("scheduler stopped")


def run_until_signalled(
    service: SchedulerService, *, started: Callable[[SyncOutcome], None] | None = None
) -> None:
    """Run in the foreground until SIGINT or SIGTERM, then stop after the running jobs.

    A run cut short by a second signal keeps its ``job_run`` row ``running``.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info(
            "received %s: stopping after the running jobs (signal again to stop at once)",
            signal.Signals(signum).name,
        )
        stop.set()
        for sig in previous:  # a second signal ends the process without waiting
            signal.signal(sig, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = service.start()
        if started is not None:
            started(outcome)
        while not stop.wait(1.0):
            pass
    finally:
        service.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
