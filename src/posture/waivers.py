"""Which findings a waiver covers, and whether it is in force: pure rules, no store access.

The same rules serve the lifecycle (a scan decides which findings are waived) and the
operations layer (``posture waiver add`` checks and applies them at once), so a waiver never
means one thing in a scan and another on the command line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

GLOB_CHARS = frozenset("*?[")


class WaiverLike(Protocol):
    """The fields of a stored waiver these rules read."""

    id: str
    policy: str
    resource: str
    tag_key: str
    tag_value: str
    connection_id: str | None
    whole_tenant: bool
    expires_at: datetime
    revoked_at: datetime | None


def policy_matches(pattern: str, policy_id: str) -> bool:
    """An exact id, an id prefix of whole parts (``aws.s3``) or a glob (``aws.s3.*``)."""
    if GLOB_CHARS & set(pattern):
        return fnmatch.fnmatchcase(policy_id, pattern)
    return policy_id == pattern or policy_id.startswith(pattern.rstrip(".") + ".")


def covers(
    waiver: WaiverLike,
    *,
    policy_id: str,
    resource_uid: str,
    tags: Mapping[str, str],
    connection_id: str,
) -> bool:
    """Does the waiver's scope include this finding? Every given criterion must hold."""
    if waiver.whole_tenant:
        return True
    if not (waiver.policy or waiver.resource or waiver.tag_key or waiver.connection_id):
        return False  # an empty scope covers nothing, never everything
    if waiver.policy and not policy_matches(waiver.policy, policy_id):
        return False
    if waiver.resource and not fnmatch.fnmatchcase(resource_uid, waiver.resource):
        return False
    if waiver.tag_key and tags.get(waiver.tag_key) != waiver.tag_value:
        return False
    return not waiver.connection_id or waiver.connection_id == connection_id


def in_force(waiver: WaiverLike, now: datetime) -> bool:
    """Neither revoked nor past the end of its expiry day."""
    return waiver.revoked_at is None and now < waiver.expires_at


def waiver_status(waiver: WaiverLike, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if waiver.revoked_at is not None:
        return "revoked"
    return "active" if now < waiver.expires_at else "expired"
