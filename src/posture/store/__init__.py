"""Persistence: tenants, connections, scans, resources, findings and notifications."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    Connection,
    Finding,
    Notification,
    NotificationChannel,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Tenant,
)

__all__ = [
    "Connection",
    "Finding",
    "Notification",
    "NotificationChannel",
    "ResourceRecord",
    "ResultRecord",
    "Scan",
    "ScanResource",
    "ScanTarget",
    "Store",
    "Tenant",
    "default_url",
    "make_engine",
    "migrate",
]
