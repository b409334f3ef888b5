"""The scheduler face: runs the tenants' schedules (``posture serve --scheduler``)."""

from posture.scheduler.service import SchedulerService, run_until_signalled

__all__ = ["SchedulerService", "run_until_signalled"]
