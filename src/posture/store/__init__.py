"""Persistence: tenants, connections, scans, resources, findings and schedules."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    Connection,
    Finding,
    JobRun,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Schedule,
    Tenant,
)

__all__ = [
    "Connection",
    "Finding",
    "JobRun",
    "ResourceRecord",
    "ResultRecord",
    "Scan",
    "ScanResource",
    "ScanTarget",
    "Schedule",
    "Store",
    "Tenant",
    "default_url",
    "make_engine",
    "migrate",
]
