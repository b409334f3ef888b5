"""The plain values a notification is made of, read from the store before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    """One finding that became new (``opened``) or ``reopened`` in a scan."""

    finding_id: str
    event: str  # opened | reopened
    severity: str
    policy_id: str
    # customer-facing texts by language: {"en": ..., "ja": ...}
    title: dict[str, str]
    statement: dict[str, str]
    recommendation: dict[str, str]
    resource_uid: str
    resource_name: str
    resource_type: str
    region: str
    connection: str
    scan_id: str
    link: str = ""  # to the finding in the console, when the channel knows its address


@dataclass(frozen=True)
class FixItem:
    """A fix the automatic mode ran since the tenant's last notification."""

    run_id: str
    fix_id: str
    title: dict[str, str]  # by language
    resource: str
    state: str  # verified | failed | aborted | rolled_back


@dataclass(frozen=True)
class Message:
    """What one delivery says: one finding, a digest of several, or a test."""

    tenant_slug: str
    tenant_name: str
    locale: str  # ja | en: the tenant's language
    channel: str
    threshold: str  # the channel's minimum severity
    items: list[Item] = field(default_factory=list)
    digest: bool = False
    test: bool = False
    delivery_id: str = ""  # lets a receiver drop a request it has already processed
    fixes: list[FixItem] = field(default_factory=list)  # automatic fixes since the last one
