"""Persistence: tenants, connections, scans, resources and findings."""

from posture.store.db import Store, default_url, make_engine, migrate
from posture.store.tables import (
    AuditChain,
    AuditEntry,
    Connection,
    Finding,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Tenant,
)

__all__ = [
    "AuditChain",
    "AuditEntry",
    "Connection",
    "Finding",
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
