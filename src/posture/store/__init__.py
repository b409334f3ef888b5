"""Persistence: tenants, connections, scans, resources, findings, their events, waivers and
notifications."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    Connection,
    Finding,
    FindingEvent,
    Notification,
    NotificationChannel,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Tenant,
    Waiver,
)

__all__ = [
    "Connection",
    "Finding",
    "FindingEvent",
    "Notification",
    "NotificationChannel",
    "ResourceRecord",
    "ResultRecord",
    "Scan",
    "ScanResource",
    "ScanTarget",
    "Store",
    "Tenant",
    "Waiver",
    "default_url",
    "make_engine",
    "migrate",
]
