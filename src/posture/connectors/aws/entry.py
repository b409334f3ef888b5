"""The AWS connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.collector import AwsCollector
from posture.connectors.aws.organization import (
    check_organization,
    collect_organization,
    is_organization_type,
    mark_not_collected,
)
from posture.connectors.aws.session import AwsSettings, open_target
from posture.connectors.inventory import Inventory
from posture.connectors.settings import parse_settings as validate_settings


def parse_settings(connection: str, settings: dict[str, Any]) -> AwsSettings:
    return validate_settings(AwsSettings, connection, settings)


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
) -> Inventory:
    typed = parse_settings(connection, settings)
    if typed.organization:
        return collect_organization(connection, typed, specs, progress=progress)
    # organisation-level types are read by an organization connection only: no call here
    org_specs = [s for s in specs if is_organization_type(s)]
    account_specs = [s for s in specs if not is_organization_type(s)] if org_specs else specs
    target = open_target(connection, typed)
    inventory = AwsCollector(target, account_specs, progress=progress).collect()
    mark_not_collected(inventory, org_specs)
    return inventory


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Sign in and resolve the account and regions, without collecting anything; for an
    organisation also list its accounts and try each member role."""
    typed = parse_settings(connection, settings)
    if typed.organization:
        return check_organization(connection, typed)
    target = open_target(connection, typed)
    return {"account": target.account_id, "regions": target.regions, "partition": target.partition}
