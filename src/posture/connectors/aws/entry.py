"""The AWS connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.collector import AwsCollector
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
    target = open_target(connection, parse_settings(connection, settings))
    return AwsCollector(target, specs, progress=progress).collect()


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Sign in and resolve the account and regions, without collecting anything."""
    target = open_target(connection, parse_settings(connection, settings))
    return {"account": target.account_id, "regions": target.regions, "partition": target.partition}
