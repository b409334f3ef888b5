"""Persistence: tenants, connections, scans, resources, findings, their events, waivers,
notifications, schedules and the audit log."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    Connection,
    Finding,
    FindingEvent,
    JobRun,
    Notification,
    NotificationChannel,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Schedule,
    Tenant,
    Waiver,
)

__all__ = [
    "Connection",
    "Finding",
    "FindingEvent",
    "JobRun",
    "Notification",
    "NotificationChannel",
    "ResourceRecord",
    "ResultRecord",
    "Scan",
    "ScanResource",
    "ScanTarget",
    "Schedule",
    "Store",
    "Tenant",
    "Waiver",
    "default_url",
    "make_engine",
    "migrate",
]
