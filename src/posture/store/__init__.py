"""Persistence: tenants, connections, scans, resources, findings, their events and waivers."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    Connection,
    Finding,
    FindingEvent,
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
